"""Regions (市-县-乡-村-组) and grids (大/中/小网格) with their members."""
from __future__ import annotations

import datetime as dt
import enum

from sqlalchemy import CheckConstraint, Float, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .base import Base, utcnow


class RegionLevel(enum.StrEnum):
    CITY = "city"
    COUNTY = "county"
    TOWNSHIP = "township"
    VILLAGE = "village"
    GROUP = "group"


class GridLevel(enum.StrEnum):
    LARGE = "large"
    MEDIUM = "medium"
    SMALL = "small"


class GridColour(enum.StrEnum):
    RED = "red"
    YELLOW = "yellow"
    BLUE = "blue"


class MemberRole(enum.StrEnum):
    LEADER = "leader"            # 网格长
    FULL_TIME = "full_time"      # 专职网格员
    PART_TIME = "part_time"      # 兼职网格员
    DEDICATED = "dedicated"      # 专属网格员


class BoundingBox:
    """Columns that let a map query filter by bbox with plain indexed comparisons on every backend."""

    min_lon: Mapped[float | None] = mapped_column(Float)
    min_lat: Mapped[float | None] = mapped_column(Float)
    max_lon: Mapped[float | None] = mapped_column(Float)
    max_lat: Mapped[float | None] = mapped_column(Float)


class Region(BoundingBox, Base):
    __tablename__ = "regions"
    __table_args__ = (CheckConstraint("level in ('city','county','township','village','group')", name="level"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(15), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    level: Mapped[str] = mapped_column(String(10), index=True)
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("regions.id"), index=True)
    urban: Mapped[bool] = mapped_column(default=False)
    geometry: Mapped[dict | None]

    parent: Mapped[Region | None] = relationship(remote_side=[id])


class Grid(BoundingBox, Base):
    __tablename__ = "grids"
    __table_args__ = (
        CheckConstraint("level in ('large','medium','small')", name="level"),
        CheckConstraint("colour in ('red','yellow','blue')", name="colour"),
        Index("ix_grids_bbox", "min_lon", "max_lon", "min_lat", "max_lat"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    level: Mapped[str] = mapped_column(String(10), index=True)
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("grids.id"), index=True)
    region_id: Mapped[int] = mapped_column(ForeignKey("regions.id"), index=True)
    region_code: Mapped[str] = mapped_column(String(15), index=True)
    dedicated: Mapped[bool] = mapped_column(default=False)
    colour: Mapped[str] = mapped_column(String(6), default=GridColour.BLUE)
    colour_reason: Mapped[str] = mapped_column(Text, default="")
    colour_set_at: Mapped[dt.datetime | None]
    geometry: Mapped[dict]
    outline_since: Mapped[dt.datetime | None]   # when `geometry` took effect (None: since the grid was made)

    parent: Mapped[Grid | None] = relationship(remote_side=[id])
    region: Mapped[Region] = relationship()
    members: Mapped[list[GridMember]] = relationship(back_populates="grid")


class GridMember(Base):
    __tablename__ = "grid_members"
    __table_args__ = (CheckConstraint("role in ('leader','full_time','part_time','dedicated')", name="role"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    grid_id: Mapped[int] = mapped_column(ForeignKey("grids.id"), index=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("persons.id"), index=True)
    role: Mapped[str] = mapped_column(String(10), index=True)
    since: Mapped[dt.datetime] = mapped_column(default=utcnow)

    grid: Mapped[Grid] = relationship(back_populates="members")
    person: Mapped["Person"] = relationship()  # noqa: F821


class GridOutline(Base):
    """A grid's former outline and the period it was in force, kept when an import redraws the grid."""

    __tablename__ = "grid_outline_history"

    id: Mapped[int] = mapped_column(primary_key=True)
    grid_id: Mapped[int] = mapped_column(ForeignKey("grids.id", ondelete="CASCADE"), index=True)
    geometry: Mapped[dict]
    valid_from: Mapped[dt.datetime | None]      # None: since the grid was made
    valid_to: Mapped[dt.datetime] = mapped_column(default=utcnow)
    source: Mapped[str] = mapped_column(String(200), default="")   # the file that replaced it
