"""The audit log's hash chains: each record carries the hash of the one before it in its stream.

The log is a few streams (`MINQING_AUDIT_STREAMS`, default 8: "main", "s1", … "s7"), each its own hash chain
with its own head row in `audit_chain`. One head for the whole log made every committing writer on PostgreSQL
wait for the holder of that row's lock until it committed; with several heads, writers committing at once each
take a different one and none waits for another.

`record_change` only queues a record on its session (`append`). When the session's outermost transaction
commits, `seal` gives the queued records their stream, numbers and hashes and inserts them, in the same
transaction:

1. everything else the transaction changed is flushed first, so the stream's head is the last row it locks
   (a transaction holding a head never waits for another row, so a head cannot be part of a deadlock);
2. one UPDATE of a head row reserves the next numbers of its stream and returns the previous hash. On
   PostgreSQL the UPDATE picks the first head nobody holds (`FOR UPDATE SKIP LOCKED`, "main" first, so a
   quiet installation writes one stream), so it never waits for another committing writer; only when every
   head is held (more writers committing at the same moment than streams) does it wait for a random one, or,
   while a stream is being born, for its creator's commit. On SQLite the database has one writer at a time
   anyway: the UPDATE of "main" takes that write lock. Either way a transaction's records are consecutive in
   one stream, two transactions never interleave in a stream, and the numbers of a stream have no gaps;
3. the records are hashed in order and added; a second UPDATE stores the last hash in the head.

A record written inside a savepoint that is rolled back is dropped with it, and a rolled-back transaction
reserves nothing (the head's update is rolled back too), so no gap appears that `verify` would blame.

Records are numbered within their stream, not across the log: the order in which the log is read (the
auditors' pages, the export) is time, then id. A record's hash covers its stream's name (except in "main",
whose records predate streams and keep their hashes), so moving a record to another stream changes it.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import random
from typing import Any

from sqlalchemy import event, select, update
from sqlalchemy.orm import Session, SessionTransaction

from ..models import AuditChain, AuditRecord

CHAIN = "main"              # the first stream: all records written before there were streams (migration 0029)
STREAMS_ENV = "MINQING_AUDIT_STREAMS"
DEFAULT_STREAMS = 8         # heads writers can hold at once without waiting; more cost verify nothing but rows
MAX_STREAMS = 64
GENESIS = "0" * 64          # the "previous hash" of a stream's first record
HASH_FORMAT = "minqing-audit-1"
HEAD = AuditChain.__table__
_PENDING = "minqing.audit.pending"


def stream_names(environ=os.environ) -> list[str]:
    """The streams writers seal into: "main", "s1", … (`MINQING_AUDIT_STREAMS` of them, default 8). Fewer than
    before leaves the others as they are (verify still walks them); more start new streams at genesis."""
    value = environ.get(STREAMS_ENV, "").strip()
    if not value:
        count = DEFAULT_STREAMS
    elif value.isdigit() and 1 <= int(value) <= MAX_STREAMS:
        count = int(value)
    else:
        raise ValueError(f"{STREAMS_ENV} 应为 1 到 {MAX_STREAMS} 之间的整数（审计日志的并行链数），而不是“{value}”")
    return [CHAIN, *(f"s{n}" for n in range(1, count))]


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

    `record` is an AuditRecord or a row with the same attribute names; `prev_hash` defaults to its own. The
    stream is hashed too, except "main" (whose records were hashed before streams existed; a record without a
    stream, as migration 0008 hashes them, is in "main")."""
    content = [HASH_FORMAT, record.seq, _instant(record.at), record.actor_account_id, record.actor_name,
               record.origin, record.action, record.object_type, record.object_id, record.summary,
               _integral(record.details or {}), record.prev_hash if prev_hash is None else prev_hash]
    stream = getattr(record, "stream", None) or CHAIN
    if stream != CHAIN:
        content.append(stream)
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


def take(session: Session) -> list[AuditRecord]:
    """The queued records, removed from the queue (to be sealed now)."""
    return [record for _, record in session.info.pop(_PENDING, ())]


def seal(session: Session, records: list[AuditRecord], *, stream: str | None = None) -> str:
    """Number, hash and add `records` after the head of a stream (a free one, or `stream`), within the
    session's transaction; the stream's name."""
    session.flush()
    stream, first, previous = _reserve(session, len(records), stream)
    for seq, record in enumerate(records, start=first):
        record.stream, record.seq, record.prev_hash = stream, seq, previous
        record.hash = previous = record_hash(record)
    session.add_all(records)
    session.execute(update(HEAD).where(HEAD.c.name == stream).values(last_hash=previous))
    return stream


def _advance(count: int, which):
    return (update(HEAD).where(which).values(last_seq=HEAD.c.last_seq + count)
            .returning(HEAD.c.name, HEAD.c.last_seq, HEAD.c.last_hash))


def _reserve(session: Session, count: int, stream: str | None) -> tuple[str, int, str]:
    """Lock a head and move it `count` records on: (its stream, first number, hash of the record before it)."""
    names = stream_names()  # read on every backend, so a wrong setting shows on SQLite too
    if stream is None and session.get_bind().dialect.name == "postgresql":
        # one statement: the subquery locks the first head no other transaction holds, the UPDATE moves it
        free = (select(HEAD.c.name).where(HEAD.c.name.in_(names)).order_by(HEAD.c.name).limit(1)
                .with_for_update(skip_locked=True).scalar_subquery())
        row = session.execute(_advance(count, HEAD.c.name == free)).one_or_none()
        if row is not None:
            return row.name, row.last_seq - count + 1, row.last_hash
        stream = _unborn_or_any(session, names)
    stream = stream or CHAIN
    statement = _advance(count, HEAD.c.name == stream)
    row = session.execute(statement).one_or_none()
    if row is None:
        _create_head(session, stream)
        row = session.execute(statement).one()
    return stream, row.last_seq - count + 1, row.last_hash


def _unborn_or_any(session: Session, names: list[str]) -> str:
    """Every head there is was held: a stream without a head yet ("main" first, so a head cut away grows again
    where it was), else any stream (waiting for its holder's commit)."""
    existing = set(session.scalars(select(HEAD.c.name).where(HEAD.c.name.in_(names))))
    unborn = [name for name in names if name not in existing]
    if CHAIN in unborn:
        return CHAIN
    return random.choice(unborn or names)  # random: writers who must wait spread over the heads


def _create_head(session: Session, stream: str) -> None:
    """A stream's head row, made on first use after the stream's last record (none for a new stream). Two
    transactions may try at once: the second one's insert waits for the first to commit, then does nothing."""
    tail = session.execute(select(AuditRecord.seq, AuditRecord.hash).where(AuditRecord.stream == stream)
                           .order_by(AuditRecord.seq.desc()).limit(1)).one_or_none()
    values = {"name": stream, "last_seq": tail.seq if tail else 0, "last_hash": tail.hash if tail else GENESIS,
              "anchor_seq": 0, "anchor_hash": GENESIS}
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    session.execute(insert(HEAD).values(**values).on_conflict_do_nothing(index_elements=["name"]))


def head(session: Session, stream: str = CHAIN):
    """A stream's head row (name, last_seq, last_hash, anchor_seq, anchor_hash, anchor_at), or None before
    its first record."""
    return session.execute(select(HEAD).where(HEAD.c.name == stream)).one_or_none()


def heads(session: Session) -> list:
    """Every stream's head row, by name."""
    return session.execute(select(HEAD).order_by(HEAD.c.name)).all()


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
    queued = take(session)
    if queued:
        seal(session, queued)


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
