"""申诉 appeals of cases before a period's rankings, and the published rankings (issue #10)."""
from __future__ import annotations

import datetime as dt

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base, utcnow


class CaseAppeal(Base):
    """A department's appeal that one of its cases leave its indicators for the case's period (the month the
    case was reported in, city time). `active` is True while the appeal is pending or approved and NULL once
    rejected or withdrawn, so the unique key allows one live appeal per case and period on every backend
    (NULLs never collide) and any number of settled ones."""

    __tablename__ = "case_appeals"
    __table_args__ = (UniqueConstraint("case_id", "period_key", "active"),
                      Index("ix_case_appeals_period_status", "period_key", "status"))

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    department_id: Mapped[int] = mapped_column(ForeignKey("departments.id"), index=True)
    period_key: Mapped[str] = mapped_column(String(7))             # "2026-11"
    ground: Mapped[str] = mapped_column(String(20))                # dispatch_error, force_majeure, ...
    reason: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(12), default="pending")  # pending, approved, rejected, withdrawn
    active: Mapped[bool | None] = mapped_column(default=True)
    filed_by_account_id: Mapped[int | None] = mapped_column(ForeignKey("accounts.id"))
    filed_by_name: Mapped[str] = mapped_column(String(64), default="")
    filed_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    decided_by_account_id: Mapped[int | None] = mapped_column(ForeignKey("accounts.id"))
    decided_by_name: Mapped[str] = mapped_column(String(64), default="")
    decided_at: Mapped[dt.datetime | None]
    decision_reason: Mapped[str] = mapped_column(Text, default="")


class RankingPublication(Base):
    """A period's ranking as published: frozen, with the same ranking before the approved appeals so what the
    appeals changed stays visible. A period without a row is open (申诉期): its ranking is computed live."""

    __tablename__ = "ranking_publications"
    __table_args__ = (UniqueConstraint("period_key", "dimension"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    period_key: Mapped[str] = mapped_column(String(7))
    dimension: Mapped[str] = mapped_column(String(20), default="department")
    starts_at: Mapped[dt.datetime]
    ends_at: Mapped[dt.datetime]
    published_at: Mapped[dt.datetime]
    published_by_account_id: Mapped[int | None] = mapped_column(ForeignKey("accounts.id"))
    published_by_name: Mapped[str] = mapped_column(String(64), default="")
    snapshot: Mapped[dict] = mapped_column(default=dict)            # see workflows/rankings.py
