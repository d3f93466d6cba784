"""Business themes in the database: every published version of a theme document, and the records on a
theme's map layer.

The theme documents themselves come from plugins (``register_themes``); `ThemeVersion` keeps each version a
plugin ever brought, so a record filled in under version 3 is read and validated against version 3 after the
theme moved on to version 5.
"""
from __future__ import annotations

import datetime as dt

from sqlalchemy import Float, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from .base import AuthoredJSON, Base, utcnow
from .basedata import Located
from .geo import BoundingBox


class ThemeVersion(Base):
    """One published version of a theme document. Rows are only ever added."""

    __tablename__ = "theme_versions"
    __table_args__ = (UniqueConstraint("theme_key", "version", name="uq_theme_versions_key_version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    theme_key: Mapped[str] = mapped_column(String(80), index=True)
    version: Mapped[int]
    document: Mapped[dict] = mapped_column(AuthoredJSON)   # the author's field order kept (base.py)
    content_hash: Mapped[str] = mapped_column(String(64))
    department_key: Mapped[str] = mapped_column(String(40), index=True)
    plugin_name: Mapped[str] = mapped_column(String(100))
    published_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    published_by: Mapped[str] = mapped_column(String(64), default="")


class ThemeRecord(BoundingBox, Located, Base):
    """An object on a theme's layer (a stall, a manhole, a river section), with the form data it was filled in.

    `department_key` copies the theme's department so the department scope is one comparison; the bounding box
    columns let a map query filter by bbox with plain comparisons whatever the geometry.
    """

    __tablename__ = "theme_records"
    __table_args__ = (
        Index("ix_theme_records_theme_region", "theme_key", "region_code"),
        Index("ix_theme_records_bbox", "min_lon", "max_lon", "min_lat", "max_lat"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    theme_key: Mapped[str] = mapped_column(String(80))
    theme_version: Mapped[int]
    department_key: Mapped[str] = mapped_column(String(40), index=True)
    form_data: Mapped[dict] = mapped_column(default=dict)
    schema_version: Mapped[str] = mapped_column(String(80), default="")
    lon: Mapped[float | None] = mapped_column(Float)
    lat: Mapped[float | None] = mapped_column(Float)
    geometry: Mapped[dict | None]
    created_by: Mapped[str] = mapped_column(String(64), default="")
    created_by_account_id: Mapped[int | None] = mapped_column(ForeignKey("accounts.id"))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    last_patrolled_at: Mapped[dt.datetime | None]
    # Retired (退出台账), never erased: hidden from layers and lists unless asked for (themes/records.py).
    retired_at: Mapped[dt.datetime | None] = mapped_column(index=True)
    retired_by: Mapped[str] = mapped_column(String(64), default="", server_default="")
    client_id: Mapped[str | None] = mapped_column(String(64), unique=True)
    # Optimistic locking, as on cases: of two edits of the same record made at once exactly one succeeds.
    version: Mapped[int] = mapped_column(default=1)

    __mapper_args__ = {"version_id_col": version}


class ThemeRecordChange(Base):
    """One line of a record's history: created, updated or retired, by whom and when, and for an update the old
    and new value of every changed field (`changes`: ``{"form_data.name": {"old": …, "new": …}, "geometry": …}``).
    Written by `minqing.themes.records` in the same transaction as the change; rows are only ever added."""

    __tablename__ = "theme_record_changes"

    id: Mapped[int] = mapped_column(primary_key=True)
    record_id: Mapped[int] = mapped_column(ForeignKey("theme_records.id", ondelete="CASCADE"), index=True)
    version: Mapped[int]
    action: Mapped[str] = mapped_column(String(20))
    at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    actor_name: Mapped[str] = mapped_column(String(64), default="")
    actor_account_id: Mapped[int | None] = mapped_column(ForeignKey("accounts.id"))
    changes: Mapped[dict] = mapped_column(default=dict)
