"""Idempotent creates: an `Idempotency-Key` header (or `client_id` in the JSON body) makes a retried request answer
with the first result — the same status and body — instead of doing the work twice.

The key is the caller's, per account: (account, key) is unique in `idempotency_keys`, which keeps the method,
path, a digest of the body and the first successful answer. The same key with another body (or on another path)
is refused with 422, since it cannot be a retry. A failed request (4xx) stores nothing: fix it and send it again
with the same key. Two copies racing each other meet at the unique index (and at the unique client id of the
case or visit, which `client_id_for` derives from the same key), so only one result is ever kept.

    status, body, replayed = idempotency.run_once(session, actor, key, "POST", path, payload, work)
"""
from __future__ import annotations

import hashlib
import json
from collections.abc import Callable

from flask import request
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from minqing.core.actors import Actor
from minqing.core.models import IdempotencyKey

from .errors import ApiError

HEADER = "Idempotency-Key"
REPLAYED_HEADER = "Idempotent-Replayed"
BODY_FIELD = "client_id"
MAX_KEY = 200


def key_of(body: dict | None = None) -> str | None:
    """The request's idempotency key: the header, else the body's client_id; None when neither is given."""
    key = request.headers.get(HEADER)
    if key is None and isinstance(body, dict) and body.get(BODY_FIELD) is not None:
        key = body[BODY_FIELD]
        if not isinstance(key, str):
            raise ApiError(422, "form_invalid", "client_id 应为文本", {BODY_FIELD: ["client_id 应为文本"]})
    if key is None:
        return None
    key = key.strip()
    if not key or len(key) > MAX_KEY or not key.isprintable():
        raise ApiError(400, "invalid_idempotency_key", f"{HEADER} 应为 1 至 {MAX_KEY} 个可打印字符")
    return key


def request_hash(method: str, path: str, body) -> str:
    canonical = json.dumps(body, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str)
    return hashlib.sha256(f"{method.upper()} {path}\n{canonical}".encode()).hexdigest()


def client_id_for(account_id: int | None, key: str, prefix: str = "api-") -> str:
    """A client id for a case or visit (unique across all callers) derived from the caller's key: one account's
    key can never land on another account's object."""
    return prefix + hashlib.sha256(f"{account_id}:{key}".encode()).hexdigest()[:40]


def _stored(session: Session, account_id: int, key: str) -> IdempotencyKey | None:
    return session.scalar(select(IdempotencyKey).where(IdempotencyKey.account_id == account_id,
                                                       IdempotencyKey.key == key))


def _replay(row: IdempotencyKey, method: str, path: str, digest: str) -> tuple[int, dict, bool]:
    if row.method != method.upper() or row.path != path or row.request_hash != digest:
        raise ApiError(422, "idempotency_key_reused",
                       f"幂等键“{row.key[:60]}”已用于另一个不同的请求（{row.method} {row.path}）；"
                       "重试请发送完全相同的内容，新的请求请使用新的幂等键",
                       {HEADER: ["该幂等键已用于内容不同的请求"]})
    return row.response_status, row.response_body, True


def run_once(session: Session, actor: Actor, key: str | None, method: str, path: str, body,
             work: Callable[[], tuple[int, dict]]) -> tuple[int, dict, bool]:
    """(status, body, replayed): the stored answer for a retry, else `work()`'s answer, stored when it succeeded.

    The caller commits (the stored answer goes with the work it describes, or neither does)."""
    if not key or actor.account_id is None:
        status, answer = work()
        return status, answer, False
    digest = request_hash(method, path, body)
    row = _stored(session, actor.account_id, key)
    if row is not None:
        return _replay(row, method, path, digest)
    status, answer = work()
    if not 200 <= status < 300:
        return status, answer, False
    try:
        with session.begin_nested():
            session.add(IdempotencyKey(account_id=actor.account_id, key=key, method=method.upper(), path=path,
                                       request_hash=digest, response_status=status, response_body=answer))
    except IntegrityError:  # the same key arrived twice at once: the first stored answer wins, this work is undone
        session.rollback()
        row = _stored(session, actor.account_id, key)
        if row is None:
            raise
        return _replay(row, method, path, digest)
    return status, answer, False


def prune(session: Session, older_than) -> int:
    """Forget keys stored before `older_than` (a datetime); returns how many."""
    from sqlalchemy import delete

    result = session.execute(delete(IdempotencyKey).where(IdempotencyKey.created_at < older_than))
    return result.rowcount or 0
