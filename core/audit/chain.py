"""The audit log's hash chain: each record carries the hash of the one before it.

`record_change` only queues a record on its session (`append`). When the session's outermost transaction
commits, `seal` gives the queued records their numbers and hashes and inserts them, in the same transaction:

1. everything else the transaction changed is flushed first, so the chain head is the last row it locks
   (a transaction holding the head never waits for another row, so the head cannot be part of a deadlock);
2. one UPDATE of the head row reserves the next numbers and returns the previous hash. On PostgreSQL the
   row lock it takes makes every other committing writer wait until this transaction ends; on SQLite the
   UPDATE takes the database's single write lock. Either way the records of two transactions never
   interleave and the numbers have no gaps;
3. the records are hashed in order and added; a second UPDATE stores the last hash in the head.

A record written inside a savepoint that is rolled back is dropped with it, and a rolled-back transaction
reserves nothing (the head's update is rolled back too), so no gap appears that `verify` would blame.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import json
from typing import Any

from sqlalchemy import event, select, update
from sqlalchemy.orm import Session, SessionTransaction

from ..models import AuditChain, AuditRecord

CHAIN = "main"
GENESIS = "0" * 64          # the "previous hash" of the first record ever written
HASH_FORMAT = "minqing-audit-1"
HEAD = AuditChain.__table__
_PENDING = "minqing.audit.pending"


# -- what is hashed ---------------------------------------------------------------------------------------------

def plain_details(details: dict | None) -> dict:
    """`details` as every backend gives them back: JSON types only, integral floats as integers (PostgreSQL's
    jsonb keeps numbers as decimals, so 1e16 comes back as an int)."""
    return _integral(json.loads(json.dumps(details or {}, ensure_ascii=False)))


def _integral(value: Any) -> Any:
    if isinstance(value, dict):
        return {key: _integral(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_integral(item) for item in value]
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def _instant(value: dt.datetime) -> str:
    if value.tzinfo is not dt.UTC:
        value = value.astimezone(dt.UTC)
    return value.isoformat(timespec="microseconds")


_CANONICAL = json.JSONEncoder(ensure_ascii=False, sort_keys=True, separators=(",", ":"))  # made once: verify
# hashes a million records, and json.dumps with options builds a new encoder on every call


def record_hash(record, prev_hash: str | None = None) -> str:
    """SHA-256 over a canonical serialisation of the record's content and the previous record's hash.

    `record` is an AuditRecord or a row with the same attribute names; `prev_hash` defaults to its own."""
    content = [HASH_FORMAT, record.seq, _instant(record.at), record.actor_account_id, record.actor_name,
               record.origin, record.action, record.object_type, record.object_id, record.summary,
               _integral(record.details or {}), record.prev_hash if prev_hash is None else prev_hash]
    return hashlib.sha256(_CANONICAL.encode(content).encode()).hexdigest()


# -- queueing and sealing ---------------------------------------------------------------------------------------

def append(session: Session, record: AuditRecord) -> None:
    """Queue `record` to be chained and inserted when the session's transaction commits."""
    if not session.in_transaction():  # begun now (no SQL yet), so a rollback before any query drops the record
        session.begin()
    owner = session.get_nested_transaction() or session.get_transaction()
    session.info.setdefault(_PENDING, []).append((owner, record))


def pending(session: Session) -> list[AuditRecord]:
    return [record for _, record in session.info.get(_PENDING, ())]


def seal(session: Session, records: list[AuditRecord]) -> None:
    """Number, hash and add `records` after the chain's current head, within the session's transaction."""
    session.flush()
    first, previous = _reserve(session, len(records))
    for seq, record in enumerate(records, start=first):
        record.seq, record.prev_hash = seq, previous
        record.hash = previous = record_hash(record)
    session.add_all(records)
    session.execute(update(HEAD).where(HEAD.c.name == CHAIN).values(last_hash=previous))


def _reserve(session: Session, count: int) -> tuple[int, str]:
    """Lock the head and move it `count` records on: (first number, hash of the record before it)."""
    statement = (update(HEAD).where(HEAD.c.name == CHAIN).values(last_seq=HEAD.c.last_seq + count)
                 .returning(HEAD.c.last_seq, HEAD.c.last_hash))
    row = session.execute(statement).one_or_none()
    if row is None:
        _create_head(session)
        row = session.execute(statement).one()
    return row.last_seq - count + 1, row.last_hash


def _create_head(session: Session) -> None:
    """The head row, made on first use after the last record there is (none in a new database). Two
    transactions may try at once: the second one's insert does nothing."""
    tail = session.execute(select(AuditRecord.seq, AuditRecord.hash)
                           .order_by(AuditRecord.seq.desc()).limit(1)).one_or_none()
    values = {"name": CHAIN, "last_seq": tail.seq if tail else 0, "last_hash": tail.hash if tail else GENESIS,
              "anchor_seq": 0, "anchor_hash": GENESIS}
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    session.execute(insert(HEAD).values(**values).on_conflict_do_nothing(index_elements=["name"]))


def head(session: Session):
    """The head row (last_seq, last_hash, anchor_seq, anchor_hash, anchor_at), or None before any record."""
    return session.execute(select(HEAD).where(HEAD.c.name == CHAIN)).one_or_none()


def _within(owner: SessionTransaction | None, transaction: SessionTransaction) -> bool:
    while owner is not None:
        if owner is transaction:
            return True
        owner = owner.parent
    return False


@event.listens_for(Session, "before_commit")
def _seal_on_commit(session: Session) -> None:
    if session.in_nested_transaction():  # releasing a savepoint: the records wait for the outer commit
        return
    queued = session.info.pop(_PENDING, None)
    if queued:
        seal(session, [record for _, record in queued])


@event.listens_for(Session, "after_soft_rollback")
def _drop_rolled_back(session: Session, previous_transaction: SessionTransaction) -> None:
    queued = session.info.get(_PENDING)
    if not queued:
        return
    if previous_transaction.parent is None:
        session.info.pop(_PENDING, None)
    else:  # a savepoint: only what was written inside it goes
        session.info[_PENDING] = [(owner, record) for owner, record in queued
                                  if not _within(owner, previous_transaction)]


@event.listens_for(Session, "after_transaction_end")
def _forget_on_end(session: Session, transaction: SessionTransaction) -> None:
    if transaction.parent is None:  # committed (already sealed), rolled back or closed: nothing carries over
        session.info.pop(_PENDING, None)
