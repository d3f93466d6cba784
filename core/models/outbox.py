"""What a grid worker's phone said at its last sync: how many submissions wait in its outbox (work end offline)."""
from __future__ import annotations

import datetime as dt

from sqlalchemy import ForeignKey
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base, utcnow


class PhoneOutbox(Base):
    """One row per account: the waiting count its phone reported at its last sync, and when that was."""

    __tablename__ = "phone_outboxes"

    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"), primary_key=True)
    pending: Mapped[int] = mapped_column(default=0)
    synced_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
