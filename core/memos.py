"""Per-session memos: what one unit of work computed and asks for again (a dashboard's panels ask the same figure
of the same period more than once), kept on the session until it could see something different.

    memo = memos.of(session, "minqing.themes.patrols.overdue_counts")   # a dict, the caller's keys
    found = memo.get(key)
    if found is None:
        found = memo[key] = compute()

Every memo of a session is forgotten when it flushes (its own changes are now in the database), when a
transaction ends (commit or rollback: another transaction's changes may now be seen) and when a statement that is
not a SELECT runs through it (a bulk UPDATE or DELETE, a text statement). One place decides it, so every memo
forgets alike.
"""
from __future__ import annotations

from sqlalchemy import event
from sqlalchemy.orm import Session

_MEMOS = "minqing.memos"   # session.info: {memo name: dict}


def of(session: Session, name: str) -> dict:
    """The session's memo `name` (an empty dict after any change the session could see)."""
    return session.info.setdefault(_MEMOS, {}).setdefault(name, {})


@event.listens_for(Session, "after_flush")
@event.listens_for(Session, "after_transaction_end")
def _forget(session: Session, *_args) -> None:
    session.info.pop(_MEMOS, None)


@event.listens_for(Session, "do_orm_execute")
def _forget_on_write(state) -> None:
    if not state.is_select:   # an INSERT, UPDATE, DELETE or text statement run through the session
        state.session.info.pop(_MEMOS, None)
