"""主办/协办 joint handling tasks, 转办 transfers and regions' 兜底 fallback departments (issue #10).

The lead (主办) of a case is its department (`Case.department_id`). Each co-handler (协办) is a task of its own,
with its deadline and its feedback; the lead may close its handling only when no task is open. Transfers need no
table: each is a line of the case's timeline (action "transfer", with the departments and the reason).
"""
from __future__ import annotations

import datetime as dt
import enum

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base, JSONDocument, utcnow


class CoHandlingStatus(enum.StrEnum):
    OPEN = "open"              # waiting for the co-handler's feedback
    ANSWERED = "answered"      # the co-handler fed back
    OVERRULED = "overruled"    # the dispatcher closed it without feedback, with a reason
    WITHDRAWN = "withdrawn"    # the dispatcher took the request back (named by mistake), with a reason


class CoHandlingTask(Base):
    """One co-handling department's part in one case."""

    __tablename__ = "co_handling_tasks"
    __table_args__ = (Index("ix_co_handling_tasks_status_deadline", "status", "deadline_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    department_id: Mapped[int] = mapped_column(ForeignKey("departments.id"), index=True)
    status: Mapped[str] = mapped_column(String(12), default=CoHandlingStatus.OPEN)
    instructions: Mapped[str] = mapped_column(Text, default="")
    requested_by_account_id: Mapped[int | None] = mapped_column(ForeignKey("accounts.id"))
    requested_by_name: Mapped[str] = mapped_column(String(60), default="")
    requested_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    deadline_at: Mapped[dt.datetime]
    # The co-handler's answer
    feedback: Mapped[str] = mapped_column(Text, default="")
    photos: Mapped[list] = mapped_column(JSONDocument, default=list)   # attachment ids
    answered_by_account_id: Mapped[int | None] = mapped_column(ForeignKey("accounts.id"))
    answered_by_name: Mapped[str] = mapped_column(String(60), default="")
    answered_at: Mapped[dt.datetime | None]
    # The dispatcher's decision instead of an answer: overruled or withdrawn, always with a reason
    decided_by_account_id: Mapped[int | None] = mapped_column(ForeignKey("accounts.id"))
    decided_by_name: Mapped[str] = mapped_column(String(60), default="")
    decided_at: Mapped[dt.datetime | None]
    decision_reason: Mapped[str] = mapped_column(Text, default="")


class RegionFallback(Base):
    """兜底: the department that takes a region's cases nobody else claims (the nearest one up the tree counts)."""

    __tablename__ = "region_fallbacks"

    id: Mapped[int] = mapped_column(primary_key=True)
    region_code: Mapped[str] = mapped_column(String(15), unique=True)
    department_id: Mapped[int] = mapped_column(ForeignKey("departments.id"))
    set_by_name: Mapped[str] = mapped_column(String(60), default="")
    set_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
