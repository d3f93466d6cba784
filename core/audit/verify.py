"""Walk the audit log's hash chains, one stream after another, and name every record that was changed or deleted.

Each stream (`core.audit.chain`) is read in order of `seq`, a page at a time (keyset pagination: `seq > last
seen` within the stream, so each page costs a range scan of the (stream, seq) index however deep into a
million records it is), and three things are checked:

- each record's hash is the hash of its content: if not, the record was **changed**;
- the numbers run without gaps from the stream's anchor (its last record the retention job removed) to its
  head: a missing number is a **deleted** record (and its successor's `prev_hash` no longer matches, which the
  gap explains);
- each record's `prev_hash` is its predecessor's hash, and the head's `last_hash` is the last record's: a
  record whose content *and* hash were rewritten is caught by the record after it (or by the head).

Then the records no chain reaches: a stream's records whose head is gone (**head**), numbered at or before the
anchor or past the head (**outside**). A witness noted earlier (`Report.witness`: every stream's head) shows
what no check inside the database can: the newest records cut together with their heads.
"""
from __future__ import annotations

import dataclasses
from collections.abc import Callable

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ..models import AuditRecord
from .chain import CHAIN, GENESIS, HEAD, head, heads, record_hash

PAGE = 5000
LOG = AuditRecord.__table__
Witness = list[tuple[str, int, str]]  # (stream, seq, hash) of each stream's head when it was noted


@dataclasses.dataclass(frozen=True)
class Fault:
    kind: str  # "changed", "deleted", "outside" (a record off the chain), "head" (missing), "witness" (see verify)
    seq: int | None             # the changed record's number, or the first deleted one
    message: str                # Chinese, for the person reading the report
    id: int | None = None
    at: str | None = None
    action: str | None = None
    last_seq: int | None = None  # for "deleted": the last missing number (a run of deletions is one fault)
    stream: str = CHAIN

    def as_dict(self) -> dict:
        return {key: value for key, value in dataclasses.asdict(self).items() if value is not None}


@dataclasses.dataclass
class Stream:
    """What the walk found in one stream."""
    name: str
    count: int = 0
    first_seq: int | None = None
    last_seq: int = 0
    last_hash: str = GENESIS
    anchor_seq: int = 0

    def as_dict(self) -> dict:
        return dataclasses.asdict(self)


@dataclasses.dataclass
class Report:
    streams: list[Stream] = dataclasses.field(default_factory=list)
    faults: list[Fault] = dataclasses.field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.faults

    @property
    def count(self) -> int:
        return sum(stream.count for stream in self.streams)

    @property
    def main(self) -> Stream:
        """The stream "main" (the whole log before there were streams): `first_seq`, `last_seq`, … are its."""
        return next((stream for stream in self.streams if stream.name == CHAIN), Stream(CHAIN))

    first_seq = property(lambda self: self.main.first_seq)
    last_seq = property(lambda self: self.main.last_seq)
    last_hash = property(lambda self: self.main.last_hash)
    anchor_seq = property(lambda self: self.main.anchor_seq)

    @property
    def witness(self) -> str:
        """Every stream's head as `--witness` takes it: "main:SEQ:HASH,s1:SEQ:HASH,…" (streams still empty
        left out)."""
        return ",".join(f"{stream.name}:{stream.last_seq}:{stream.last_hash}" for stream in self.streams
                        if stream.last_seq)

    def as_dict(self) -> dict:
        return {"ok": self.ok, "count": self.count, "first_seq": self.first_seq, "last_seq": self.last_seq,
                "last_hash": self.last_hash, "anchor_seq": self.anchor_seq, "witness": self.witness,
                "streams": [stream.as_dict() for stream in self.streams],
                "faults": [fault.as_dict() for fault in self.faults]}


def numbered(stream: str, seq: int | str) -> str:
    """"第 12 条" in "main", "审计流 s3 第 12 条" in another stream."""
    return f"第 {seq} 条" if stream == CHAIN else f"审计流 {stream} 第 {seq} 条"


def _changed(row, why: str) -> Fault:
    return Fault("changed", row.seq, f"{numbered(row.stream, row.seq)}记录（ID {row.id}，"
                                     f"{row.at:%Y-%m-%d %H:%M:%S} UTC，操作 {row.action}）已被篡改：{why}",
                 id=row.id, at=row.at.isoformat(), action=row.action, stream=row.stream)


def _named(report: Report, row) -> bool:
    """Whether `row` was already reported as changed (a rewritten hash breaks the next link too)."""
    return row is not None and bool(report.faults) and report.faults[-1].kind == "changed" \
        and (report.faults[-1].stream, report.faults[-1].seq) == (row.stream, row.seq)


def _deleted(stream: str, first: int, last: int, before, after) -> Fault:
    where = "".join([f"，在 ID {before.id} 之后" if before is not None else "",
                     f"，在 ID {after.id} 之前" if after is not None else "，在链尾"])
    count = last - first + 1
    numbers = numbered(stream, first) if count == 1 else numbered(stream, f"{first}–{last}") + f"（共 {count} 条）"
    return Fault("deleted", first, f"{numbers}记录已被删除{where}", last_seq=last, stream=stream)


def verify(session: Session, *, stream: str | None = None, upto: int | None = None, witness: Witness | None = None,
           page: int = PAGE, progress: Callable[[int], None] | None = None) -> Report:
    """Check every stream (or only `stream`, up to its record `upto`) from its anchor to its head;
    `progress(n)` after each page.

    `witness` is every stream's (name, number, hash) noted earlier outside the database (a previous report's
    `witness`): whoever can write the database can also cut the newest records *and* the heads, so only such an
    outside note shows that; each stream must still pass through its noted record unless the retention job
    removed it.

    On PostgreSQL a fresh session walks one snapshot (REPEATABLE READ), so writers and the retention job may
    run meanwhile without the walk seeing half of their work."""
    snapshot(session)
    report = Report()
    tops = [top for top in heads(session) if stream is None or top.name == stream]
    for top in tops:
        _walk(session, report, top, upto, page, progress)
    _headless(session, report, stream)
    _outside(session, report, stream, beyond_head=upto is None)
    for name, seq, digest in witness or ():
        _check_witness(session, report, name, seq, digest)
    return report


def _walk(session: Session, report: Report, top, upto: int | None, page: int, progress) -> None:
    found = Stream(top.name, anchor_seq=top.anchor_seq)
    report.streams.append(found)
    last = top.last_seq if upto is None else min(upto, top.last_seq)
    found.last_seq = last
    previous, previous_hash, expected = None, top.anchor_hash, top.anchor_seq + 1
    after = top.anchor_seq
    while after < last:
        rows = session.execute(select(LOG).where(LOG.c.stream == top.name, LOG.c.seq > after, LOG.c.seq <= last)
                               .order_by(LOG.c.seq).limit(page)).all()
        if not rows:
            break
        for row in rows:
            if found.first_seq is None:
                found.first_seq = row.seq
            if row.seq > expected:
                report.faults.append(_deleted(top.name, expected, row.seq - 1, previous, row))
            elif row.prev_hash != previous_hash and not _named(report, previous):
                report.faults.append(_changed(previous, "其哈希与后一条记录所链接的不符") if previous is not None
                                     else _changed(row, "与清理后保留的锚点不相接"))
            if record_hash(row) != row.hash:
                report.faults.append(_changed(row, "内容与其哈希不符"))
            previous, previous_hash, expected = row, row.hash, row.seq + 1
            found.count += 1
        after = rows[-1].seq
        if progress:
            progress(len(rows))
    if expected <= last:
        report.faults.append(_deleted(top.name, expected, last, previous, None))
    elif upto is None and previous_hash != top.last_hash and previous is not None and not _named(report, previous):
        report.faults.append(_changed(previous, "其哈希与链头记录的不符"))
    found.last_hash = previous_hash


def _check_witness(session: Session, report: Report, stream: str, seq: int, expected_hash: str) -> None:
    top = head(session, stream)
    if top is not None and seq <= top.anchor_seq:
        return  # removed by the retention job since, which the log records
    found = session.execute(select(LOG.c.hash).where(LOG.c.stream == stream, LOG.c.seq == seq)).scalar_one_or_none()
    if found is None:
        report.faults.append(Fault("witness", seq, f"此前记下的{numbered(stream, seq)}记录已不在审计日志中："
                                                   "最新的记录连同链头被删除了", stream=stream))
    elif found != expected_hash:
        report.faults.append(Fault("witness", seq, f"{numbered(stream, seq)}记录的哈希与此前记下的不符：链被改写了",
                                   stream=stream))


def _headless(session: Session, report: Report, stream: str | None) -> None:
    """Records of a stream whose head row is gone."""
    query = (select(LOG.c.stream, func.count()).select_from(LOG.outerjoin(HEAD, HEAD.c.name == LOG.c.stream))
             .where(HEAD.c.name.is_(None)).group_by(LOG.c.stream).order_by(LOG.c.stream))
    if stream is not None:
        query = query.where(LOG.c.stream == stream)
    for name, present in session.execute(query):
        where = "审计日志链头" if name == CHAIN else f"审计流 {name} 的链头"
        report.faults.append(Fault("head", None, f"{where}丢失，但仍有 {present} 条记录", stream=name))


def _outside(session: Session, report: Report, stream: str | None, *, beyond_head: bool) -> None:
    """Records their stream's chain does not reach: numbered at or before its anchor (should have gone with it)
    or, on a full walk, after its head (never sealed by a commit: written around the platform). One statement,
    so a record committed meanwhile is compared with the head it was committed with."""
    condition = LOG.c.seq <= HEAD.c.anchor_seq
    if beyond_head:
        condition = condition | (LOG.c.seq > HEAD.c.last_seq)
    query = (select(LOG.c.id, LOG.c.stream, LOG.c.seq, LOG.c.at, LOG.c.action)
             .join(HEAD, HEAD.c.name == LOG.c.stream).where(condition))
    if stream is not None:
        query = query.where(LOG.c.stream == stream)
    for row in session.execute(query.order_by(LOG.c.stream, LOG.c.seq).limit(100)):
        report.faults.append(Fault("outside", row.seq, f"{numbered(row.stream, row.seq)}记录（ID {row.id}，操作 "
                                                       f"{row.action}）不在审计日志链上", id=row.id,
                                   at=row.at.isoformat(), action=row.action, stream=row.stream))


def snapshot(session: Session) -> None:
    """Begin the session's transaction as one snapshot on PostgreSQL (before it has read anything)."""
    if session.get_bind().dialect.name == "postgresql" and not session.in_transaction():
        session.connection(execution_options={"isolation_level": "REPEATABLE READ"})


def total(session: Session) -> int:
    """How many records a full walk will read (for a progress bar)."""
    return sum(max(0, top.last_seq - top.anchor_seq) for top in heads(session))
