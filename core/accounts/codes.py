"""One-time codes with which a member of staff signs in to set a password: at first sign-in (a new or imported
account has none), after an administrator's reset, or when the password is forgotten.

    send_by_sms(platform, session, "zhang.wei", origin="10.0.0.1")   # True when a code went to the account's phone
    code = give_out(session, admin_actor, account)                   # shown once to the administrator
    account = sign_in(session, "zhang.wei", "123456", origin=..., lockout=...)   # CodeRefused otherwise

Rules: an SMS code has 6 digits and lives 10 minutes; a code an administrator gives out has 8 digits and lives
3 days (it is handed over by phone or in person). Only a keyed digest is stored; a new code replaces the older
ones; a code may be tried 5 times and is used once. SMS codes go out at most once a minute and 10 times a day per
account, through the plugins' `deliver_notification` hook (channel "sms"). Only an active staff account with a
phone gets one, and the answer to the person asking is the same either way, so it never tells whether an account
exists. A wrong code counts as a failed sign-in of the account from that source (core.signin's lockout). A code
sign-in leaves the account with `password_must_change`: a password is set before anything else.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import secrets

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from minqing.core.accounts import signin
from minqing.core.actors import Actor
from minqing.core.changes import record_change
from minqing.core.privacy.masking import mask_phone
from minqing.core.models import Account, PasswordCode, utcnow
from minqing.core.settings import secret_key

SMS, ADMIN = "sms", "admin"
LENGTH = {SMS: 6, ADMIN: 8}
LIFETIME = {SMS: dt.timedelta(minutes=10), ADMIN: dt.timedelta(days=3)}
RESEND_AFTER = dt.timedelta(seconds=60)
MAX_PER_DAY = 10
MAX_ATTEMPTS = 5
REFUSED = "用户名或验证码错误，或验证码已过期"


class CodeRefused(ValueError):
    """The code does not sign in; the message never says whether the account exists."""

    def __init__(self, message: str = REFUSED):
        super().__init__(message)
        self.message = message


def _digest(session: Session, account_id: int, code: str) -> str:
    return hmac.new(secret_key(session), f"password-code:{account_id}:{code}".encode(), hashlib.sha256).hexdigest()


def _staff(session: Session, username: str) -> Account | None:
    username = (username or "").strip()[:64]
    account = session.scalar(select(Account).where(Account.username == username)) if username else None
    if account is None or not account.is_active or any(grant.role == "citizen" for grant in account.grants):
        return None
    return account


def _store(session: Session, account: Account, channel: str, code: str, now: dt.datetime, origin: str) -> None:
    session.execute(update(PasswordCode).where(PasswordCode.account_id == account.id,
                                               PasswordCode.used_at.is_(None)).values(used_at=now))
    session.add(PasswordCode(account_id=account.id, channel=channel, code_digest=_digest(session, account.id, code),
                             created_at=now, expires_at=now + LIFETIME[channel], attempts=0, origin=origin[:64]))
    session.flush()


def _new_code(channel: str) -> str:
    return "".join(secrets.choice("0123456789") for _ in range(LENGTH[channel]))


def _too_soon(session: Session, account: Account, now: dt.datetime) -> bool:
    latest = session.scalar(select(func.max(PasswordCode.created_at)).where(
        PasswordCode.account_id == account.id, PasswordCode.channel == SMS))
    sent_today = session.scalar(select(func.count()).select_from(PasswordCode).where(
        PasswordCode.account_id == account.id, PasswordCode.channel == SMS,
        PasswordCode.created_at > now - dt.timedelta(days=1)))
    return (latest is not None and latest > now - RESEND_AFTER) or sent_today >= MAX_PER_DAY


def send_by_sms(platform, session: Session, username: str, *, origin: str = "",
                now: dt.datetime | None = None) -> bool:
    """Send a code to the phone of `username`'s account; False (and nothing stored) when there is no such active
    staff account with a phone, a code went out less than a minute ago, or no plugin delivered it."""
    now = now or utcnow()
    account = _staff(session, username)
    if account is None or not account.phone or _too_soon(session, account, now):
        return False
    code = _new_code(SMS)
    minutes = int(LIFETIME[SMS].total_seconds() // 60)
    notification = {
        "channel": "sms", "recipient": account.phone, "subject": "民情地图登录验证码",
        "body": f"【民情地图】账号 {account.username} 的验证码是{code}，{minutes}分钟内有效，用于登录后设置密码。请勿告诉他人。",
        "data": {"code": code, "purpose": "password", "username": account.username,
                 "expires_in": int(LIFETIME[SMS].total_seconds())},
    }
    # Delivered before anything is written, as for citizens' codes (core.verification).
    answers = platform.plugins.call("deliver_notification", notification=notification)
    if not any(answer is True for _name, answer in answers):
        return False
    _store(session, account, SMS, code, now, origin)
    record_change(session, Actor(None, account.username, (), origin), "account.code_sent", object_type="account",
                  object_id=account.id, summary=f"发送设置密码的短信验证码至 {mask_phone(account.phone)}")
    return True


def give_out(session: Session, actor: Actor, account: Account, *, now: dt.datetime | None = None) -> str:
    """A code for the administrator to hand over (the account has no phone, or SMS is not set up); shown once."""
    if not account.is_active:
        raise CodeRefused("账号已停用，请先启用")
    now = now or utcnow()
    code = _new_code(ADMIN)
    _store(session, account, ADMIN, code, now, actor.origin or "")
    record_change(session, actor, "account.code_issued", object_type="account", object_id=account.id,
                  summary=f"为账号 {account.username} 生成一次性验证码（{int(LIFETIME[ADMIN].days)}天内有效）")
    return code


def sign_in(session: Session, username: str, code: str, *, origin: str = "", lockout: signin.Lockout = signin.Lockout(),
            now: dt.datetime | None = None) -> Account:
    """The account whose open code this is, the code used up and the account left to set a password; CodeRefused
    otherwise (a wrong code is counted: the caller commits in both cases)."""
    now = now or utcnow()
    account = _staff(session, username)
    anonymous = Actor(None, (username or "").strip()[:64], (), origin)
    row = account and session.scalar(select(PasswordCode).where(
        PasswordCode.account_id == account.id, PasswordCode.used_at.is_(None))
        .order_by(PasswordCode.created_at.desc(), PasswordCode.id.desc()).limit(1))
    if account is None or row is None or row.expires_at <= now or row.attempts >= MAX_ATTEMPTS \
            or signin.is_locked(session, account, origin, now):
        _failed(session, anonymous, account, "验证码登录失败：无可用验证码、已过期或账号锁定中")
    code = (code or "").strip().replace(" ", "")
    if not (code.isdigit() and hmac.compare_digest(row.code_digest, _digest(session, account.id, code))):
        row.attempts += 1
        signin.count_failure(session, account, lockout, now, origin=origin)
        _failed(session, anonymous, account, "验证码登录失败：验证码错误")
    row.used_at = now
    account.password_must_change = True
    session.flush()
    return account


def _failed(session: Session, actor: Actor, account: Account | None, summary: str) -> None:
    record_change(session, actor, "auth.login_failed", object_type="account",
                  object_id=account.id if account else "", summary=summary)
    raise CodeRefused()
