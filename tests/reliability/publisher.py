"""Run as a script by test_tasks_and_beat.py: queue notifications in transactions that roll back, release a
savepoint or commit, with a real broker configured (MINQING_BROKER_URL), and print how many messages the queue
held at each point, as JSON."""
import json
import os

import redis

from minqing.core.platform import Platform
from minqing.workflows import outbox


def waiting() -> int:
    broker = redis.Redis.from_url(os.environ["MINQING_BROKER_URL"])
    return sum(broker.llen(key) for key in broker.keys(os.environ["MINQING_TASK_QUEUE"] + "*")
               if broker.type(key) == b"list")


def main() -> None:
    platform = Platform()
    seen = {}
    session = platform.db.sessionmaker()
    outbox.add(session, kind="test", recipient="department:water_affairs", subject="回滚的通知", platform=platform)
    session.flush()
    with session.begin_nested():
        outbox.add(session, kind="test", recipient="department:water_affairs", subject="回滚的通知", platform=platform)
    seen["rolled_back.after_savepoint"] = waiting()
    session.rollback()
    session.close()
    seen["rolled_back.after_rollback"] = waiting()

    session = platform.db.sessionmaker()
    with session.begin_nested():
        outbox.add(session, kind="test", recipient="department:water_affairs", subject="提交的通知", platform=platform)
    outbox.add(session, kind="test", recipient="department:water_affairs", subject="提交的通知", platform=platform)
    seen["committed.before_commit"] = waiting()
    session.commit()
    session.close()
    seen["committed.after_commit"] = waiting()
    print(json.dumps(seen))


if __name__ == "__main__":
    main()
