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

`wrote(session)` says whether the session's transaction has written (flushed, or run an INSERT, UPDATE or DELETE):
what it reads then includes changes no other session sees and that may yet be rolled back, so an answer kept
beyond the session (a process-wide cache) must be neither read nor kept by it.
"""
from __future__ import annotations

from sqlalchemy import TextClause, event
from sqlalchemy.orm import Session

_MEMOS = "minqing.memos"   # session.info: {memo name: dict}
_WROTE = "minqing.memos.wrote"   # session.info: True once its transaction has written


def of(session: Session, name: str) -> dict:
    """The session's memo `name` (an empty dict after any change the session could see)."""
    return session.info.setdefault(_MEMOS, {}).setdefault(name, {})


def wrote(session: Session) -> bool:
    """Whether the session's transaction has written something (until it commits or rolls back)."""
    return bool(session.info.get(_WROTE))


@event.listens_for(Session, "after_flush")
def _forget_on_flush(session: Session, _context) -> None:
    session.info.pop(_MEMOS, None)
    session.info[_WROTE] = True


@event.listens_for(Session, "after_transaction_end")
def _forget(session: Session, transaction) -> None:
    session.info.pop(_MEMOS, None)
    if transaction.parent is None:   # the outermost transaction: a savepoint's end leaves its writes in
        session.info.pop(_WROTE, None)


@event.listens_for(Session, "do_orm_execute")
def _forget_on_write(state) -> None:
    if not state.is_select:   # an INSERT, UPDATE, DELETE or text statement run through the session
        state.session.info.pop(_MEMOS, None)
        if state.is_insert or state.is_update or state.is_delete or _writes(state.statement):
            state.session.info[_WROTE] = True


def _writes(statement) -> bool:
    """A text statement that is not a query (SELECT, WITH … SELECT, SHOW, EXPLAIN) is taken as a write."""
    if not isinstance(statement, TextClause):
        return False
    words = statement.text.lstrip().split(None, 1)
    return bool(words) and words[0].upper() not in ("SELECT", "WITH", "SHOW", "EXPLAIN", "VALUES")
