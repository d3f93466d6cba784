"""Background work on Celery: the SLA sweep, notification delivery, and the plugins' periodic tasks.

The broker comes from ``MINQING_BROKER_URL`` (Redis in production, e.g. ``redis://127.0.0.1:6379/0``). Without
it — the embedded default — tasks run in the calling process (``task_always_eager``), so a demo needs no
broker; ``minqing beat`` then runs the schedule in-process too. Workers open the database named by
``MINQING_DATABASE_URL`` and consume the queue ``MINQING_TASK_QUEUE`` (default "minqing").
"""
from __future__ import annotations

import logging
import os
import threading

from celery import Celery

log = logging.getLogger(__name__)
_platform_lock = threading.Lock()


def make_celery(broker_url: str | None = None) -> Celery:
    broker_url = broker_url if broker_url is not None else os.environ.get("MINQING_BROKER_URL", "")
    app = Celery("minqing", set_as_current=False)
    app.conf.update(
        broker_url=broker_url or "memory://",
        task_always_eager=not broker_url,
        task_eager_propagates=True,
        task_ignore_result=True,
        broker_connection_retry_on_startup=True,
        broker_connection_timeout=2,
        task_acks_late=True,                # a task a dead worker held is run again (every task is idempotent)
        worker_prefetch_multiplier=1,
        timezone="Asia/Shanghai",
        task_default_queue=os.environ.get("MINQING_TASK_QUEUE", "minqing"),
    )
    return app


celery_app = make_celery()


def platform():
    """The platform this worker serves, opened once per process (tests may set `celery_app.minqing_platform`)."""
    existing = getattr(celery_app, "minqing_platform", None)
    if existing is not None:
        return existing
    with _platform_lock:
        if getattr(celery_app, "minqing_platform", None) is None:
            from minqing.core.platform import Platform

            celery_app.minqing_platform = Platform()
        return celery_app.minqing_platform


@celery_app.task(name="minqing.sla_sweep")
def sla_sweep_task() -> dict:
    from . import sla

    result = sla.sweep(platform())
    return {"urged": result.urged, "escalated": result.escalated, "supervisions": result.supervisions}


@celery_app.task(name="minqing.deliver_notifications")
def deliver_task() -> int:
    from . import outbox

    return outbox.deliver(platform())


@celery_app.task(name="minqing.redeliver_notifications")
def redeliver_task() -> int:
    from . import outbox

    return outbox.redeliver(platform())


@celery_app.task(name="minqing.periodic")
def periodic_task(name: str) -> None:
    """Run one plugin's periodic task by name (skipped when its plugin is disabled meanwhile)."""
    run_periodic(platform(), name)


def run_periodic(current_platform, name: str) -> bool:
    for _plugin, declared in current_platform.plugins.collect("periodic_tasks"):
        if declared.get("name") == name:
            declared["run"](current_platform)
            return True
    log.warning("periodic task %s is no longer declared by an enabled plugin", name)
    return False


def enqueue_delivery(current_platform) -> None:
    """Ask for delivery of pending notifications: a task on the broker, or now, in-process, when embedded.

    A broker that cannot be reached is only logged: the rows are safe in the outbox and the periodic
    redelivery sends them once the broker is back."""
    if celery_app.conf.task_always_eager:
        from . import outbox

        try:
            outbox.deliver(current_platform)
        except Exception:  # delivery problems must never undo or fail the change that was just committed
            log.exception("in-process delivery of notifications failed; they stay in the outbox")
        return
    try:
        deliver_task.apply_async(retry=False)
    except Exception as error:
        log.warning("broker unreachable (%s); notifications stay in the outbox for redelivery", error)


def schedule(host) -> dict:
    """Celery beat's schedule: every plugin's periodic task (the workflow plugin's own sweep and redelivery
    among them), each run through `minqing.periodic`."""
    entries = {}
    for _plugin, declared in host.collect("periodic_tasks"):
        entries[declared["name"]] = {"task": "minqing.periodic", "schedule": float(declared["every"]),
                                     "args": (declared["name"],)}
    return entries


@celery_app.on_after_configure.connect
def _load_schedule(sender, **_kwargs) -> None:
    from minqing.core.plugin_host import PluginHost

    sender.conf.beat_schedule = schedule(PluginHost(None))
