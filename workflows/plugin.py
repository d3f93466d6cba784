"""The workflow engine's plugin: the built-in workflow templates (`register_workflows`), China's 2026 working
calendar (`working_calendar`), its periodic tasks, the in-app inbox channel and the `worker`, `beat`, `sla-sweep`
and `workflow-check` commands. Registered through the same entry point group as any plugin.

The templates and the calendar are answered last (``trylast``), so a plugin's workflow of the same key or its own
calendar wins through the same hooks; the engine reads both only through the hooks."""
from __future__ import annotations

import json
import logging
import os
import signal
import sys
import time

import click

from minqing.core.hooks import hookimpl

MINQING_TITLE = "处置流程引擎"  # what the admin page and `minqing plugins list` show
MINQING_DESCRIPTION = "内置处置流程模板、工作日历和期限扫描。"

MINQING_REQUIRED = True  # the closed loop (sweep, notifications) is part of the platform
SWEEP_EVERY = float(os.environ.get("MINQING_SLA_SWEEP_SECONDS", "60"))
REDELIVER_EVERY = float(os.environ.get("MINQING_REDELIVER_SECONDS", "60"))
log = logging.getLogger(__name__)


def _sweep(platform) -> None:
    from . import sla

    sla.sweep(platform)


def _redeliver(platform) -> None:
    from . import outbox

    outbox.redeliver(platform)


@hookimpl
def periodic_tasks():
    return [{"name": "workflows.sla_sweep", "every": SWEEP_EVERY, "run": _sweep},
            {"name": "workflows.redeliver_notifications", "every": REDELIVER_EVERY, "run": _redeliver}]


@hookimpl(trylast=True)
def register_workflows():
    from . import definition

    # The same dict objects every time: the engine parses each once (`definition._parsed`).
    return [definition.builtin(key).document for key in definition.builtin_keys()]


@hookimpl(trylast=True)
def working_calendar():
    from .calendar import default_calendar

    return default_calendar()


@hookimpl
def deliver_notification(notification):
    """The in-app inbox: the stored row is the message, shown to its recipients in the app; nothing to send."""
    if notification["channel"] == "inbox":
        return True
    return None


def run_embedded_beat(platform, *, rounds: int | None = None, tick: float = 1.0) -> None:
    """The schedule without a broker: run each periodic task in this process when it falls due."""
    from .tasks import run_periodic

    next_run: dict[str, float] = {}
    done = 0
    while rounds is None or done < rounds:
        now = time.monotonic()
        for _plugin, declared in platform.plugins.collect("periodic_tasks"):
            name = declared["name"]
            if next_run.get(name, 0) <= now:
                next_run[name] = now + float(declared["every"])
                try:
                    run_periodic(platform, name)
                except Exception:
                    log.exception("periodic task %s failed", name)
        done += 1
        if rounds is None or done < rounds:
            time.sleep(tick)


@hookimpl
def register_commands(cli):
    from .channels_cli import register as register_channel_commands

    register_channel_commands(cli)

    from .schemes_cli import schemes_group   # minqing schemes list|show|check|import

    cli.add_command(schemes_group)

    @cli.command("worker")
    @click.option("--loglevel", default="INFO", show_default=True)
    @click.option("--pool", default="solo", show_default=True, help="Celery pool (solo, prefork, threads).")
    @click.option("--concurrency", default=1, show_default=True, type=int)
    @click.pass_obj
    def worker_command(context, loglevel, pool, concurrency):
        """Run a Celery worker for background tasks (needs MINQING_BROKER_URL, e.g. redis://127.0.0.1:6379/0)."""
        from .tasks import celery_app

        if celery_app.conf.task_always_eager:
            raise click.ClickException("未配置 MINQING_BROKER_URL：内嵌模式下任务在进程内执行，无需 worker；"
                                       "定时任务请运行 minqing beat")
        _export_database(context)
        celery_app.worker_main(["worker", f"--loglevel={loglevel}", f"--pool={pool}",
                                f"--concurrency={concurrency}"])

    @cli.command("beat")
    @click.option("--loglevel", default="INFO", show_default=True)
    @click.option("--once", is_flag=True, help="Embedded mode only: run every periodic task once and exit.")
    @click.pass_obj
    def beat_command(context, loglevel, once):
        """Run the scheduler: SLA sweep, notification redelivery and plugins' periodic tasks.

        With MINQING_BROKER_URL it is Celery beat (the tasks run on the workers); without, the tasks run
        in this process. Only one may run at a time: a second one refuses to start while the first holds
        the lease (MINQING_BEAT_LEASE_SECONDS, default 60)."""
        from .beat_lease import BeatLease, BeatLocked
        from .tasks import celery_app

        lease = BeatLease(context.platform.db)
        # Before the lease is taken: a SIGTERM at any moment after it leaves through `finally`, giving it back.
        signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
        try:
            try:
                lease.acquire()
            except BeatLocked as error:
                raise click.ClickException(str(error)) from error
            lease.keep(on_lost=lambda: os.kill(os.getpid(), signal.SIGTERM))
            if celery_app.conf.task_always_eager:
                click.echo("内嵌模式：定时任务在本进程内执行（Ctrl+C 退出）")
                run_embedded_beat(context.platform, rounds=1 if once else None)
                return
            _export_database(context)
            celery_app.start(["beat", f"--loglevel={loglevel}"])
        finally:
            lease.release()

    @cli.command("sla-sweep")
    @click.pass_obj
    def sla_sweep_command(context):
        """Run the SLA sweep once now: urge or escalate every case past its time limit."""
        from . import sla

        result = sla.sweep(context.platform)
        click.echo(f"催办 {result.urged} 件，升级 {result.escalated} 件，督办超期 {result.supervisions} 件")

    @cli.command("workflow-check")
    @click.argument("path", type=click.Path(exists=True, dir_okay=False))
    def workflow_check_command(path):
        """Check a workflow document (JSON or YAML) against the meta-schema and its own references."""
        from . import definition
        from .errors import DefinitionInvalid

        try:
            workflow = definition.load_file(path)
        except DefinitionInvalid as error:
            raise click.ClickException("\n".join(error.problems)) from error
        click.echo(json.dumps({"key": workflow.key, "states": len(workflow.states),
                               "transitions": len(workflow.transitions)}, ensure_ascii=False))


def _export_database(context) -> None:
    # The worker's tasks open the platform from the environment; pass on the --db the command line was given.
    if context.database_url:
        os.environ["MINQING_DATABASE_URL"] = context.database_url
