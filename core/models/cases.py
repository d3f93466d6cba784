"""Cases (事件), their append-only history and their attachments."""
from __future__ import annotations

import datetime as dt
import enum

from sqlalchemy import Float, ForeignKey, Index, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .base import Base, utcnow


# The condition of the partial index of open cases: a query uses the index when it says the same (`status NOT IN
# ('closed', 'voided')`, as the dashboard's figures and the inbox do)
OPEN_CONDITION = "status NOT IN ('closed', 'voided')"
CREATED_AT_INCLUDE = ("id", "status", "region_code", "theme_key", "department_id", "channel", "grid_id",
                      "merged_into_id", "closed_at", "due_at", "rework_count", "reporter_account_id",
                      "category", "lon", "lat")   # the last three: the hotspots' points (0041)
CLOSED_AT_INCLUDE = ("region_code", "reporter_account_id")
OPEN_INCLUDE = ("region_code", "grid_id", "department_id", "reporter_account_id")   # the scope's columns (0042)
RETURN_CONDITION = "action = 'return'"   # a partial index's condition: queries must spell it as a literal
# The columns ix_cases_theme_newest carries on PostgreSQL besides its key (theme_key, id): those of the scope
# (core.scope: reporter, region, grid, department), the box and the point, and the rest of a case's point on the map
# (core.geo.features.CASE_COLUMNS)
THEME_LAYER_COLUMNS = ("lon", "lat", "reporter_account_id", "region_code", "grid_id", "department_id", "title", "status",
                       "urgency", "created_at", "state_deadline_at")


class CaseSource(enum.StrEnum):
    GRID_WORKER = "grid_worker"
    CITIZEN = "citizen"
    HOTLINE = "hotline"
    API = "api"
    PLUGIN = "plugin"


class Urgency(enum.StrEnum):
    NORMAL = "normal"
    URGENT = "urgent"
    CRITICAL = "critical"


class Case(Base):
    __tablename__ = "cases"
    __table_args__ = (
        Index("ix_cases_region_status", "region_code", "status"),
        Index("ix_cases_lon_lat", "lon", "lat"),
        # At a city's volume (a million cases a year, migration 0029): the cases closed lately (the dashboard's
        # trend), and the open ones alone, a few thousand, by status and step deadline (open and overdue counts)
        # On PostgreSQL both carry the columns the dashboard's period figures read (migration 0037): a month of cases
        # (evaluation, themes, the daily trend) read from the index alone, not from a heap page per case.
        Index("ix_cases_closed_at", "closed_at", postgresql_include=CLOSED_AT_INCLUDE),
        Index("ix_cases_created_at", "created_at", postgresql_include=CREATED_AT_INCLUDE),
        Index("ix_cases_open", "status", "state_deadline_at", postgresql_where=text(OPEN_CONDITION),
              sqlite_where=text(OPEN_CONDITION), postgresql_include=OPEN_INCLUDE),
        # A grid worker's and a department's scope (core.scope) with a status: the inbox's status choices and
        # filters read a grid's or a department's cases of one status from here (migration 0031), not every case
        # of that status; the leading column serves the lookups by grid or department alone.
        Index("ix_cases_grid_status", "grid_id", "status"),
        Index("ix_cases_department_status", "department_id", "status"),
        # A theme's cases newest first, with what the map's theme layer filters on (scope, box) and shows (the
        # point): PostgreSQL counts a layer's cases and reads its page from the index alone (migration 0039).
        Index("ix_cases_theme_newest", "theme_key", "id", postgresql_include=list(THEME_LAYER_COLUMNS)),
        # An outside system's item (a 12345 work order) makes one case, however often it is sent again.
        UniqueConstraint("channel", "external_id", name="uq_cases_channel_external_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    theme_key: Mapped[str] = mapped_column(String(80), index=True)
    theme_version: Mapped[int] = mapped_column(default=1)
    category: Mapped[str] = mapped_column(String(80), default="")
    subcategory: Mapped[str] = mapped_column(String(80), default="")
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    lon: Mapped[float | None] = mapped_column(Float)
    lat: Mapped[float | None] = mapped_column(Float)
    address: Mapped[str] = mapped_column(String(300), default="")
    grid_id: Mapped[int | None] = mapped_column(ForeignKey("grids.id"))
    region_code: Mapped[str] = mapped_column(String(15), default="", index=True)
    source: Mapped[str] = mapped_column(String(20))
    reporter_account_id: Mapped[int | None] = mapped_column(ForeignKey("accounts.id"), index=True)
    reporter_name: Mapped[str] = mapped_column(String(60), default="")
    reporter_phone: Mapped[str] = mapped_column(String(20), default="")
    urgency: Mapped[str] = mapped_column(String(10), default=Urgency.NORMAL)
    workflow_key: Mapped[str] = mapped_column(String(80), default="standard")
    status: Mapped[str] = mapped_column(String(40), index=True)
    department_id: Mapped[int | None] = mapped_column(ForeignKey("departments.id"))
    state_entered_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    state_deadline_at: Mapped[dt.datetime | None] = mapped_column(index=True)
    due_at: Mapped[dt.datetime | None]
    form_data: Mapped[dict] = mapped_column(default=dict)
    schema_version: Mapped[str] = mapped_column(String(80), default="")
    client_id: Mapped[str | None] = mapped_column(String(64), unique=True)
    # The intake channel it came in through ("work", "citizen", "api", "open311", a channel plugin's name such as
    # "12345"; the source for cases made by code, e.g. "warning") and that channel's own id of the item.
    channel: Mapped[str] = mapped_column(String(20), default="", server_default="")
    external_id: Mapped[str | None] = mapped_column(String(100))
    rework_count: Mapped[int] = mapped_column(default=0)
    # 重复件: the master case this one was merged into (core/models/merges.py keeps the history)
    merged_into_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id"), index=True)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)   # indexed: ix_cases_created_at above
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    closed_at: Mapped[dt.datetime | None]
    # Optimistic locking: an UPDATE carries "WHERE version = <the version read>", so of two people acting on the
    # same case at once exactly one succeeds.
    version: Mapped[int] = mapped_column(default=1)

    __mapper_args__ = {"version_id_col": version}

    events: Mapped[list[CaseEvent]] = relationship(back_populates="case", order_by="CaseEvent.id")
    attachments: Mapped[list[Attachment]] = relationship(back_populates="case")

    @property
    def number(self) -> str:
        """The case number people quote on the phone."""
        return f"MQ{self.created_at:%Y%m%d}{self.id:07d}"


class CaseEvent(Base):
    """One line of a case's timeline; rows are only ever added."""

    __tablename__ = "case_events"
    __table_args__ = (
        # 退回: the evaluation's returned cases read the few return lines of a city's millions (workflows/evaluation)
        Index("ix_case_events_returns", "case_id", postgresql_where=text(RETURN_CONDITION),
              sqlite_where=text(RETURN_CONDITION)),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    actor_account_id: Mapped[int | None] = mapped_column(ForeignKey("accounts.id"))
    actor_name: Mapped[str] = mapped_column(String(60))
    action: Mapped[str] = mapped_column(String(40))
    from_status: Mapped[str | None] = mapped_column(String(40))
    to_status: Mapped[str | None] = mapped_column(String(40))
    comment: Mapped[str] = mapped_column(Text, default="")
    data: Mapped[dict] = mapped_column(default=dict)
    origin: Mapped[str] = mapped_column(String(64), default="")

    case: Mapped[Case] = relationship(back_populates="events")


class Attachment(Base):
    __tablename__ = "attachments"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id"), index=True)
    # A photo of a visit (a patrol of a theme record): seen by whoever may see what was visited
    visit_id: Mapped[int | None] = mapped_column(ForeignKey("visits.id"), index=True)
    owner_account_id: Mapped[int | None] = mapped_column(ForeignKey("accounts.id"))
    filename: Mapped[str] = mapped_column(String(200))
    content_type: Mapped[str] = mapped_column(String(100))
    size: Mapped[int]
    sha256: Mapped[str] = mapped_column(String(64))
    dhash: Mapped[str | None] = mapped_column(String(16))   # perceptual hash of an image (重复件 evidence)
    storage_key: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)

    case: Mapped[Case | None] = relationship(back_populates="attachments")
