"""A bounded hook call's database work stops when the host stops waiting for it (PostgreSQL).

Python cannot kill the thread of an abandoned call (`calls`), but the server can stop its statement: the host
sends a cancel request on the caller's connection, the statement ends with an error in the plugin's thread,
and the call returns. The call runs in a savepoint of the caller's transaction, rolled back when the call failed
or was cancelled, so the caller's own work goes on (a cancelled statement aborts the transaction otherwise).
Without this, a panel that overruns its bound on every dashboard load left one more query running each time.

SQLite is left as it was: its statements run in the caller's process, and an interrupt there rolls back the
caller's whole transaction when the statement was a write.
"""
from __future__ import annotations

import logging

from sqlalchemy.orm import Session, SessionTransaction

log = logging.getLogger(__name__)


class Guard:
    """`with Guard(session) as guard: runner.call(..., on_timeout=guard.cancel)`."""

    def __init__(self, session: Session | None):
        self.session = session
        self.savepoint: SessionTransaction | None = None
        self.driver = None   # the psycopg connection the call's statements run on
        self.cancelled = False

    def __enter__(self) -> Guard:
        if self.session is not None and self.session.get_bind().dialect.name == "postgresql":
            self.savepoint = self.session.begin_nested()
            self.driver = self.session.connection().connection.driver_connection
        return self

    def cancel(self) -> bool:
        """Cancel the statement the abandoned call is running, if any: True when one was."""
        if self.driver is None or self.driver.info.transaction_status.name != "ACTIVE":
            return False   # hanging in Python, not on the database: nothing to cancel
        try:   # cancel_safe (psycopg 3.2) does not block the host on a server that does not answer
            getattr(self.driver, "cancel_safe", self.driver.cancel)()
        except Exception:
            log.exception("could not cancel the statement of an abandoned plugin call")
            return False
        self.cancelled = True
        return True

    def __exit__(self, error_type, error, traceback) -> bool:
        savepoint = self.savepoint
        if savepoint is None or not savepoint.is_active:   # SQLite, or the plugin ended the transaction itself
            return False
        if error_type is None:
            savepoint.commit()
        elif self.cancelled or not isinstance(error, TimeoutError):
            savepoint.rollback()   # the call has returned: the session is the caller's again
        # else: the call still runs (hanging in Python) and may still use the session: leave it alone
        return False
