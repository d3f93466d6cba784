"""重点网格 (key grids held by party secretaries, 包抓) and the 帮办实事 ledger (practical matters done for residents)."""
from __future__ import annotations

import datetime as dt
import enum

from sqlalchemy import CheckConstraint, Date, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base, utcnow


class KeyGrid(Base):
    """A small red or yellow grid held by a party secretary (党组织书记包抓), from `assigned_at` until removed.

    `active` is True while the assignment holds and NULL once removed, so the unique key allows one live
    assignment per grid on every backend (NULLs never collide) and any number of past ones. The grid's colour
    at assignment is kept: the trend since then is that colour → the grid's colour now (a grid that turns blue
    stays a key grid, shown as improved)."""

    __tablename__ = "key_grids"
    __table_args__ = (UniqueConstraint("grid_id", "active"),
                      CheckConstraint("colour_at_assignment in ('red','yellow','blue')", name="colour"))

    id: Mapped[int] = mapped_column(primary_key=True)
    grid_id: Mapped[int] = mapped_column(ForeignKey("grids.id"), index=True)
    region_code: Mapped[str] = mapped_column(String(15), index=True)     # the grid's region, for scope
    holder_account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"), index=True)
    colour_at_assignment: Mapped[str] = mapped_column(String(6))
    active: Mapped[bool | None] = mapped_column(default=True)
    assigned_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    assigned_by_account_id: Mapped[int | None] = mapped_column(ForeignKey("accounts.id"))
    note: Mapped[str] = mapped_column(Text, default="")
    removed_at: Mapped[dt.datetime | None]
    removed_by_account_id: Mapped[int | None] = mapped_column(ForeignKey("accounts.id"))
    removal_reason: Mapped[str] = mapped_column(Text, default="")


class MatterStatus(enum.StrEnum):
    PROMISED = "promised"        # 已承诺
    IN_PROGRESS = "in_progress"  # 办理中
    DONE = "done"                # 已办结
    CANNOT = "cannot"            # 无法办理 (with the reason)


class PracticalMatter(Base):
    """帮办实事: a practical matter promised to a household (and, optionally, one of its residents), from a visit
    or a resident's report or entered directly; its owner carries it to a result by the deadline."""

    __tablename__ = "practical_matters"
    __table_args__ = (
        CheckConstraint("status in ('promised','in_progress','done','cannot')", name="status"),
        Index("ix_practical_matters_owner_status", "owner_account_id", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    detail: Mapped[str] = mapped_column(Text, default="")
    household_id: Mapped[int] = mapped_column(ForeignKey("households.id"), index=True)
    resident_id: Mapped[int | None] = mapped_column(ForeignKey("residents.id"), index=True)
    grid_id: Mapped[int | None] = mapped_column(ForeignKey("grids.id"), index=True)
    region_code: Mapped[str] = mapped_column(String(15), index=True)    # the household's village (or group)
    visit_id: Mapped[int | None] = mapped_column(ForeignKey("visits.id"), index=True)
    case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id"), index=True)
    owner_account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"))
    deadline: Mapped[dt.date] = mapped_column(Date, index=True)
    status: Mapped[str] = mapped_column(String(12), default=MatterStatus.PROMISED)
    result: Mapped[str] = mapped_column(Text, default="")       # what was done, or why it cannot be done
    created_by_account_id: Mapped[int | None] = mapped_column(ForeignKey("accounts.id"))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    started_at: Mapped[dt.datetime | None]
    finished_at: Mapped[dt.datetime | None]
    client_id: Mapped[str | None] = mapped_column(String(64), unique=True)
