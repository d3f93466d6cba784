"""What operators did with an early warning (预警): acknowledged it, or turned it into a case."""
from __future__ import annotations

import datetime as dt

from sqlalchemy import ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base


class WarningAction(Base):
    """One handled warning, by rule and the warning's stable key; a handled warning leaves the active list."""

    __tablename__ = "warning_actions"
    __table_args__ = (UniqueConstraint("rule_key", "warning_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    rule_key: Mapped[str] = mapped_column(String(60))
    warning_key: Mapped[str] = mapped_column(String(200))
    action: Mapped[str] = mapped_column(String(20))          # "acknowledge" or "case"
    title: Mapped[str] = mapped_column(String(200))
    region_code: Mapped[str] = mapped_column(String(15), default="", index=True)
    case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id"))
    account_id: Mapped[int | None] = mapped_column(ForeignKey("accounts.id"))
    actor_name: Mapped[str] = mapped_column(String(64), default="")
    comment: Mapped[str] = mapped_column(Text, default="")
    at: Mapped[dt.datetime]
