"""Signing in with a user name and password, and setting a password.

    outcome = check_password(session, "worker", "…", origin="10.0.0.1", lockout=Lockout(5, 30))
    outcome.account        # the account when the password was right, else None (never says why to the user)
    set_password(session, actor, account, "new password", policy, origin="…")   # WeakPassword when refused

Rules: failures are counted per account *and source* (an IPv4 address, or an IPv6 /64, which one client
holds whole). After `lockout.max_failures` wrong passwords in a row from one source, that source is locked out of
that account for `lockout.minutes`, while the owner still signs in from anywhere else. The account as a whole is
locked only by a slower back-off: once `account_failures` failures since its last successful sign-in came from at
least `account_sources` sources, and again at every further multiple, for `account_minutes` doubled each time
(at most `account_max_minutes`). While locked even the right password is refused. An unknown user name, a
disabled account and a locked one take the same time as a wrong password (a dummy hash is verified), so neither
the answer nor its timing tells whether the account exists. Every attempt and every lock is written to the audit
log. docs/security.md ("Sign-in and lockout") gives the trade-off.
"""
from __future__ import annotations

import dataclasses
import datetime as dt
import functools
import ipaddress

from sqlalchemy import delete, func, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from minqing.core.actors import Actor
from minqing.core.changes import record_change
from minqing.core.models import Account, SigninThrottle, utcnow
from minqing.core.accounts.password_policy import PasswordPolicy
from minqing.core.accounts.passwords import hash_password, needs_rehash, verify_password


@dataclasses.dataclass(frozen=True)
class Lockout:
    max_failures: int = 5           # in a row from one source: that source is locked out of the account
    minutes: int = 30
    account_failures: int = 20      # from all sources since the last sign-in: the whole account backs off ...
    account_sources: int = 4        # ... when they came from at least this many sources
    account_minutes: int = 5        # the first back-off; each further one doubles
    account_max_minutes: int = 240

    def account_lock_minutes(self, level: int) -> int:
        return min(self.account_minutes * 2 ** (level - 1), self.account_max_minutes)


STALE_AFTER = dt.timedelta(days=1)  # a source's row without a failure for this long (and unlocked) is dropped


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


def source_of(origin: str) -> str:
    """Who a failure is counted against: the IPv4 address, or the /64 of an IPv6 address (one client is given a
    whole /64, so counting single IPv6 addresses would let it try without end)."""
    try:
        address = ipaddress.ip_address((origin or "").strip())
    except ValueError:
        return (origin or "").strip()[:64]
    if address.version == 6 and address.ipv4_mapped is not None:
        return str(address.ipv4_mapped)
    if address.version == 6:
        return str(ipaddress.ip_network(f"{address}/64", strict=False))
    return str(address)


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
    if is_locked(session, account, origin, now):
        return _failed(session, anonymous, account, "locked", "登录被拒绝：账号锁定中")
    if not right:
        count_failure(session, account, lockout, now, origin=origin)
        return _failed(session, anonymous, account, "wrong_password", "登录失败：密码错误")
    if needs_rehash(account.password_hash):
        account.password_hash = hash_password(password)
    return Outcome(account, "ok")


def is_locked(session: Session, account: Account, origin: str, now: dt.datetime) -> bool:
    """Whether the account is refused to this source now: the whole account backs off, or this source is out."""
    if account.locked_until is not None and account.locked_until > now:
        return True
    until = session.scalar(select(SigninThrottle.locked_until).where(
        SigninThrottle.account_id == account.id, SigninThrottle.source == source_of(origin)))
    return until is not None and until > now


def count_failure(session: Session, account: Account, lockout: Lockout, now: dt.datetime, *,
                  origin: str = "") -> None:
    """One more failure (a wrong password or second-factor code) from `origin`: the last one this source is
    allowed locks it out of the account; enough from enough sources make the whole account back off.

    Counts are raised in SQL, so attempts made at the same moment cannot overwrite each other's count."""
    source = source_of(origin)
    _count_for_source(session, account, source, lockout, now, origin)
    session.execute(update(Account).where(Account.id == account.id)
                    .values(failed_logins=Account.failed_logins + 1))
    session.refresh(account, ["failed_logins"])
    total = account.failed_logins
    if total % lockout.account_failures == 0 and _sources_since_sign_in(session, account) >= lockout.account_sources:
        level = total // lockout.account_failures
        minutes = lockout.account_lock_minutes(level)
        account.locked_until = now + dt.timedelta(minutes=minutes)
        record_change(session, Actor(None, account.username, (), origin), "auth.account_locked",
                      object_type="account", object_id=account.id,
                      summary=f"{total}次登录失败来自多个来源，整个账号锁定{minutes}分钟",
                      details={"failures": total, "level": level, "minutes": minutes})


def _count_for_source(session: Session, account: Account, source: str, lockout: Lockout, now: dt.datetime,
                      origin: str) -> None:
    session.execute(delete(SigninThrottle).where(
        SigninThrottle.account_id == account.id, SigninThrottle.last_failure_at < now - STALE_AFTER,
        or_(SigninThrottle.locked_until.is_(None), SigninThrottle.locked_until < now)))
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    session.execute(dialect.insert(SigninThrottle).values(
        account_id=account.id, source=source, failures=0, last_failure_at=now).on_conflict_do_nothing())
    failures = session.scalar(
        update(SigninThrottle).where(SigninThrottle.account_id == account.id, SigninThrottle.source == source)
        .values(failures=SigninThrottle.failures + 1, last_failure_at=now).returning(SigninThrottle.failures))
    if failures >= lockout.max_failures:
        session.execute(update(SigninThrottle).where(SigninThrottle.account_id == account.id,
                                                     SigninThrottle.source == source)
                        .values(failures=0, locked_until=now + dt.timedelta(minutes=lockout.minutes)))
        record_change(session, Actor(None, account.username, (), origin), "auth.locked", object_type="account",
                      object_id=account.id,
                      summary=f"来自 {source} 连续{lockout.max_failures}次登录失败，该来源锁定{lockout.minutes}分钟",
                      details={"source": source, "minutes": lockout.minutes})


def _sources_since_sign_in(session: Session, account: Account) -> int:
    statement = select(func.count()).select_from(SigninThrottle).where(SigninThrottle.account_id == account.id)
    if account.last_login_at is not None:
        statement = statement.where(SigninThrottle.last_failure_at > account.last_login_at)
    return session.scalar(statement)


def signed_in(session: Session, account: Account, *, origin: str = "", summary: str = "登录成功",
              now: dt.datetime | None = None) -> None:
    """The sign-in is complete (password, and the second factor when it applies): clear the account's count and
    this source's; other sources stay locked out (the owner signing in does not unlock a guesser)."""
    account.failed_logins, account.locked_until, account.last_login_at = 0, None, now or utcnow()
    session.execute(delete(SigninThrottle).where(SigninThrottle.account_id == account.id,
                                                 SigninThrottle.source == source_of(origin)))
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
    from minqing.core.accounts import sessions as account_sessions

    policy.check(password, username=account.username)
    if account.password_hash and verify_password(account.password_hash, password):
        raise SamePassword()
    now = now or utcnow()
    account.password_hash = hash_password(password)
    account.password_changed_at = now
    account.password_must_change = False  # a first password, or one set after a reset: the step is done
    account.failed_logins, account.locked_until = 0, None
    # A new password makes every earlier guess worthless: an operator's reset is also the remedy for a lock.
    session.execute(delete(SigninThrottle).where(SigninThrottle.account_id == account.id))
    ended = account_sessions.end_all(session, account.id, reason="password", now=now)
    own = actor.account_id == account.id
    record_change(session, actor, "account.password_change" if own else "account.password_set",
                  object_type="account", object_id=account.id,
                  summary="修改本人密码" if own else f"为账号 {account.username} 设置密码",
                  details={"sessions_ended": ended, "profile": policy.profile})
