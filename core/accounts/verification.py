"""Phone verification codes (短信验证码) for citizens signing in to 小兰帮办, and the citizen account of a phone.

    code = issue(platform, session, "13912345678", origin="10.0.0.1")   # sends it; returns nothing useful
    verify(session, "13912345678", "123456")                             # raises VerificationFailed if wrong
    account = citizen_account(session, "13912345678", origin="10.0.0.1")  # found or created, role citizen

Rules: a code has 6 digits and lives 5 minutes; only a keyed digest of it is stored; it may be tried 5 times;
a phone gets a new code at most once a minute (and at most `MAX_PER_DAY` a day); a new code replaces the
older ones. Codes go out through the plugins' `deliver_notification` hook on the channel "sms"; when no
plugin delivers, nothing is stored and the citizen is told to try again.

`verify` counts a wrong attempt on the code's row before raising: the caller commits the session in both cases.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import re
import secrets

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from minqing.core.actors import Actor
from minqing.core.changes import record_change
from minqing.core.privacy.masking import mask_phone
from minqing.core.models import Account, Role, RoleGrant, VerificationCode, utcnow
from minqing.core.settings import secret_key

CODE_LENGTH = 6
LIFETIME = dt.timedelta(minutes=5)
MAX_ATTEMPTS = 5
RESEND_AFTER = dt.timedelta(seconds=60)
MAX_PER_DAY = 10
LOGIN = "login"

_MOBILE = re.compile(r"^1[3-9]\d{9}$")


class VerificationError(ValueError):
    """A refusal the citizen may read (in Chinese)."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


class InvalidPhone(VerificationError):
    pass


class TooSoon(VerificationError):
    def __init__(self, message: str, wait_seconds: int):
        super().__init__(message)
        self.wait_seconds = wait_seconds


class NotDelivered(VerificationError):
    pass


class VerificationFailed(VerificationError):
    pass


class StaffPhone(VerificationError):
    pass


def normalise_phone(value: str | None) -> str:
    """'+86 139-1234-5678' → '13912345678'; InvalidPhone unless it is a mainland mobile number."""
    digits = re.sub(r"[\s\-()]", "", value or "")
    if digits.startswith("+86"):
        digits = digits[3:]
    elif digits.startswith("0086"):
        digits = digits[4:]
    if not _MOBILE.match(digits):
        raise InvalidPhone("请输入正确的11位手机号码")
    return digits


def _digest(session: Session, phone: str, code: str) -> str:
    return hmac.new(secret_key(session), f"sms:{phone}:{code}".encode(), hashlib.sha256).hexdigest()


def _latest(session: Session, phone: str, purpose: str) -> VerificationCode | None:
    return session.scalar(select(VerificationCode).where(VerificationCode.phone == phone,
                                                         VerificationCode.purpose == purpose)
                          .order_by(VerificationCode.created_at.desc(), VerificationCode.id.desc()).limit(1))


def issue(platform, session: Session, phone: str, *, purpose: str = LOGIN, origin: str = "",
          now: dt.datetime | None = None) -> VerificationCode:
    """Make a code for `phone`, deliver it by SMS through the plugins and store its digest; return the row.

    Raises InvalidPhone, TooSoon (a code went out less than a minute ago, or too many today) or NotDelivered
    (no plugin delivered it: nothing is stored).
    """
    phone = normalise_phone(phone)
    now = now or utcnow()
    latest = _latest(session, phone, purpose)
    if latest is not None and latest.created_at > now - RESEND_AFTER:
        wait = int((latest.created_at + RESEND_AFTER - now).total_seconds()) + 1
        raise TooSoon(f"验证码已发送，请{wait}秒后再重新获取", wait)
    sent_today = session.scalar(select(func.count()).select_from(VerificationCode).where(
        VerificationCode.phone == phone, VerificationCode.created_at > now - dt.timedelta(days=1)))
    if sent_today >= MAX_PER_DAY:
        raise TooSoon("该手机号今日获取验证码次数过多，请明天再试", 24 * 3600)
    code = "".join(secrets.choice("0123456789") for _ in range(CODE_LENGTH))
    minutes = int(LIFETIME.total_seconds() // 60)
    notification = {
        "channel": "sms", "recipient": phone, "subject": "小兰帮办验证码",
        "body": f"【小兰帮办】您的验证码是{code}，{minutes}分钟内有效。请勿告诉他人。",
        "data": {"code": code, "purpose": purpose, "expires_in": int(LIFETIME.total_seconds())},
    }
    # Delivered before anything is written: a plugin's failure record never waits on this transaction's lock.
    answers = platform.plugins.call("deliver_notification", notification=notification)
    if not any(answer is True for _name, answer in answers):
        raise NotDelivered("验证码短信发送失败，请稍后重试")
    # A new code replaces the older ones still open.
    session.execute(update(VerificationCode).where(VerificationCode.phone == phone,
                                                   VerificationCode.purpose == purpose,
                                                   VerificationCode.used_at.is_(None)).values(used_at=now))
    row = VerificationCode(phone=phone, purpose=purpose, code_digest=_digest(session, phone, code),
                           created_at=now, expires_at=now + LIFETIME, attempts=0, origin=origin[:64])
    session.add(row)
    record_change(session, Actor(None, mask_phone(phone), (), origin), "verification.issue",
                  object_type="phone", object_id=mask_phone(phone), summary="发送短信验证码")
    session.flush()
    return row


def verify(session: Session, phone: str, code: str, *, purpose: str = LOGIN, now: dt.datetime | None = None) -> None:
    """Check `code` against the phone's open code and use it up; VerificationFailed with the reason otherwise.

    A wrong code counts an attempt on the row: commit the session after the exception too.
    """
    phone = normalise_phone(phone)
    code = (code or "").strip()
    now = now or utcnow()
    row = _latest(session, phone, purpose)
    if row is None or row.used_at is not None:
        raise VerificationFailed("请先获取验证码")
    if row.expires_at <= now:
        raise VerificationFailed("验证码已过期，请重新获取")
    if row.attempts >= MAX_ATTEMPTS:
        raise VerificationFailed("验证码错误次数过多，请重新获取")
    if not (len(code) == CODE_LENGTH and code.isdigit()
            and hmac.compare_digest(row.code_digest, _digest(session, phone, code))):
        row.attempts += 1
        left = MAX_ATTEMPTS - row.attempts
        session.flush()
        if left <= 0:
            raise VerificationFailed("验证码错误次数过多，请重新获取")
        raise VerificationFailed(f"验证码错误，还可尝试{left}次")
    row.used_at = now
    session.flush()


def username_for(session: Session, phone: str) -> str:
    """A stable user name that does not show the number: "c" and a keyed digest of it."""
    return "c" + hmac.new(secret_key(session), f"citizen:{phone}".encode(), hashlib.sha256).hexdigest()[:20]


def citizen_account(session: Session, phone: str, *, origin: str = "") -> Account:
    """The citizen account of a verified phone, created (with role citizen) on first sign-in.

    Raises StaffPhone when the number belongs to an account without the citizen role (a member of staff signs
    in with user name and password, never with a text message) or to a disabled account.
    """
    phone = normalise_phone(phone)
    account = session.scalar(select(Account).where(Account.phone == phone))
    if account is None:
        account = Account(username=username_for(session, phone), display_name=f"群众{mask_phone(phone)}",
                          password_hash=None, phone=phone)
        account.grants.append(RoleGrant(role=Role.CITIZEN))
        try:
            with session.begin_nested():
                session.add(account)
                session.flush()
        except IntegrityError:  # the same phone signed in twice at once: use the account that won
            account = session.scalar(select(Account).where(Account.phone == phone))
            if account is None:
                raise
        else:
            record_change(session, Actor(account.id, account.display_name, (), origin), "account.create",
                          object_type="account", object_id=account.id, summary="群众手机号验证后注册",
                          details={"role": Role.CITIZEN})
    if not account.is_active or not any(grant.role == Role.CITIZEN for grant in account.grants):
        raise StaffPhone("该手机号不能用验证码登录，请使用用户名和密码登录或联系管理员")
    return account
