"""The retention job: remove audit records older than the retention period, keeping the chain verifiable.

The Cybersecurity Law (网络安全法, art. 21) asks for network logs to be kept for no less than six months, so
nothing younger than 184 days is ever removed: `prune` refuses a shorter period, and on PostgreSQL the database
itself refuses to delete a younger record. The period is `MINQING_AUDIT_RETENTION_DAYS` (default 365).

Each stream of the log (`core.audit.chain`) is pruned on its own: only a prefix of the stream is removed (its
records before its first one younger than the cutoff), after walking it: a prefix with a changed or deleted
record stops the whole job before anything is removed, so pruning never erases the evidence of tampering. The
last removed record of a stream becomes its anchor (number and hash stored in the stream's head) that `verify`
starts from. The job records itself in the audit log.
"""
from __future__ import annotations

import dataclasses
import datetime as dt
import os
from collections.abc import Callable

from sqlalchemy import delete, func, select, text, update
from sqlalchemy.orm import Session

from ..actors import Actor
from ..changes import record_change
from ..models import AuditRecord, utcnow
from .chain import CHAIN, HEAD, heads
from .verify import verify

MIN_RETENTION_DAYS = 184     # six months, counted generously
DEFAULT_RETENTION_DAYS = 365
RETENTION_ENV = "MINQING_AUDIT_RETENTION_DAYS"
BATCH = 10_000
LOG = AuditRecord.__table__


class RetentionError(ValueError):
    """A retention period that is too short, or a chain that must not be pruned."""


@dataclasses.dataclass(frozen=True)
class Pruned:
    removed: int
    anchors: dict[str, int]     # each stream's anchor afterwards: its last removed record (0: none ever)
    cutoff: dt.datetime
    days: int

    @property
    def anchor_seq(self) -> int:
        """The anchor of the stream "main"."""
        return self.anchors.get(CHAIN, 0)

    def as_dict(self) -> dict:
        return {"removed": self.removed, "anchor_seq": self.anchor_seq, "anchors": self.anchors,
                "cutoff": self.cutoff.isoformat(), "days": self.days}


def check_days(days: int) -> int:
    if days < MIN_RETENTION_DAYS:
        raise RetentionError(f"审计日志至少保留 {MIN_RETENTION_DAYS} 天（《网络安全法》要求网络日志留存不少于六个月），"
                             f"不能清理 {days} 天以内的记录")
    return days


def retention_days(environ=os.environ) -> int:
    """The configured retention period in days (MINQING_AUDIT_RETENTION_DAYS, default 365, at least 184)."""
    value = environ.get(RETENTION_ENV, "").strip()
    if not value:
        return DEFAULT_RETENTION_DAYS
    if not value.isdigit():
        raise RetentionError(f"{RETENTION_ENV} 应为天数（整数），而不是“{value}”")
    return check_days(int(value))


def prune(session: Session, actor: Actor, older_than_days: int, *, now: dt.datetime | None = None,
          batch: int = BATCH, progress: Callable[[int], None] | None = None) -> Pruned:
    """Remove the records older than `older_than_days` (at least 184) in the caller's transaction."""
    days = check_days(older_than_days)
    cutoff = (now or utcnow()) - dt.timedelta(days=days)
    tops = heads(session)
    ends = {top.name: _last_old(session, top, cutoff) for top in tops}
    for top in tops:  # every prefix is checked before anything is removed
        if ends[top.name] > top.anchor_seq:
            _check_prefix(session, top.name, ends[top.name])
    removed, anchors = 0, {}
    for top in tops:
        anchors[top.name] = top.anchor_seq
        if ends[top.name] > top.anchor_seq:
            anchors[top.name] = ends[top.name]
            removed += _remove(session, top, ends[top.name], batch, progress)
    record_change(session, actor, "audit.prune", object_type="audit_log", object_id=anchors.get(CHAIN, 0),
                  summary=f"按保留期 {days} 天清理审计记录 {removed} 条",
                  details={"days": days, "cutoff": cutoff.isoformat(), "removed": removed,
                           "anchor_seq": anchors.get(CHAIN, 0), "anchors": anchors})
    return Pruned(removed=removed, anchors=anchors, cutoff=cutoff, days=days)


def _last_old(session: Session, top, cutoff: dt.datetime) -> int:
    """The stream's last record before its first one younger than the cutoff."""
    first_young = session.scalar(select(func.min(LOG.c.seq)).where(LOG.c.stream == top.name, LOG.c.at >= cutoff))
    return first_young - 1 if first_young is not None else top.last_seq


def _remove(session: Session, top, last_old: int, batch: int, progress) -> int:
    """Delete the stream's records after its anchor up to `last_old`, which becomes the anchor."""
    anchor = session.execute(select(LOG.c.seq, LOG.c.hash, LOG.c.at)
                             .where(LOG.c.stream == top.name, LOG.c.seq == last_old)).one()
    _allow_deletes(session)
    removed = 0
    for start in range(top.anchor_seq, last_old, batch):
        done = session.execute(delete(LOG).where(LOG.c.stream == top.name, LOG.c.seq > start,
                                                 LOG.c.seq <= min(start + batch, last_old)))
        removed += done.rowcount
        if progress:
            progress(done.rowcount)
    # only forward: a second run racing this one can never move the anchor back over removed records
    session.execute(update(HEAD).where(HEAD.c.name == top.name, HEAD.c.anchor_seq < anchor.seq)
                    .values(anchor_seq=anchor.seq, anchor_hash=anchor.hash, anchor_at=anchor.at))
    return removed


def _check_prefix(session: Session, stream: str, last_old: int) -> None:
    report = verify(session, stream=stream, upto=last_old)
    if not report.ok:
        raise RetentionError("待清理的审计记录中有被篡改或删除的记录，为保留证据已停止清理："
                             + "；".join(fault.message for fault in report.faults[:5])
                             + "。请运行 minqing audit verify 查看全部问题")


def _allow_deletes(session: Session) -> None:
    """On PostgreSQL the audit log's trigger refuses DELETE unless this transaction declares it is the
    retention job (the setting ends with the transaction)."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT set_config('minqing.audit_retention', 'on', true)"))


def run_scheduled(platform, *, environ=os.environ) -> Pruned:
    """The periodic task: prune with the configured retention period, as the system."""
    from ..actors import system_actor

    days = retention_days(environ)
    with platform.db.session() as session:
        return prune(session, system_actor("beat"), days)
