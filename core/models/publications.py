"""What the platform offers citizens (小兰帮办): policies and service guides that departments publish, and the
one-time codes that verify a citizen's phone number."""
from __future__ import annotations

import datetime as dt

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .base import Base, utcnow
from .org import Department


class Publication(Base):
    """A policy (政策), a service guide (办事指南) or a service (服务) published by a department.

    `area` is the themed service area it belongs to (补贴, 培训, 融资, ...), or empty. `body` is plain text:
    pages escape it and only read paragraphs, "## " headings and "- " list items from it.
    """

    __tablename__ = "publications"
    __table_args__ = (Index("ix_publications_kind_department", "kind", "department_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    department_id: Mapped[int] = mapped_column(ForeignKey("departments.id"), index=True)
    kind: Mapped[str] = mapped_column(String(20))
    area: Mapped[str] = mapped_column(String(20), default="", index=True)
    title: Mapped[str] = mapped_column(String(200))
    summary: Mapped[str] = mapped_column(String(500), default="")
    body: Mapped[str] = mapped_column(Text, default="")
    published_at: Mapped[dt.datetime] = mapped_column(default=utcnow, index=True)
    published_by: Mapped[str] = mapped_column(String(64), default="")
    published_by_account_id: Mapped[int | None] = mapped_column(ForeignKey("accounts.id"))
    withdrawn: Mapped[bool] = mapped_column(default=False)
    # draft → published → withdrawn (and back to draft to rework it); only published items reach citizens.
    # `withdrawn` mirrors status == "withdrawn" for readers written before the status existed.
    status: Mapped[str] = mapped_column(String(20), default="published", server_default="published", index=True)
    updated_at: Mapped[dt.datetime | None] = mapped_column(default=utcnow)

    department: Mapped[Department] = relationship(lazy="joined")


class PublicationEvent(Base):
    """One step in a publication's life: who wrote, edited, published, withdrew or reopened it, and when."""

    __tablename__ = "publication_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    publication_id: Mapped[int] = mapped_column(ForeignKey("publications.id", ondelete="CASCADE"), index=True)
    at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    actor_account_id: Mapped[int | None] = mapped_column(ForeignKey("accounts.id"))
    actor_name: Mapped[str] = mapped_column(String(64), default="")
    action: Mapped[str] = mapped_column(String(20))      # create, edit, publish, withdraw, reopen
    from_status: Mapped[str | None] = mapped_column(String(20))
    to_status: Mapped[str] = mapped_column(String(20))
    title: Mapped[str] = mapped_column(String(200), default="")


class VerificationCode(Base):
    """A six-digit code sent to a phone. Only a keyed digest of the code is kept; rows are kept for the rate
    limits and as a record of what was sent."""

    __tablename__ = "verification_codes"
    __table_args__ = (Index("ix_verification_codes_phone_created", "phone", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    phone: Mapped[str] = mapped_column(String(20))
    purpose: Mapped[str] = mapped_column(String(20), default="login")
    code_digest: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[dt.datetime]
    attempts: Mapped[int] = mapped_column(default=0)
    used_at: Mapped[dt.datetime | None]
    origin: Mapped[str] = mapped_column(String(64), default="")
