"""Exactly one scheduler: `minqing beat` holds a lease in the database while it runs.

Two schedulers would send every periodic task twice. The lease is one row of `settings` (name `beat.lease`)
holding who has it and until when; it is taken and renewed with compare-and-set UPDATEs, so of two processes
racing for it exactly one wins, on SQLite and on PostgreSQL alike, whatever the broker. The holder renews it every
third of its length (``MINQING_BEAT_LEASE_SECONDS``, default 60) and gives it back when it stops; a scheduler
that died (SIGKILL, power cut) blocks another for at most one lease length. A holder that fails to renew
(the database was unreachable for a whole lease) stops itself rather than risk running beside a successor.
"""
from __future__ import annotations

import datetime as dt
import json
import logging
import os
import socket
import threading
import time
import uuid
from collections.abc import Callable

from sqlalchemy import delete, update
from sqlalchemy.exc import IntegrityError

from minqing.core import city
from minqing.core.models import Setting

log = logging.getLogger(__name__)
LEASE_NAME = "beat.lease"


class BeatLocked(RuntimeError):
    def __init__(self, holder: str, until: float):
        local = city.local(dt.datetime.fromtimestamp(until, dt.UTC)).strftime("%H:%M:%S")  # the city's time
        super().__init__(f"另一个定时调度（minqing beat）正在运行：{holder}（租约有效至 {local}）；"
                         "同一时间只能运行一个，请先停止它，或等它的租约过期")
        self.holder, self.until = holder, until


def lease_seconds() -> float:
    return float(os.environ.get("MINQING_BEAT_LEASE_SECONDS", "60"))


class BeatLease:
    def __init__(self, database, seconds: float | None = None):
        self.database = database
        self.seconds = seconds or lease_seconds()
        self.holder = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self._value: str | None = None          # the row's value while we hold it
        self._stop = threading.Event()
        self._renewer: threading.Thread | None = None

    def _new_value(self) -> str:
        return json.dumps({"holder": self.holder, "until": time.time() + self.seconds})

    def acquire(self) -> None:
        """Take the lease, or raise BeatLocked naming who holds it."""
        value = self._new_value()
        with self.database.session() as session:
            row = session.get(Setting, LEASE_NAME)
            if row is None:
                try:
                    with session.begin_nested():
                        session.add(Setting(name=LEASE_NAME, value=value))
                except IntegrityError:   # another scheduler inserted it just now
                    raise BeatLocked("（刚刚启动的另一个进程）", time.time() + self.seconds) from None
                self._value = value
                return
            current = json.loads(row.value)
            if current["until"] > time.time() and current["holder"] != self.holder:
                raise BeatLocked(current["holder"], current["until"])
            taken = session.execute(update(Setting).where(Setting.name == LEASE_NAME, Setting.value == row.value)
                                    .values(value=value)).rowcount
            if not taken:
                raise BeatLocked("（刚刚接管的另一个进程）", time.time() + self.seconds)
            # Known as ours before the commit: a SIGTERM arriving during or just after it still gives it back.
            self._value = value

    def renew(self) -> bool:
        value = self._new_value()
        with self.database.session() as session:
            renewed = session.execute(update(Setting).where(Setting.name == LEASE_NAME, Setting.value == self._value)
                                      .values(value=value)).rowcount
        if renewed:
            self._value = value
        return bool(renewed)

    def keep(self, on_lost: Callable[[], None]) -> None:
        """Renew in a daemon thread; call `on_lost` if the lease could not be kept."""
        def run():
            while not self._stop.wait(self.seconds / 3):
                try:
                    if self.renew():
                        continue
                    log.critical("the beat lease was taken over by another scheduler")
                except Exception:
                    log.exception("could not renew the beat lease")
                    if json.loads(self._value)["until"] > time.time():
                        continue   # still ours for a while: try again
                on_lost()
                return
        self._renewer = threading.Thread(target=run, name="minqing-beat-lease", daemon=True)
        self._renewer.start()

    def release(self) -> None:
        """Give the lease back if we still hold it. The renewer is stopped first: a renewal committed while we
        give it back would otherwise leave a row with a value we never knew, held until it expires."""
        self._stop.set()
        if self._renewer is not None and self._renewer is not threading.current_thread():
            self._renewer.join(timeout=self.seconds)
        if self._value is None:
            return
        try:
            with self.database.session() as session:
                row = session.get(Setting, LEASE_NAME)
                if row is not None and json.loads(row.value)["holder"] == self.holder:
                    session.execute(delete(Setting).where(Setting.name == LEASE_NAME, Setting.value == row.value))
        except Exception:
            log.exception("could not give back the beat lease (it expires by itself)")
        self._value = None
