"""The phones' outboxes (work end offline, docs/work-end.md): each sync of a grid worker's phone reports how many
submissions still wait on it, and the command post sees, per worker, that count and the time of the last sync.

The count is the phone's report about itself, not a change of the city's data, so (like the read state of
notifications) it is kept without an audit record: a phone syncing on every page open would otherwise fill the
audit log with noise. The submissions themselves are audited by their own services when they arrive.
"""
from __future__ import annotations

import dataclasses
import datetime as dt

from sqlalchemy import select
from sqlalchemy.orm import Session

from . import scope
from .actors import Actor
from .models import Account, Grid, PhoneOutbox, Role, RoleGrant, utcnow

MAX_PENDING = 10_000     # a phone claiming more is lying or broken: the figure is capped, not refused


class OutboxReportRefused(ValueError):
    """A waiting count that is not a whole number (the Chinese message names the field)."""


def report(session: Session, actor: Actor, pending, *, now: dt.datetime | None = None) -> PhoneOutbox:
    """Record that `actor`'s phone has `pending` submissions waiting, as of now. The caller commits."""
    if actor.account_id is None:
        raise OutboxReportRefused("待发送数量：只有登录的账号可以同步")
    try:
        count = int(pending)
    except (TypeError, ValueError):
        raise OutboxReportRefused("待发送数量：应为不小于 0 的整数") from None
    if count < 0 or str(pending).strip() not in (str(count), f"{count}.0"):
        raise OutboxReportRefused("待发送数量：应为不小于 0 的整数")
    row = session.get(PhoneOutbox, actor.account_id)
    if row is None:
        row = PhoneOutbox(account_id=actor.account_id)
        session.add(row)
    row.pending, row.synced_at = min(count, MAX_PENDING), now or utcnow()
    session.flush()
    return row


@dataclasses.dataclass(frozen=True)
class WorkerOutbox:
    account_id: int
    name: str
    grid: str
    pending: int | None          # None: the phone never synced
    synced_at: dt.datetime | None


def worker_outboxes(session: Session, viewer: Actor, limit: int = 500) -> list[WorkerOutbox]:
    """The grid workers whose grid lies in `viewer`'s scope, with what their phone last reported: most waiting
    first, then the longest without a sync."""
    statement = scope.restrict(
        select(Account.id, Account.display_name, Grid.name, PhoneOutbox.pending, PhoneOutbox.synced_at)
        .join(RoleGrant, RoleGrant.account_id == Account.id)
        .join(Grid, Grid.id == RoleGrant.grid_id)
        .outerjoin(PhoneOutbox, PhoneOutbox.account_id == Account.id)
        .where(RoleGrant.role == Role.GRID_WORKER, Account.is_active.is_(True)), Grid, viewer)
    rows: dict[int, WorkerOutbox] = {}
    for account_id, name, grid, pending, synced_at in session.execute(statement):
        if account_id in rows:   # a worker of several grids: one row, the grids named together
            earlier = rows[account_id]
            rows[account_id] = dataclasses.replace(earlier, grid=f"{earlier.grid}、{grid}")
            continue
        rows[account_id] = WorkerOutbox(account_id, name, grid, pending, synced_at)
    never = dt.datetime.min.replace(tzinfo=dt.timezone.utc)
    ordered = sorted(rows.values(), key=lambda row: (-(row.pending or 0), row.synced_at or never, row.name))
    return ordered[:limit]
