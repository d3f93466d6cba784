"""API keys: made once and shown once, kept only as a keyed digest, checked in constant time by lookup."""
from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import secrets

from sqlalchemy import select
from sqlalchemy.orm import Session, lazyload

from minqing.core.actors import Actor, actor_for
from minqing.core.changes import record_change
from minqing.core.models import Account, ApiKey, utcnow
from minqing.core.settings import secret_key

KEY_PREFIX = "mq_"
LAST_USE_RESOLUTION = dt.timedelta(minutes=5)   # how exactly `minqing apikey list` says when a key was last used


class UnknownAccount(LookupError):
    pass


def _digest(session: Session, key: str) -> str:
    return hmac.new(secret_key(session), key.encode(), hashlib.sha256).hexdigest()


def create(session: Session, actor: Actor, username: str, label: str = "") -> tuple[ApiKey, str]:
    """A new key for the account `username`; returns the row and the key itself (shown only now)."""
    account = session.scalar(select(Account).where(Account.username == username))
    if account is None:
        raise UnknownAccount(f"没有用户名为“{username}”的账号")
    key = KEY_PREFIX + secrets.token_urlsafe(32)
    row = ApiKey(prefix=key[:11], digest=_digest(session, key), account_id=account.id, label=label[:100])
    session.add(row)
    session.flush()
    record_change(session, actor, "apikey.create", object_type="api_key", object_id=row.id,
                  summary=f"为账号 {username} 创建接口密钥 {row.prefix}…")
    return row, key


def authenticate(session: Session, key: str | None, origin: str = "") -> Actor | None:
    """The actor a key stands for, or None for a missing, unknown or revoked key (or an inactive account)."""
    if not key or not key.startswith(KEY_PREFIX) or len(key) > 200:
        return None
    found = session.execute(select(ApiKey, Account).join(Account, Account.id == ApiKey.account_id)
                            .where(ApiKey.digest == _digest(session, key))
                            .options(lazyload(Account.grants))).one_or_none()   # actor_for reads them with codes
    if found is None:
        return None
    row, account = found
    if row.revoked_at is not None or not account.is_active:
        return None
    now = utcnow()
    # Written once per LAST_USE_RESOLUTION, not on every request: a write here would take SQLite's write lock
    # (PostgreSQL's row lock) at the start of every API request, so a client's requests would queue on each other.
    if row.last_used_at is None or now - row.last_used_at >= LAST_USE_RESOLUTION:
        row.last_used_at = now
    return actor_for(session, account, origin=origin)


def revoke(session: Session, actor: Actor, key_id: int) -> None:
    row = session.get(ApiKey, key_id)
    if row is not None and row.revoked_at is None:
        row.revoked_at = utcnow()
        record_change(session, actor, "apikey.revoke", object_type="api_key", object_id=key_id,
                      summary=f"吊销接口密钥 {row.prefix}…")


class UnknownKey(LookupError):
    pass


def listing(session: Session, *, include_revoked: bool = False) -> list[ApiKey]:
    """Every key (never the key itself: only its prefix), newest first."""
    statement = select(ApiKey).order_by(ApiKey.id.desc())
    if not include_revoked:
        statement = statement.where(ApiKey.revoked_at.is_(None))
    return list(session.scalars(statement))


def find(session: Session, id_or_prefix: str) -> ApiKey:
    """A key by its number or by the prefix shown when it was made (`mq_xxxxxxxx`)."""
    text = id_or_prefix.strip().rstrip("…")
    if text.isdigit():
        row = session.get(ApiKey, int(text))
    else:
        rows = []
        if text.startswith(KEY_PREFIX):
            rows = session.scalars(select(ApiKey).where(ApiKey.prefix == text[:11])).all()
        if len(rows) > 1:
            raise UnknownKey(f"有多个前缀为“{text}”的接口密钥，请用编号指定")
        row = rows[0] if rows else None
    if row is None:
        raise UnknownKey(f"没有编号或前缀为“{id_or_prefix}”的接口密钥（minqing apikey list 可查看）")
    return row
