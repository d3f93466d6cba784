"""A real Celery worker against the real Redis: the sweep and an outbox delivery make the round trip."""
from __future__ import annotations

import os
import subprocess
import sys
import uuid

import pytest
import redis
from sqlalchemy import select

from minqing.core.models import CaseEvent, Notification
from minqing.workflows import outbox
from minqing.workflows.tasks import make_celery

from tests.fixtures.processes import wait_for
from tests.fixtures.workflow import report

BROKER = "redis://127.0.0.1:6379/15"
WAIT_SECONDS = 60


@pytest.fixture
def worker(database_url):
    queue = f"minqing-test-{uuid.uuid4().hex[:8]}"  # our own queue: other runs on this Redis never interfere
    env = {**os.environ, "MINQING_BROKER_URL": BROKER, "MINQING_DATABASE_URL": database_url,
           "MINQING_TASK_QUEUE": queue}
    command = [sys.executable, "-c", "from minqing.core.cli import main; main()", "worker", "--loglevel=INFO"]
    process = subprocess.Popen(command, env=env,
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    producer = make_celery(BROKER)
    producer.conf.task_default_queue = queue
    try:
        yield producer, process
    finally:
        process.terminate()
        try:
            output = process.communicate(timeout=20)[0]
        except subprocess.TimeoutExpired:
            process.kill()
            output = process.communicate()[0]
        redis.Redis.from_url(BROKER).delete(queue)
        if os.environ.get("MINQING_SHOW_WORKER_LOG"):
            print(output.decode(errors="replace"))


@pytest.mark.redis
def test_worker_runs_the_sweep_and_delivers_notifications(platform, city, worker):
    producer, process = worker
    case_id = report(platform, city.worker)                  # reported in March: long past its time limit
    with platform.db.session() as session:                   # queued without asking for delivery
        outbox.add(session, kind="urge", recipient="department:water_affairs", subject="请尽快办理", case_id=case_id)

    def urged():
        with platform.db.session() as session:
            return session.scalar(select(CaseEvent.id).where(CaseEvent.case_id == case_id,
                                                             CaseEvent.action == "urge")) is not None

    def all_delivered():
        with platform.db.session() as session:
            return set(session.scalars(select(Notification.status))) == {"delivered"}

    producer.send_task("minqing.deliver_notifications")
    assert wait_for(all_delivered, WAIT_SECONDS), "the worker did not deliver the queued notification"
    producer.send_task("minqing.sla_sweep")
    assert wait_for(urged, WAIT_SECONDS), "the worker did not run the sweep"
    # the sweep's own urge notification went back through the broker to the worker's delivery task
    assert wait_for(all_delivered, WAIT_SECONDS)
    with platform.db.session() as session:
        kinds = sorted(session.scalars(select(Notification.kind)))
    assert kinds == ["report", "urge", "urge"]
    assert process.poll() is None, "the worker died"
