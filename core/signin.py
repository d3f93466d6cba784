"""Signing in with a user name and password, and setting a password.

    outcome = check_password(session, "worker", "…", origin="10.0.0.1", lockout=Lockout(5, 30))
    outcome.account        # the account when the password was right, else None (never says why to the user)
    set_password(session, actor, account, "new password", policy, origin="…")   # WeakPassword when refused

Rules: after `lockout.max_failures` wrong passwords in a row an account is locked for `lockout.minutes`; while
locked even the right password is refused. An unknown user name, a disabled account and a locked one take the
same time as a wrong password (a dummy hash is verified), so neither the answer nor its timing tells whether the
account exists. Every attempt is written to the audit log.
"""
from __future__ import annotations

import dataclasses
import datetime as dt
import functools

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from .actors import Actor
from .changes import record_change
from .models import Account, utcnow
from .password_policy import PasswordPolicy
from .passwords import hash_password, needs_rehash, verify_password


@dataclasses.dataclass(frozen=True)
class Lockout:
    max_failures: int = 5
    minutes: int = 30


@dataclasses.dataclass(frozen=True)
class Outcome:
    account: Account | None
    reason: str  # ok, unknown, disabled, locked, wrong_password, no_password: for the audit log only


class SamePassword(ValueError):
    def __init__(self):
        super().__init__("新密码不能与当前密码相同")
        self.problems = [str(self)]


@functools.cache
def _dummy_hash() -> str:
    """A hash to verify against when there is no account, so the attempt costs what a real one does."""
    return hash_password("minqing-no-such-account")


def check_password(session: Session, username: str, password: str, *, origin: str = "",
                   lockout: Lockout = Lockout(), now: dt.datetime | None = None) -> Outcome:
    """Check a sign-in attempt, count a failure or clear the count, audit it; the caller commits."""
    now = now or utcnow()
    username = (username or "").strip()[:64]
    account = session.scalar(select(Account).where(Account.username == username)) if username else None
    right = verify_password(account.password_hash if account and account.password_hash else _dummy_hash(), password)
    anonymous = Actor(None, username, (), origin)
    if account is None:
        return _failed(session, anonymous, None, "unknown", "登录失败：账号不存在")
    if not account.is_active:
        return _failed(session, anonymous, account, "disabled", "登录失败：账号已停用")
    if not account.password_hash:
        return _failed(session, anonymous, account, "no_password", "登录失败：账号未设置密码")
    if account.locked_until and account.locked_until > now:
        return _failed(session, anonymous, account, "locked", "登录被拒绝：账号锁定中")
    if not right:
        count_failure(session, account, lockout, now)
        return _failed(session, anonymous, account, "wrong_password", "登录失败：密码错误")
    if needs_rehash(account.password_hash):
        account.password_hash = hash_password(password)
    return Outcome(account, "ok")


def count_failure(session: Session, account: Account, lockout: Lockout, now: dt.datetime) -> None:
    """One more failure (a wrong password or second-factor code); the last allowed one locks the account.

    The count is raised in SQL, so attempts made at the same moment cannot overwrite each other's count.
    """
    session.execute(update(Account).where(Account.id == account.id)
                    .values(failed_logins=Account.failed_logins + 1))
    session.refresh(account, ["failed_logins"])
    if account.failed_logins >= lockout.max_failures:
        account.locked_until = now + dt.timedelta(minutes=lockout.minutes)
        account.failed_logins = 0
        record_change(session, Actor(None, account.username, (), ""), "auth.locked", object_type="account",
                      object_id=account.id, summary=f"连续{lockout.max_failures}次登录失败，锁定{lockout.minutes}分钟")


def signed_in(session: Session, account: Account, *, origin: str = "", summary: str = "登录成功",
              now: dt.datetime | None = None) -> None:
    """The sign-in is complete (password, and the second factor when it applies): clear the failure count."""
    account.failed_logins, account.locked_until, account.last_login_at = 0, None, now or utcnow()
    record_change(session, Actor(account.id, account.display_name, (), origin), "auth.login",
                  object_type="account", object_id=account.id, summary=summary)


def _failed(session: Session, actor: Actor, account: Account | None, reason: str, summary: str) -> Outcome:
    record_change(session, actor, "auth.login_failed" if reason != "locked" else "auth.login_refused",
                  object_type="account", object_id=account.id if account else "", summary=summary)
    return Outcome(None, reason)


def set_password(session: Session, actor: Actor, account: Account, password: str, policy: PasswordPolicy, *,
                 now: dt.datetime | None = None) -> None:
    """Give the account a new password after the policy accepts it (WeakPassword or SamePassword otherwise),
    restart its maximum age, end every sign-in session of the account and record the change."""
    from . import account_sessions

    policy.check(password, username=account.username)
    if account.password_hash and verify_password(account.password_hash, password):
        raise SamePassword()
    now = now or utcnow()
    account.password_hash = hash_password(password)
    account.password_changed_at = now
    account.failed_logins, account.locked_until = 0, None
    ended = account_sessions.end_all(session, account.id, reason="password", now=now)
    own = actor.account_id == account.id
    record_change(session, actor, "account.password_change" if own else "account.password_set",
                  object_type="account", object_id=account.id,
                  summary="修改本人密码" if own else f"为账号 {account.username} 设置密码",
                  details={"sessions_ended": ended, "profile": policy.profile})
