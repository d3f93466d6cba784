"""考核方案 assessment schemes: each saved version of the city's scheme, or of one county's (issue #24).

Rows are only ever added, like theme versions: a change saves version n + 1 and a published ranking names the
version it used (workflows/schemes.py, workflows/rankings.py). `scope` is "" for the city's scheme and a county's
region code for that county's.
"""
from __future__ import annotations

import datetime as dt

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from .base import AuthoredJSON, Base, utcnow


class AssessmentScheme(Base):
    __tablename__ = "assessment_schemes"
    __table_args__ = (UniqueConstraint("scope", "version", name="uq_assessment_schemes_scope_version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    scope: Mapped[str] = mapped_column(String(15), default="", index=True)   # "" (city) or a county's code
    version: Mapped[int]
    document: Mapped[dict] = mapped_column(AuthoredJSON)   # the author's key order kept (base.py)
    content_hash: Mapped[str] = mapped_column(String(64))
    saved_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    saved_by_account_id: Mapped[int | None] = mapped_column(ForeignKey("accounts.id"))
    saved_by_name: Mapped[str] = mapped_column(String(64), default="")
