"""Server-side sign-in sessions: one row per sign-in, so a session ends for good at logout, password change or
inactivity, whatever copy of the cookie is still around (see core.account_sessions); and the sign-in failures of
an account counted per source address (see core.signin)."""
from __future__ import annotations

import datetime as dt

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base, utcnow


class AccountSession(Base):
    __tablename__ = "account_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"), index=True)
    token_digest: Mapped[str] = mapped_column(String(64), unique=True)  # SHA-256 of the cookie's token
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    last_seen_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    ended_at: Mapped[dt.datetime | None]
    end_reason: Mapped[str] = mapped_column(String(20), default="")  # logout, idle, password, totp, disabled
    origin: Mapped[str] = mapped_column(String(64), default="")
    user_agent: Mapped[str] = mapped_column(String(200), default="")


class SigninThrottle(Base):
    """Wrong passwords (or second-factor codes) for one account from one source: an IPv4 address or an IPv6 /64.
    Five in a row lock that source out of that account only; the account's own columns count all sources."""

    __tablename__ = "signin_throttles"
    __table_args__ = (UniqueConstraint("account_id", "source"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"), index=True)
    source: Mapped[str] = mapped_column(String(64))
    failures: Mapped[int] = mapped_column(default=0)  # in a row, since this source's last lock or success
    locked_until: Mapped[dt.datetime | None]
    last_failure_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class PasswordCode(Base):
    """A one-time code that lets a member of staff sign in to set a password: sent by SMS to the account's phone
    (first sign-in, forgotten password) or given out by an administrator. Only a keyed digest is kept."""

    __tablename__ = "password_codes"

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"), index=True)
    channel: Mapped[str] = mapped_column(String(10))  # sms, admin
    code_digest: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[dt.datetime]
    attempts: Mapped[int] = mapped_column(default=0)
    used_at: Mapped[dt.datetime | None]
    origin: Mapped[str] = mapped_column(String(64), default="")
