"""Change counters: how processes learn that something they cached (grids, plugin switches, themes) changed.

A cache compares the counter it was built at with the counter now. Reading "now" costs a round trip, so it is
read at most once per **unit of work**: per session (`seen`), and, while a unit is open (`unit()`: a web
request, a task), once per unit for all its sessions — the first read takes every counter in one statement.
A change another process commits meanwhile is seen by the next unit; one this process makes (`bump`) is seen at
once, by every session of the unit.
"""
from __future__ import annotations

import contextlib
import contextvars
from collections.abc import Iterator

from sqlalchemy import event, select, update
from sqlalchemy.orm import Session

from .models import ChangeCounter


_SEEN = "minqing.counters.seen"   # session.info key: {counter name: value read in this session}


class _Unit:
    """The counters as a unit of work first read them, by engine; `moved` names what this process bumped
    meanwhile (read afresh from then on: a value read before the bump committed would be stale)."""

    def __init__(self) -> None:
        self.values: dict = {}
        self.moved: set[str] = set()


_unit: contextvars.ContextVar[_Unit | None] = contextvars.ContextVar("minqing_counters_unit", default=None)


def begin_unit() -> contextvars.Token:
    """Open a unit of work (for code with separate begin and end hooks, such as a web request)."""
    return _unit.set(_Unit())


def end_unit(token: contextvars.Token) -> None:
    _unit.reset(token)


def unit() -> contextlib.AbstractContextManager[None]:
    """Counters read once for everything inside (a task, a batch)."""
    return resumed(None)


def current_unit() -> _Unit | None:
    """The open unit of work, to carry on with after it ended (`resumed`): the work a request leaves for after
    its answer sees the counters as the request did."""
    return _unit.get()


@contextlib.contextmanager
def resumed(earlier: _Unit | None) -> Iterator[None]:
    """Inside, the unit `earlier` (a new one when None) is open again."""
    token = _unit.set(earlier if earlier is not None else _Unit())
    try:
        yield
    finally:
        _unit.reset(token)


def value(session: Session, name: str) -> int:
    """The counter as stored now (a fresh read: for code that must not use a value read earlier)."""
    return session.scalar(select(ChangeCounter.value).where(ChangeCounter.name == name)) or 0


def seen(session: Session, name: str) -> int:
    """The counter as read once per session and once per open unit of work: a hot path that checks a cache on
    every call (the grid locator, the plugin switches, the theme registry on every report) pays one round trip
    per request, not one per call or per session."""
    known = session.info.setdefault(_SEEN, {})
    if name in known:
        return known[name]
    current = _unit.get()
    if current is None or name in current.moved:
        known[name] = value(session, name)
        return known[name]
    engine = session.get_bind()
    values = current.values.get(engine)
    if values is None:
        values = current.values[engine] = dict(session.execute(select(ChangeCounter.name, ChangeCounter.value)).all())
    known[name] = values.get(name, 0)
    return known[name]


def bump(session: Session, name: str) -> None:
    """Increment the counter within the caller's transaction, so it moves exactly when the change commits.

    Safe inside a flush (no nested flush): a counter that does not exist yet is added to the session.
    """
    session.info.get(_SEEN, {}).pop(name, None)   # this session's next `seen` reads the moved value
    if (current := _unit.get()) is not None:
        current.moved.add(name)                   # and so does every other session of the unit
    done = session.execute(update(ChangeCounter).where(ChangeCounter.name == name)
                           .values(value=ChangeCounter.value + 1),
                           execution_options={"synchronize_session": False}).rowcount
    if done:
        return
    pending = next((row for row in session.new if isinstance(row, ChangeCounter) and row.name == name), None)
    if pending is not None:
        pending.value += 1
    else:
        session.add(ChangeCounter(name=name, value=1))


def bump_when_flushed(name: str, *models: type) -> None:
    """Move the counter `name` in the transaction of every flush that adds, changes or removes a row of `models`,
    whoever writes it (a page, an import, a test): the caches it guards can never miss an ORM change."""
    guard = f"minqing.counters.bumping.{name}"

    @event.listens_for(Session, "before_flush")
    def _bump(session: Session, _context, _instances) -> None:
        touched = any(isinstance(row, models) for rows in (session.new, session.dirty, session.deleted) for row in rows)
        if touched and not session.info.get(guard):
            session.info[guard] = True
            try:
                with session.no_autoflush:
                    bump(session, name)
            finally:
                session.info.pop(guard, None)
