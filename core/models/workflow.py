"""Bookkeeping of the workflow engine: the notification outbox, the SLA sweep's marks, supervisions and the
per-case milestones the evaluation reads.

The case itself (status, deadlines, rework count) lives on `Case`; these tables hold what the engine needs
beyond it, each written in the same transaction as the change it belongs to.
"""
from __future__ import annotations

import datetime as dt

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base, utcnow

VOIDED_CONDITION = "voided"   # a partial index's condition (PostgreSQL uses it for `WHERE CaseMilestone.voided`)


class Notification(Base):
    """One message waiting to leave the process (the outbox). Delivered by a task through the plugins'
    `deliver_notification` hook; a row stays pending until a plugin says it delivered it."""

    __tablename__ = "notifications"
    __table_args__ = (Index("ix_notifications_status_next", "status", "next_attempt_at"),
                      # in-app notifications of one address, newest first (the page and the header's badge)
                      Index("ix_notifications_recipient_id", "recipient", "id"))

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id"), index=True)
    kind: Mapped[str] = mapped_column(String(40))           # dispatch, urge, escalate, supervise, close, ...
    channel: Mapped[str] = mapped_column(String(20))        # inbox, sms, ...
    recipient: Mapped[str] = mapped_column(String(100))     # "department:water_affairs", "region:620102", a phone
    subject: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text, default="")
    data: Mapped[dict] = mapped_column(default=dict)
    status: Mapped[str] = mapped_column(String(10), default="pending")  # pending, sending, delivered, failed
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    claimed_at: Mapped[dt.datetime | None]
    delivered_at: Mapped[dt.datetime | None]
    delivered_by: Mapped[str] = mapped_column(String(100), default="")
    last_error: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class NotificationRead(Base):
    """One in-app notification (channel ``inbox``) that one account has read. A notification to a department or
    a region reaches several people; each reads it for themselves."""

    __tablename__ = "notification_reads"

    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"), primary_key=True)
    notification_id: Mapped[int] = mapped_column(ForeignKey("notifications.id", ondelete="CASCADE"),
                                                 primary_key=True)
    read_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class NotificationCursor(Base):
    """"Mark all as read" for one account: every notification up to `read_through_id` counts as read, so the
    city centre marking thousands of region notifications writes one row, not thousands."""

    __tablename__ = "notification_cursors"

    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"), primary_key=True)
    read_through_id: Mapped[int] = mapped_column(default=0)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class SweepMark(Base):
    """What the SLA sweep did about one expired deadline. The unique key makes the sweep idempotent: a
    deadline (of a state entry or a supervision) is acted on once, however many sweeps run."""

    __tablename__ = "sweep_marks"
    __table_args__ = (UniqueConstraint("case_id", "kind", "started_at", "ref", name="uq_sweep_marks_deadline"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    kind: Mapped[str] = mapped_column(String(20))          # "state" or "supervision"
    started_at: Mapped[dt.datetime]                        # state entry / supervision time the deadline belongs to
    ref: Mapped[int] = mapped_column(default=0)            # the supervision's id; 0 for a state's deadline
    status: Mapped[str] = mapped_column(String(40))
    deadline_at: Mapped[dt.datetime]
    actions: Mapped[str] = mapped_column(String(40))       # "urge", "escalate", "urge,escalate"
    escalated_to: Mapped[str] = mapped_column(String(15), default="")  # region code the case went up to
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class Supervision(Base):
    """督办: a higher level's order on a case, with a deadline of its own."""

    __tablename__ = "supervisions"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    actor_account_id: Mapped[int | None] = mapped_column(ForeignKey("accounts.id"))
    actor_name: Mapped[str] = mapped_column(String(60))
    region_code: Mapped[str] = mapped_column(String(15), default="")
    comment: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    deadline_at: Mapped[dt.datetime] = mapped_column(index=True)


# what the period figures read of a milestone, carried by its index on PostgreSQL (migration 0044)
MILESTONE_INCLUDE = ("case_id", "accept_deadline_at", "accepted_at", "dispatched_at", "feedback_at", "rating",
                     "satisfied", "voided")


class CaseMilestone(Base):
    """When a case passed the points the evaluation measures; one row per case, kept by the engine."""

    __tablename__ = "case_milestones"
    # the few voided cases, for queries that leave them out with NOT EXISTS (the hotspots: 0041)
    __table_args__ = (Index("ix_case_milestones_voided", "case_id", postgresql_where=text(VOIDED_CONDITION),
                            sqlite_where=text(VOIDED_CONDITION)),
                      # a period's milestones as a range (the evaluation's join: `evaluation.milestones_of`)
                      Index("ix_case_milestones_case_created_at", "case_created_at",
                            postgresql_include=list(MILESTONE_INCLUDE)))

    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), primary_key=True)
    accept_deadline_at: Mapped[dt.datetime | None]
    accepted_at: Mapped[dt.datetime | None]
    dispatched_at: Mapped[dt.datetime | None]
    feedback_at: Mapped[dt.datetime | None]
    rating: Mapped[int | None]                              # 1..5, the latest follow-up's
    satisfied: Mapped[bool | None]                          # 满意 or 基本满意 at the latest follow-up
    voided: Mapped[bool] = mapped_column(default=False)
    # its case's `created_at`, given by the writer; the database fills it when not given and follows a change of
    # the case's (triggers: migration 0044), so that a period's milestones are a range of an index
    case_created_at: Mapped[dt.datetime | None]
