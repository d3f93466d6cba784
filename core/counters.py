"""Change counters: how processes learn that something they cached (grids, plugin switches, themes) changed."""
from __future__ import annotations

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from .models import ChangeCounter


_SEEN = "minqing.counters.seen"   # session.info key: {counter name: value read in this session}


def value(session: Session, name: str) -> int:
    return session.scalar(select(ChangeCounter.value).where(ChangeCounter.name == name)) or 0


def seen(session: Session, name: str) -> int:
    """The counter as read once per session (a request, a task, a CLI run): a hot path that checks a cache
    on every call (the grid locator on every report) pays one round trip per session, not one per call. A
    change another process commits meanwhile is seen by the next session; one made in this session by `bump`
    is seen at once."""
    known = session.info.setdefault(_SEEN, {})
    if name not in known:
        known[name] = value(session, name)
    return known[name]


def bump(session: Session, name: str) -> None:
    """Increment the counter within the caller's transaction, so it moves exactly when the change commits.

    Safe inside a flush (no nested flush): a counter that does not exist yet is added to the session.
    """
    session.info.get(_SEEN, {}).pop(name, None)   # this session's next `seen` reads the moved value
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
