"""TOTP second factor (RFC 6238, 6 digits every 30 seconds, with pyotp), for accounts that sign in with a password.

    secret = begin_enrolment(session, account)           # shown once, as text and as an otpauth:// URI
    confirm_enrolment(session, actor, account, "123456")  # TotpError unless the code is right
    verify(session, account, "654321")                     # True once per code: a code is never accepted twice
    disable(session, actor, account)                       # by the user, or an administrator for a lost phone

The secret is stored encrypted (Fernet, with a key derived from the installation's secret key), is shown only
while it is being enrolled, and never again once confirmed. A code from the step before or after the current one
is accepted (clock drift of ±30 s); a step once used is refused. Enrolment and removal are audited; removal ends
every sign-in session of the account.
"""
from __future__ import annotations

import base64
import datetime as dt
import functools
import hmac

import pyotp
from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from sqlalchemy.orm import Session

from minqing.core.accounts import sessions as account_sessions
from minqing.core.actors import Actor
from minqing.core.changes import record_change
from minqing.core.models import Account, utcnow
from minqing.core.settings import secret_key

ISSUER = "民情地图"
DRIFT_STEPS = 1


class TotpError(ValueError):
    """A refusal the user may read (in Chinese)."""


@functools.lru_cache(maxsize=8)
def _fernet(key: bytes) -> Fernet:
    derived = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=b"minqing totp secrets").derive(key)
    return Fernet(base64.urlsafe_b64encode(derived))


def _seal(session: Session, secret: str) -> str:
    return _fernet(secret_key(session)).encrypt(secret.encode()).decode()


def _open(session: Session, sealed: str) -> str:
    try:
        return _fernet(secret_key(session)).decrypt(sealed.encode()).decode()
    except InvalidToken:
        raise TotpError("动态口令密钥无法解密（安装的密钥已更换），请联系管理员重置动态口令") from None


def is_enabled(account: Account) -> bool:
    return account.totp_enabled_at is not None and bool(account.totp_secret)


def provisioning_uri(secret: str, account: Account) -> str:
    """otpauth://totp/民情地图:worker?secret=…&issuer=民情地图 — what an authenticator app scans or imports."""
    return pyotp.TOTP(secret).provisioning_uri(name=account.username, issuer_name=ISSUER)


def begin_enrolment(session: Session, account: Account) -> str:
    """A new secret for the account, kept (encrypted) as pending until a code from it is confirmed."""
    if is_enabled(account):
        raise TotpError("已绑定动态口令；如需更换，请先解除绑定")
    secret = pyotp.random_base32()
    account.totp_secret, account.totp_enabled_at, account.totp_last_step = _seal(session, secret), None, None
    session.flush()
    return secret


def pending_secret(session: Session, account: Account) -> str | None:
    """The secret being enrolled (shown on the enrolment page until confirmed); None once it is confirmed."""
    if is_enabled(account) or not account.totp_secret:
        return None
    return _open(session, account.totp_secret)


def _matching_step(secret: str, code: str, now: dt.datetime) -> int | None:
    code = (code or "").strip().replace(" ", "")
    if len(code) != 6 or not code.isdigit():
        return None
    totp = pyotp.TOTP(secret)
    current = totp.timecode(now)
    for offset in range(-DRIFT_STEPS, DRIFT_STEPS + 1):
        if hmac.compare_digest(totp.at(now, counter_offset=offset), code):
            return current + offset
    return None


def _use(account: Account, secret: str, code: str, now: dt.datetime) -> bool:
    step = _matching_step(secret, code, now)
    if step is None or (account.totp_last_step is not None and step <= account.totp_last_step):
        return False
    account.totp_last_step = step
    return True


def confirm_enrolment(session: Session, actor: Actor, account: Account, code: str, *,
                      now: dt.datetime | None = None) -> None:
    secret = pending_secret(session, account)
    if secret is None:
        raise TotpError("请先生成动态口令密钥")
    now = now or utcnow()
    if not _use(account, secret, code, now):
        raise TotpError("动态口令不正确，请核对手机时间后输入身份验证器上当前显示的6位数字")
    account.totp_enabled_at = now
    record_change(session, actor, "account.totp_enable", object_type="account", object_id=account.id,
                  summary=f"账号 {account.username} 绑定动态口令（TOTP）")


def verify(session: Session, account: Account, code: str, *, now: dt.datetime | None = None) -> bool:
    """True when `code` is the account's current code and has not been used before (the caller commits)."""
    if not is_enabled(account):
        return False
    return _use(account, _open(session, account.totp_secret), code, now or utcnow())


def disable(session: Session, actor: Actor, account: Account, *, now: dt.datetime | None = None) -> None:
    """Remove the second factor; every session of the account ends (its holder signs in again)."""
    was_enabled = is_enabled(account)
    account.totp_secret, account.totp_enabled_at, account.totp_last_step = None, None, None
    if not was_enabled:
        return
    ended = account_sessions.end_all(session, account.id, reason="totp", now=now)
    own = actor.account_id == account.id
    record_change(session, actor, "account.totp_disable", object_type="account", object_id=account.id,
                  summary=f"{'解除本人' if own else '重置账号 ' + account.username + ' 的'}动态口令（TOTP）",
                  details={"sessions_ended": ended})


def required_roles(setting) -> frozenset[str]:
    """`REQUIRE_TOTP_ROLES` as a set: "admin,auditor", a list, or "" (none)."""
    if not setting:
        return frozenset()
    parts = setting.split(",") if isinstance(setting, str) else setting
    return frozenset(str(part).strip() for part in parts if str(part).strip())


def required_for(account: Account, roles: frozenset[str]) -> bool:
    """Whether the account must use a second factor: it signs in with a password and holds one of `roles`."""
    return bool(account.password_hash) and any(grant.role in roles for grant in account.grants)
