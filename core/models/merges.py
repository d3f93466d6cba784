"""重复件 merging: which case was merged into which master, and its undo (issue #10).

The live link is `Case.merged_into_id` (set while merged); `CaseMerge` keeps the history: one row per merge, with
the evidence the dispatcher saw and what the duplicate was (status, clock, department) when it was merged, so an
undo gives it back exactly. An undone merge keeps its row, with who undid it, when and why.
"""
from __future__ import annotations

import datetime as dt

from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base, utcnow


class CaseMerge(Base):
    """One duplicate merged into one master case."""

    __tablename__ = "case_merges"

    id: Mapped[int] = mapped_column(primary_key=True)
    master_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    duplicate_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    merged_by_account_id: Mapped[int | None] = mapped_column(ForeignKey("accounts.id"))
    merged_by_name: Mapped[str] = mapped_column(String(60), default="")
    merged_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    reason: Mapped[str] = mapped_column(Text, default="")
    evidence: Mapped[dict] = mapped_column(default=dict)
    # The duplicate as it was when merged: an undo restores these
    duplicate_status: Mapped[str] = mapped_column(String(40))
    duplicate_entered_at: Mapped[dt.datetime]
    duplicate_deadline_at: Mapped[dt.datetime | None]
    duplicate_department_id: Mapped[int | None] = mapped_column(ForeignKey("departments.id"))
    # The undo, if any
    undone_by_account_id: Mapped[int | None] = mapped_column(ForeignKey("accounts.id"))
    undone_by_name: Mapped[str] = mapped_column(String(60), default="")
    undone_at: Mapped[dt.datetime | None]
    undo_reason: Mapped[str] = mapped_column(Text, default="")
