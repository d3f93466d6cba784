"""Server-side sign-in sessions. The browser's session cookie carries a random token; the database keeps only its
SHA-256 digest, when it was last used, and whether it has ended. A request counts as signed in only while the row
is open and was used within the idle limit, so a copied cookie is worthless after logout, after a password change
and after the idle limit, even though the cookie itself is still well signed.

    token = start(session, account, origin="10.0.0.1", user_agent="…")   # put it in the cookie
    row = current(session, account_id, token, idle=dt.timedelta(minutes=30))   # None: not signed in any more
    end(session, token, reason="logout");  end_all(session, account_id, reason="password")
"""
from __future__ import annotations

import datetime as dt
import hashlib
import secrets

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from minqing.core.models import Account, AccountSession, utcnow

TOUCH_EVERY = dt.timedelta(seconds=60)  # write last_seen_at at most once a minute per session
KEEP_ENDED = dt.timedelta(days=30)      # ended rows are kept a while for the account's own history, then dropped


def digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def start(session: Session, account: Account, *, origin: str = "", user_agent: str = "",
          now: dt.datetime | None = None) -> str:
    """Open a session for a completed sign-in and return its token (shown to nobody but the cookie)."""
    now = now or utcnow()
    session.execute(delete(AccountSession).where(AccountSession.account_id == account.id,
                                                 AccountSession.ended_at.is_not(None),
                                                 AccountSession.ended_at < now - KEEP_ENDED))
    token = secrets.token_urlsafe(32)
    session.add(AccountSession(account_id=account.id, token_digest=digest(token), created_at=now, last_seen_at=now,
                               origin=origin[:64], user_agent=user_agent[:200]))
    session.flush()
    return token


def current(session: Session, account_id: int, token: str | None, *, idle: dt.timedelta,
            now: dt.datetime | None = None) -> AccountSession | None:
    """The open session this token belongs to, used again now (sliding expiry); None when there is none.

    A session idle for longer than `idle` is ended here. The caller commits (a touch is a write).
    """
    if not token:
        return None
    now = now or utcnow()
    row = session.scalar(select(AccountSession).where(AccountSession.token_digest == digest(token),
                                                      AccountSession.account_id == account_id))
    if row is None or row.ended_at is not None:
        return None
    if row.last_seen_at + idle <= now:
        row.ended_at, row.end_reason = now, "idle"
        return None
    if now - row.last_seen_at >= TOUCH_EVERY:
        row.last_seen_at = now
    return row


def end(session: Session, token: str | None, *, reason: str = "logout", now: dt.datetime | None = None) -> bool:
    if not token:
        return False
    result = session.execute(update(AccountSession).where(AccountSession.token_digest == digest(token),
                                                          AccountSession.ended_at.is_(None))
                             .values(ended_at=now or utcnow(), end_reason=reason))
    return result.rowcount > 0


def end_all(session: Session, account_id: int, *, reason: str, now: dt.datetime | None = None) -> int:
    """End every open session of the account (password change, second factor changed, account disabled)."""
    result = session.execute(update(AccountSession).where(AccountSession.account_id == account_id,
                                                          AccountSession.ended_at.is_(None))
                             .values(ended_at=now or utcnow(), end_reason=reason))
    return result.rowcount


def open_sessions(session: Session, account_id: int, *, idle: dt.timedelta,
                  now: dt.datetime | None = None) -> list[AccountSession]:
    now = now or utcnow()
    return list(session.scalars(select(AccountSession).where(
        AccountSession.account_id == account_id, AccountSession.ended_at.is_(None),
        AccountSession.last_seen_at > now - idle).order_by(AccountSession.last_seen_at.desc())))

