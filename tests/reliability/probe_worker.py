"""Run as a script by test_worker_killed.py: a real Celery worker (solo pool) whose platform has one more plugin,
a delivery channel "probe" that notes in Redis every time a notification is handed to it and then, idempotently
(keyed by the notification's id, as the `deliver_notification` hook asks), makes its effect."""
import os
import time

import redis

from minqing.core.hooks import hookimpl
from minqing.workflows.tasks import celery_app, platform

SINK = redis.Redis.from_url(os.environ["MINQING_PROBE_REDIS"])
KEY = os.environ["MINQING_PROBE_KEY"]


class Probe:
    @hookimpl
    def deliver_notification(self, notification):
        if notification["channel"] != "probe":
            return None
        SINK.hincrby(f"{KEY}:handed", notification["id"], 1)
        time.sleep(0.05)                                  # sending takes a while: long enough to be killed in
        SINK.sadd(f"{KEY}:effects", notification["id"])
        return True


if __name__ == "__main__":
    platform().plugins.register(Probe(), "probe")
    celery_app.worker_main(["worker", "--loglevel=INFO", "--pool=solo", "--concurrency=1"])
