"""Background work under faults: tasks leave only after the commit, exactly one scheduler runs, and only
idempotent tasks are acknowledged late."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
import redis
from sqlalchemy import func, select

from minqing.core.models import Notification, Setting
from minqing.workflows.beat_lease import LEASE_NAME
from minqing.workflows.tasks import celery_app

from tests.fixtures.processes import stop, wait_for

BROKER = "redis://127.0.0.1:6379/15"
CLI = [sys.executable, "-c", "from minqing.core.cli import main; main()"]

# Audited by hand (see IDEMPOTENT_TASKS in workflows/tasks.py for why each is safe to run twice). A new task
# must be added to one of these lists, after asking whether running it twice does its work twice.
IDEMPOTENT = {"minqing.sla_sweep", "minqing.deliver_notifications", "minqing.redeliver_notifications",
              "minqing.periodic"}
NOT_IDEMPOTENT: set[str] = set()


def test_acks_late_only_for_the_idempotent_tasks():
    ours = {name: task for name, task in celery_app.tasks.items() if name.startswith("minqing.")}
    assert set(ours) == IDEMPOTENT | NOT_IDEMPOTENT, "a task nobody audited for acks_late"
    assert celery_app.conf.task_acks_late is False          # late acknowledgement is never the default
    for name, task in ours.items():
        assert task.acks_late is (name in IDEMPOTENT), name
        assert task.reject_on_worker_lost is (name in IDEMPOTENT), name


@pytest.fixture
def queue():
    name = f"minqing-test-{uuid.uuid4().hex[:8]}"
    yield name
    broker = redis.Redis.from_url(BROKER)
    for key in broker.keys(name + "*"):
        broker.delete(key)


@pytest.mark.redis
def test_a_transaction_that_rolls_back_publishes_nothing(platform, database_url, queue):
    env = {**os.environ, "MINQING_BROKER_URL": BROKER, "MINQING_TASK_QUEUE": queue,
           "MINQING_DATABASE_URL": database_url}
    done = subprocess.run([sys.executable, str(Path(__file__).with_name("publisher.py"))], env=env,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-3000:]
    seen = json.loads(done.stdout.strip().splitlines()[-1])
    assert seen == {"rolled_back.after_savepoint": 0, "rolled_back.after_rollback": 0,
                    "committed.before_commit": 0, "committed.after_commit": 1}
    message = json.loads(redis.Redis.from_url(BROKER).lrange(queue, 0, -1)[0])
    assert message["headers"]["task"] == "minqing.deliver_notifications"
    with platform.db.session() as session:
        assert sorted(session.scalars(select(Notification.subject))) == ["提交的通知", "提交的通知"]


# -- exactly one scheduler ----------------------------------------------------------------------------------------

def lease(platform) -> dict | None:
    with platform.db.session() as session:
        row = session.get(Setting, LEASE_NAME)
        return json.loads(row.value) if row else None


def start_beat(env, cwd) -> subprocess.Popen:
    return subprocess.Popen([*CLI, "beat"], env=env, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)


@pytest.mark.redis
def test_a_second_celery_beat_refuses_to_start_while_the_first_runs(platform, database_url, queue, tmp_path):
    env = {**os.environ, "MINQING_BROKER_URL": BROKER, "MINQING_TASK_QUEUE": queue,
           "MINQING_DATABASE_URL": database_url, "MINQING_BEAT_LEASE_SECONDS": "30"}
    first = start_beat(env, tmp_path)
    try:
        assert wait_for(lambda: lease(platform) is not None or first.poll() is not None)
        assert first.poll() is None, stop(first)
        second = subprocess.run([*CLI, "beat"], env=env, cwd=tmp_path, capture_output=True, text=True, timeout=120)
        assert second.returncode != 0
        assert "另一个定时调度（minqing beat）正在运行" in second.stderr and str(first.pid) in second.stderr
        assert first.poll() is None                          # the first one runs on undisturbed
    finally:
        output = stop(first)
    assert lease(platform) is None, output                   # given back when it stopped


def test_a_killed_scheduler_s_lease_expires_and_another_takes_over(platform, database_url, tmp_path):
    env = {key: value for key, value in os.environ.items() if key != "MINQING_BROKER_URL"}
    env.update(MINQING_DATABASE_URL=database_url, MINQING_BEAT_LEASE_SECONDS="3")   # embedded mode
    first = start_beat(env, tmp_path)
    try:
        assert wait_for(lambda: lease(platform) is not None or first.poll() is not None)
        held = lease(platform)
        assert held and f":{first.pid}:" in held["holder"], stop(first)
        first.kill()                                         # no chance to give the lease back
        first.wait(30)
        assert lease(platform) == held
        # the process manager restarts beat; one started while the dead holder's lease is still live would
        # refuse (the test above), so the restart comes once the lease has run out, as a restart delay makes it
        time.sleep(max(0.0, lease(platform)["until"] - time.time()) + 0.2)
        successor = start_beat(env, tmp_path)
        try:
            assert wait_for(lambda: (lease(platform) or held)["holder"] != held["holder"]
                            or successor.poll() is not None)
            assert f":{successor.pid}:" in lease(platform)["holder"]
            assert successor.poll() is None
        finally:
            stop(successor)
    finally:
        stop(first)
    assert lease(platform) is None


def test_notifications_committed_are_kept_when_the_broker_is_down(platform, database_url):
    """The other half of the outbox: a commit with no broker to publish to still keeps its rows for redelivery."""
    env = {**os.environ, "MINQING_BROKER_URL": "redis://127.0.0.1:1/0", "MINQING_TASK_QUEUE": "unused",
           "MINQING_DATABASE_URL": database_url}
    script = ("from minqing.core.platform import Platform\nfrom minqing.workflows import outbox\n"
              "platform = Platform()\nwith platform.db.session() as session:\n"
              "    outbox.add(session, kind='test', recipient='x', subject='断网时的通知', platform=platform)\n")
    done = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "notifications stay in the outbox" in done.stderr
    with platform.db.session() as session:
        assert session.scalar(select(func.count()).where(Notification.status == "pending")) == 1
