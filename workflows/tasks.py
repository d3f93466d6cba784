"""Background work on Celery: the SLA sweep, notification delivery, and the plugins' periodic tasks.

The broker comes from ``MINQING_BROKER_URL`` (Redis in production, e.g. ``redis://127.0.0.1:6379/0``). Without
it — the embedded default — tasks run in the calling process (``task_always_eager``), so a demo needs no
broker; ``minqing beat`` then runs the schedule in-process too. Workers open the database named by
``MINQING_DATABASE_URL`` and consume the queue ``MINQING_TASK_QUEUE`` (default "minqing").

Acknowledged late (after the task ran, so a task held by a worker that died is run again) are only the tasks in
`IDEMPOTENT_TASKS`, each audited for it; any other task is acknowledged when it starts. On Redis, a message a dead
worker held comes back after ``MINQING_TASK_VISIBILITY_SECONDS`` (default 3600; keep it longer than any task).
"""
from __future__ import annotations

import contextvars
import logging
import os
import threading
import time
from collections.abc import Callable

from celery import Celery
from celery.signals import task_prerun

from minqing.core import counters

log = logging.getLogger(__name__)
_platform_lock = threading.Lock()

# Tasks that may run twice (or at once on two workers) without doing their work twice, and why:
IDEMPOTENT_TASKS = {
    "minqing.sla_sweep": "acts only on the sweep marks it inserted itself (ON CONFLICT DO NOTHING)",
    "minqing.deliver_notifications": "claims each outbox row with a conditional UPDATE before delivering it",
    "minqing.redeliver_notifications": "the same claims; gives up only claims older than outbox.STALE_CLAIM",
    "minqing.periodic": "runs a plugin's periodic task, which `periodic_tasks` requires to be idempotent",
}


def _redis_transport_options() -> dict[str, float]:
    """How long a task taken by a worker that then died stays invisible before Redis gives it to another worker,
    and how often workers look for such tasks. kombu (5.5+) scans only on every 10th 10-second tick by default,
    so a lost task could wait 100 s past its timeout; scanning on every tick costs one ZRANGEBYSCORE."""
    visibility = float(os.environ.get("MINQING_TASK_VISIBILITY_SECONDS", "3600"))
    return {"visibility_timeout": visibility,
            "unacked_restore_interval": max(1.0, min(10.0, visibility / 2)),
            "unacked_restore_throttle": 1}


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
        task_acks_late=False,               # late only where declared idempotent (see `_task`)
        broker_transport_options=_redis_transport_options(),
        worker_prefetch_multiplier=1,
        timezone="UTC",   # schedules are intervals; the city's local time is its setting (core.city), per task
        task_default_queue=os.environ.get("MINQING_TASK_QUEUE", "minqing"),
    )
    return app


celery_app = make_celery()


def _task(name: str):
    """A Celery task acknowledged late (and given back when its worker is lost) only if it is idempotent."""
    late = name in IDEMPOTENT_TASKS
    return celery_app.task(name=name, acks_late=late, reject_on_worker_lost=late)


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


@_task("minqing.sla_sweep")
def sla_sweep_task() -> dict:
    from . import sla

    result = sla.sweep(platform())
    return {"urged": result.urged, "escalated": result.escalated, "supervisions": result.supervisions}


@_task("minqing.deliver_notifications")
def deliver_task() -> int:
    from . import outbox

    return outbox.deliver(platform())


@_task("minqing.redeliver_notifications")
def redeliver_task() -> int:
    from . import outbox

    return outbox.redeliver(platform())


@_task("minqing.periodic")
def periodic_task(name: str) -> None:
    """Run one plugin's periodic task by name (skipped when its plugin is disabled meanwhile)."""
    run_periodic(platform(), name)


def run_periodic(current_platform, name: str) -> bool:
    from minqing.core import city

    city.refresh(current_platform.db)  # embedded beat runs here without Celery's signal: read the city's zone too
    for _plugin, declared in current_platform.plugins.collect("periodic_tasks"):
        if declared.get("name") == name:
            declared["run"](current_platform)
            return True
    log.warning("periodic task %s is no longer declared by an enabled plugin", name)
    return False


_held: contextvars.ContextVar[dict | None] = contextvars.ContextVar("minqing_held_deliveries", default=None)


def hold_deliveries() -> contextvars.Token:
    """From now on, in-process deliveries (the embedded mode) wait for `release_deliveries`: a web request
    delivers its notifications after its answer is sent, not while the client waits for it."""
    return _held.set({})


def delivers_after_answer() -> bool:
    """Whether notifications queued now are delivered by this process once the holder has answered."""
    return bool(celery_app.conf.task_always_eager) and _held.get() is not None


def release_deliveries(token: contextvars.Token) -> Callable[[], None] | None:
    """Stop holding; the function that delivers what was held (None when nothing was)."""
    held = _held.get()
    _held.reset(token)
    if not held:
        return None
    unit = counters.current_unit()

    def deliver_held() -> None:
        with counters.resumed(unit):   # the plugin switches as the request read them: no second read
            for current_platform, claimed in held.values():
                enqueue_delivery(current_platform, claimed=claimed)
    return deliver_held


def enqueue_delivery(current_platform, claimed: list[dict] | None = None) -> None:
    """Ask for delivery of pending notifications: a task on the broker, or in-process when embedded — now, or
    once the holder (a web request, `hold_deliveries`) has answered. `claimed`: rows written already claimed by
    this process (`outbox.add` in a held request), delivered without claiming them again.

    A broker that cannot be reached is only logged: the rows are safe in the outbox and the periodic
    redelivery sends them once the broker is back."""
    if celery_app.conf.task_always_eager:
        held = _held.get()
        if held is not None:
            _, waiting = held.setdefault(id(current_platform), (current_platform, []))
            waiting.extend(claimed or ())
            return
        from . import outbox

        try:
            if claimed:
                outbox.deliver_claimed(current_platform, claimed)
            if not claimed or _leftovers_due():
                outbox.deliver(current_platform)
        except Exception:  # delivery problems must never undo or fail the change that was just committed
            log.exception("in-process delivery of notifications failed; they stay in the outbox")
        return
    try:
        deliver_task.apply_async(retry=False)
    except Exception as error:
        log.warning("broker unreachable (%s); notifications stay in the outbox for redelivery", error)


# A request delivers the notices it wrote itself (`claimed`); older ones still due (a delivery that failed and
# backs off, rows queued outside a request) are looked for at most this often by a process's requests, and by the
# beat's redelivery in any case: under load, one look per request would be a transaction per report for nothing.
LEFTOVERS_EVERY = 5.0   # seconds
_leftovers_looked = 0.0


def _leftovers_due() -> bool:
    global _leftovers_looked
    now = time.monotonic()
    if now - _leftovers_looked < LEFTOVERS_EVERY:
        return False
    _leftovers_looked = now
    return True


def schedule(host) -> dict:
    """Celery beat's schedule: every plugin's periodic task (the workflow plugin's own sweep and redelivery
    among them), each run through `minqing.periodic`."""
    entries = {}
    for _plugin, declared in host.collect("periodic_tasks"):
        entries[declared["name"]] = {"task": "minqing.periodic", "schedule": float(declared["every"]),
                                     "args": (declared["name"],)}
    return entries


@task_prerun.connect
def _read_city(**_kwargs) -> None:
    """Before every task: this process's clock follows the city as stored (another process may have changed it)."""
    from minqing.core import city

    city.refresh(platform().db)


@celery_app.on_after_configure.connect
def _load_schedule(sender, **_kwargs) -> None:
    from minqing.core.pluginhost.host import PluginHost

    sender.conf.beat_schedule = schedule(PluginHost(None))
