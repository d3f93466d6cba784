"""A real Celery worker on the real Redis is SIGKILLed while it delivers notifications from the outbox; after a
restart every notification is delivered and its effect exists exactly once."""
from __future__ import annotations

import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
import redis
from sqlalchemy import select

from minqing.core.models import Notification
from minqing.workflows import outbox
from minqing.workflows.tasks import make_celery

from tests.fixtures.processes import wait_for

BROKER = "redis://127.0.0.1:6379/15"
NOTIFICATIONS = 60
SHORT = "4"    # seconds: the broker's visibility timeout and the outbox's stale claim, shortened for the test


@pytest.fixture
def setting(database_url):
    queue, key = f"minqing-test-{uuid.uuid4().hex[:8]}", f"minqing-probe-{uuid.uuid4().hex[:8]}"
    env = {**os.environ, "MINQING_BROKER_URL": BROKER, "MINQING_DATABASE_URL": database_url,
           "MINQING_TASK_QUEUE": queue, "MINQING_PROBE_REDIS": BROKER, "MINQING_PROBE_KEY": key,
           "MINQING_TASK_VISIBILITY_SECONDS": SHORT, "MINQING_OUTBOX_STALE_SECONDS": SHORT}
    producer = make_celery(BROKER)
    producer.conf.task_default_queue = queue
    started: list[subprocess.Popen] = []

    def start() -> subprocess.Popen:
        process = subprocess.Popen([sys.executable, str(Path(__file__).with_name("probe_worker.py"))], env=env,
                                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        started.append(process)
        return process

    yield start, producer, key
    for process in started:
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(20)
            except subprocess.TimeoutExpired:
                process.kill()
    sink = redis.Redis.from_url(BROKER)
    for name in [*sink.keys(queue + "*"), *sink.keys(key + "*"), "unacked", "unacked_index"]:
        if name in ("unacked", "unacked_index"):
            continue   # kombu's shared bookkeeping: our message in it is gone once acknowledged
        sink.delete(name)


@pytest.mark.redis
def test_a_worker_killed_mid_delivery_loses_nothing_and_duplicates_no_effect(platform, setting):
    start, producer, key = setting
    sink = redis.Redis.from_url(BROKER)
    with platform.db.session() as session:
        for n in range(NOTIFICATIONS):
            outbox.add(session, kind="test", channel="probe", recipient=f"worker:{n}", subject=f"通知 {n}")

    def handed() -> dict[int, int]:
        return {int(k): int(v) for k, v in sink.hgetall(f"{key}:handed").items()}

    def statuses() -> dict[str, int]:
        with platform.db.session() as session:
            rows = session.scalars(select(Notification.status)).all()
        return {status: rows.count(status) for status in set(rows)}

    first = start()
    producer.send_task("minqing.deliver_notifications")
    assert wait_for(lambda: len(handed()) >= 10), "the first worker did not start delivering"
    first.kill()                                              # SIGKILL, mid-task
    first.wait(30)
    at_kill = statuses()
    assert at_kill.get("pending", 0) > 0, at_kill              # it really was killed before finishing

    start()                                                   # the restart: the unacknowledged task comes back
    assert wait_for(lambda: statuses().get("pending", 0) == 0), statuses()
    producer.send_task("minqing.redeliver_notifications")     # what beat sends every minute
    assert wait_for(lambda: statuses() == {"delivered": NOTIFICATIONS}), statuses()

    effects = {int(member) for member in sink.smembers(f"{key}:effects")}
    counts = handed()
    repeated = {notification_id: count for notification_id, count in counts.items() if count > 1}
    print(f"\nworker killed mid-task: at the kill {at_kill}; {sum(counts.values())} hand-overs for "
          f"{NOTIFICATIONS} notifications, {len(repeated)} handed twice; effects {len(effects)}")
    with platform.db.session() as session:
        ids = set(session.scalars(select(Notification.id)))
        delivered_by = set(session.scalars(select(Notification.delivered_by)))
    assert effects == ids                                     # every effect, each once
    assert len(repeated) <= 1 and all(count == 2 for count in repeated.values())   # only the one in flight
    assert delivered_by == {"probe"}
