"""研判简报 (analysis briefs) published from the dashboard: the file kept in the store and the figures it states."""
from __future__ import annotations

import datetime as dt

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base, utcnow


class Brief(Base):
    """One published brief of a period ("2026-11" or "2026-W45") for a region, in one format. The document is
    in the `briefs` store under `storage_key`; `figures` keeps the numbers it states (the same data and period
    give the same numbers: workflows/briefs)."""

    __tablename__ = "briefs"
    __table_args__ = (Index("ix_briefs_region_period", "region_code", "period_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    period_key: Mapped[str] = mapped_column(String(8))        # "2026-11" (a month) or "2026-W45" (an ISO week)
    region_code: Mapped[str] = mapped_column(String(15), default="")
    title: Mapped[str] = mapped_column(String(200))
    format: Mapped[str] = mapped_column(String(8))             # "docx", "pdf" or "html"
    storage_key: Mapped[str] = mapped_column(String(80))
    size: Mapped[int]
    sha256: Mapped[str] = mapped_column(String(64))
    figures: Mapped[dict] = mapped_column(default=dict)
    published_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    published_by_account_id: Mapped[int | None] = mapped_column(ForeignKey("accounts.id"))
    published_by_name: Mapped[str] = mapped_column(String(64), default="")
