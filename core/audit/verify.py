"""Walk the audit log's hash chain and name every record that was changed or deleted.

The walk reads the records in order of `seq`, a page at a time (keyset pagination: `seq > last seen`, so each
page costs an index range scan however deep into a million records it is), and checks three things:

- each record's hash is the hash of its content: if not, the record was **changed**;
- the numbers run without gaps from the anchor (the last record the retention job removed) to the head: a
  missing number is a **deleted** record (and its successor's `prev_hash` no longer matches, which the gap
  explains);
- each record's `prev_hash` is its predecessor's hash, and the head's `last_hash` is the last record's: a
  record whose content *and* hash were rewritten is caught by the record after it (or by the head).
"""
from __future__ import annotations

import dataclasses
from collections.abc import Callable

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ..models import AuditRecord
from .chain import CHAIN, GENESIS, HEAD, head, record_hash

PAGE = 5000
LOG = AuditRecord.__table__


@dataclasses.dataclass(frozen=True)
class Fault:
    kind: str  # "changed", "deleted", "outside" (a record off the chain), "head" (missing), "witness" (see verify)
    seq: int | None             # the changed record's number, or the first deleted one
    message: str                # Chinese, for the person reading the report
    id: int | None = None
    at: str | None = None
    action: str | None = None
    last_seq: int | None = None  # for "deleted": the last missing number (a run of deletions is one fault)

    def as_dict(self) -> dict:
        return {key: value for key, value in dataclasses.asdict(self).items() if value is not None}


@dataclasses.dataclass
class Report:
    count: int = 0
    first_seq: int | None = None
    last_seq: int = 0
    last_hash: str = GENESIS
    anchor_seq: int = 0
    faults: list[Fault] = dataclasses.field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.faults

    def as_dict(self) -> dict:
        return {"ok": self.ok, "count": self.count, "first_seq": self.first_seq, "last_seq": self.last_seq,
                "last_hash": self.last_hash, "anchor_seq": self.anchor_seq,
                "faults": [fault.as_dict() for fault in self.faults]}


def _changed(row, why: str) -> Fault:
    return Fault("changed", row.seq, f"第 {row.seq} 条记录（ID {row.id}，{row.at:%Y-%m-%d %H:%M:%S} UTC，"
                                     f"操作 {row.action}）已被篡改：{why}",
                 id=row.id, at=row.at.isoformat(), action=row.action)


def _named(report: Report, row) -> bool:
    """Whether `row` was already reported as changed (a rewritten hash breaks the next link too)."""
    return row is not None and bool(report.faults) and report.faults[-1].kind == "changed" \
        and report.faults[-1].seq == row.seq


def _deleted(first: int, last: int, before, after) -> Fault:
    where = "".join([f"，在 ID {before.id} 之后" if before is not None else "",
                     f"，在 ID {after.id} 之前" if after is not None else "，在链尾"])
    count = last - first + 1
    numbers = f"第 {first} 条" if count == 1 else f"第 {first}–{last} 条（共 {count} 条）"
    return Fault("deleted", first, f"{numbers}记录已被删除{where}", last_seq=last)


def verify(session: Session, *, upto: int | None = None, witness: tuple[int, str] | None = None, page: int = PAGE,
           progress: Callable[[int], None] | None = None) -> Report:
    """Check the chain from its anchor to the head (or to record `upto`); `progress(n)` after each page.

    `witness` is a (number, hash) noted earlier outside the database (a previous report's `last_seq` and
    `last_hash`): whoever can write the database can also cut the newest records *and* the head, so only such
    an outside note shows that; the walk must still pass through it unless the retention job removed it.

    On PostgreSQL a fresh session walks one snapshot (REPEATABLE READ), so writers and the retention job may
    run meanwhile without the walk seeing half of their work."""
    snapshot(session)
    top = head(session)
    report = Report()
    if top is None:
        present = session.scalar(select(func.count()).select_from(LOG))
        if present:
            report.faults.append(Fault("head", None, f"审计日志链头丢失，但仍有 {present} 条记录"))
        return report
    report.anchor_seq, last = top.anchor_seq, top.last_seq if upto is None else min(upto, top.last_seq)
    report.last_seq = last
    previous, previous_hash, expected = None, top.anchor_hash, top.anchor_seq + 1
    after = top.anchor_seq
    while after < last:
        rows = session.execute(select(LOG).where(LOG.c.seq > after, LOG.c.seq <= last)
                               .order_by(LOG.c.seq).limit(page)).all()
        if not rows:
            break
        for row in rows:
            if report.first_seq is None:
                report.first_seq = row.seq
            if row.seq > expected:
                report.faults.append(_deleted(expected, row.seq - 1, previous, row))
            elif row.prev_hash != previous_hash and not _named(report, previous):
                report.faults.append(_changed(previous, "其哈希与后一条记录所链接的不符") if previous is not None
                                     else _changed(row, "与清理后保留的锚点不相接"))
            if record_hash(row) != row.hash:
                report.faults.append(_changed(row, "内容与其哈希不符"))
            previous, previous_hash, expected = row, row.hash, row.seq + 1
            report.count += 1
        after = rows[-1].seq
        if progress:
            progress(len(rows))
    if expected <= last:
        report.faults.append(_deleted(expected, last, previous, None))
    elif upto is None and previous_hash != top.last_hash and previous is not None and not _named(report, previous):
        report.faults.append(_changed(previous, "其哈希与链头记录的不符"))
    report.last_hash = previous_hash
    _outside(session, report, beyond_head=upto is None)
    if witness is not None:
        _check_witness(session, report, *witness)
    return report


def _check_witness(session: Session, report: Report, seq: int, expected_hash: str) -> None:
    if seq <= report.anchor_seq:
        return  # removed by the retention job since, which the log records
    found = session.execute(select(LOG.c.hash).where(LOG.c.seq == seq)).scalar_one_or_none()
    if found is None:
        report.faults.append(Fault("witness", seq, f"此前记下的第 {seq} 条记录已不在审计日志中：最新的记录连同链头被删除了"))
    elif found != expected_hash:
        report.faults.append(Fault("witness", seq, f"第 {seq} 条记录的哈希与此前记下的不符：链被改写了"))


def _outside(session: Session, report: Report, *, beyond_head: bool) -> None:
    """Records the chain does not reach: numbered at or before the anchor (should have gone with it) or, on a
    full walk, after the head (never sealed by a commit: written around the platform). One statement, so a
    record committed meanwhile is compared with the head it was committed with."""
    condition = LOG.c.seq <= select(HEAD.c.anchor_seq).where(HEAD.c.name == CHAIN).scalar_subquery()
    if beyond_head:
        condition = condition | (LOG.c.seq > select(HEAD.c.last_seq).where(HEAD.c.name == CHAIN).scalar_subquery())
    for row in session.execute(select(LOG.c.id, LOG.c.seq, LOG.c.at, LOG.c.action).where(condition)
                               .order_by(LOG.c.seq).limit(100)):
        report.faults.append(Fault("outside", row.seq, f"第 {row.seq} 条记录（ID {row.id}，操作 {row.action}）"
                                                       "不在审计日志链上", id=row.id, at=row.at.isoformat(),
                                   action=row.action))


def snapshot(session: Session) -> None:
    """Begin the session's transaction as one snapshot on PostgreSQL (before it has read anything)."""
    if session.get_bind().dialect.name == "postgresql" and not session.in_transaction():
        session.connection(execution_options={"isolation_level": "REPEATABLE READ"})


def total(session: Session) -> int:
    """How many records a full walk will read (for a progress bar)."""
    top = head(session)
    return 0 if top is None else max(0, top.last_seq - top.anchor_seq)
