"""What an intake channel sends back to its outside system: one row per change of a case that came in through it
(the 12345 hotline fetches its work orders' status from these rows; workflows/channels.py writes and reads them)."""
from __future__ import annotations

import datetime as dt

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base, utcnow


class ChannelUpdate(Base):
    __tablename__ = "channel_updates"
    # An outside system reads its channel's rows after the last id (or time) it fetched.
    __table_args__ = (Index("ix_channel_updates_channel_id", "channel", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    channel: Mapped[str] = mapped_column(String(20))
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    external_id: Mapped[str] = mapped_column(String(100))
    transition: Mapped[str] = mapped_column(String(40))      # "report", a workflow step, "merge", ...
    status: Mapped[str] = mapped_column(String(40))          # the case's state after it
    note: Mapped[str] = mapped_column(Text, default="")      # masked as every text that leaves the platform
    at: Mapped[dt.datetime] = mapped_column(default=utcnow, index=True)
