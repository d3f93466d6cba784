"""一标三实: standard addresses, and actual population, housing and units; key persons and places; visits."""
from __future__ import annotations

import datetime as dt

from sqlalchemy import Date, Float, ForeignKey, Index, String, Text, event, false, text
from sqlalchemy.orm import Mapped, attributes, mapped_column

from .base import Base, utcnow

UNVISITED = "last_visit_at IS NULL"
CADRE_HOUSEHOLD_VISIT = "target_kind = 'household' AND visitor_post IS NOT NULL"
CADRE_VISIT_WITHOUT_MONTH = f"{CADRE_HOUSEHOLD_VISIT} AND visit_month IS NULL"
CADRE_VISIT_WITHOUT_DAY = f"{CADRE_HOUSEHOLD_VISIT} AND visit_day IS NULL"


class Located:
    """Where a base-data row sits: its grid and region code (the columns every scope filter uses)."""

    grid_id: Mapped[int | None] = mapped_column(ForeignKey("grids.id"), index=True)
    region_code: Mapped[str] = mapped_column(String(15), index=True)


class Address(Located, Base):
    """标准地址: a standard address (一标)."""

    __tablename__ = "addresses"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    text: Mapped[str] = mapped_column(String(300))
    lon: Mapped[float | None] = mapped_column(Float)
    lat: Mapped[float | None] = mapped_column(Float)


class House(Located, Base):
    """实有房屋."""

    __tablename__ = "houses"

    id: Mapped[int] = mapped_column(primary_key=True)
    address_id: Mapped[int | None] = mapped_column(ForeignKey("addresses.id"), index=True)
    kind: Mapped[str] = mapped_column(String(20))          # residential, self_built, commercial, public
    structure: Mapped[str] = mapped_column(String(20), default="")
    floors: Mapped[int] = mapped_column(default=1)
    area_m2: Mapped[float | None] = mapped_column(Float)
    built_year: Mapped[int | None]
    owner_name: Mapped[str] = mapped_column(String(60), default="")


class Household(Located, Base):
    __tablename__ = "households"

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(30), unique=True)
    house_id: Mapped[int | None] = mapped_column(ForeignKey("houses.id"), index=True)
    head_name: Mapped[str] = mapped_column(String(50), default="")
    size: Mapped[int] = mapped_column(default=1)
    last_visit_at: Mapped[dt.datetime | None]

    # the households never visited (走村不漏户), counted from the index alone (migration 0034)
    __table_args__ = (Index("ix_households_unvisited", "region_code", "grid_id",
                            postgresql_where=text(UNVISITED), sqlite_where=text(UNVISITED)),)


class HouseholdCount(Base):
    """How many households each (grid, region code) holds: the 户户见干部 coverage's denominators, read from a few
    thousand rows instead of counting every household (issue #20). Kept by database triggers on `households`
    (migration 0031: every insert, move and delete, whatever path wrote it: the ORM, the importer, COPY), so it
    is never written by the application. `grid_id` 0 stands for "no grid" (a key column cannot be NULL); a row
    whose households all left keeps 0."""

    __tablename__ = "household_counts"

    grid_id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    region_code: Mapped[str] = mapped_column(String(15), primary_key=True)
    households: Mapped[int] = mapped_column(default=0)


class CadreVisitMark(Base):
    """A household a cadre visited in a calendar month (the city's time): how many of the month's cadre visits of
    it there are — by any cadre (`account_id` 0), and by each cadre account —, at the household's current grid
    (0: none) and region code. Kept by database triggers on `visits` (migration 0040), whatever path wrote them,
    never by the application: a mark at 0 visits is gone (the household no longer counts)."""

    __tablename__ = "cadre_visit_marks"

    month: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)   # YYYYMM, as `Visit.visit_month`
    account_id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    household_id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    grid_id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    region_code: Mapped[str] = mapped_column(String(15), primary_key=True)
    visits: Mapped[int] = mapped_column(default=0)


class CadreVisitCount(Base):
    """户户见干部 for a calendar month without reading the month's visits (issue #20): how many households a cadre
    visited that month (`account_id` 0: any cadre; else that cadre account themselves) per grid id (0: none)
    and region code, where the households are now — the marks of `CadreVisitMark` counted, by the same
    triggers. A row whose households all left keeps 0."""

    __tablename__ = "cadre_visit_counts"

    month: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    account_id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    grid_id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    region_code: Mapped[str] = mapped_column(String(15), primary_key=True)
    households: Mapped[int] = mapped_column(default=0)


class CadreLastVisit(Base):
    """The day (YYYYMMDD, the city's) of the last cadre visit of a household — by any cadre (`account_id` 0), and
    by each cadre account —, with the household's grid (0: none) and region code as its visits carry them. Kept by
    database triggers on `visits` (migration 0043), whatever path wrote them, never by the application: a
    household no cadre (that cadre) visited has none."""

    __tablename__ = "cadre_last_visits"

    account_id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    household_id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    day: Mapped[int]
    grid_id: Mapped[int]
    region_code: Mapped[str] = mapped_column(String(15))


class CadreLastVisitCount(Base):
    """户户见干部 over a window ending today without reading its visits (issue #20): how many households have their
    last cadre visit (`account_id` 0: by any cadre; else by that cadre account) on `day`, per grid id (0: none)
    and region code — the rows of `CadreLastVisit` counted, by the same triggers. The households seen since a day
    are the sum from that day on. A row at 0 is gone. Keyed by day first: a window reads its days' rows."""

    __tablename__ = "cadre_last_visit_counts"

    day: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    account_id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    grid_id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    region_code: Mapped[str] = mapped_column(String(15), primary_key=True)
    households: Mapped[int] = mapped_column(default=0)


class Resident(Located, Base):
    """实有人口. The ID number is stored, and looked up through its keyed digest, never through the number."""

    __tablename__ = "residents"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(50))
    id_number: Mapped[str] = mapped_column(String(18))
    id_digest: Mapped[str] = mapped_column(String(64), unique=True)
    gender: Mapped[str] = mapped_column(String(6))
    birth_date: Mapped[dt.date] = mapped_column(Date)
    phone: Mapped[str | None] = mapped_column(String(20))
    household_id: Mapped[int | None] = mapped_column(ForeignKey("households.id"), index=True)
    relation: Mapped[str] = mapped_column(String(10), default="")   # 户主, 配偶, 子女, ...
    residency: Mapped[str] = mapped_column(String(12), default="registered")  # registered | floating
    ethnicity: Mapped[str] = mapped_column(String(20), default="汉族")


class Unit(Located, Base):
    """实有单位: a business or organisation."""

    __tablename__ = "units"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120))
    credit_code: Mapped[str | None] = mapped_column(String(18), unique=True)
    kind: Mapped[str] = mapped_column(String(30))
    address_id: Mapped[int | None] = mapped_column(ForeignKey("addresses.id"))
    lon: Mapped[float | None] = mapped_column(Float)
    lat: Mapped[float | None] = mapped_column(Float)
    contact_name: Mapped[str] = mapped_column(String(50), default="")
    contact_phone: Mapped[str | None] = mapped_column(String(20))
    employees: Mapped[int] = mapped_column(default=0)


class VisitDue:
    """Something a grid worker must visit every `visit_every_days` days."""

    visit_every_days: Mapped[int] = mapped_column(default=30)
    last_visit_at: Mapped[dt.datetime | None]
    next_visit_due: Mapped[dt.date | None] = mapped_column(Date, index=True)
    responsible_person_id: Mapped[int | None] = mapped_column(ForeignKey("persons.id"))


class KeyPerson(VisitDue, Located, Base):
    """重点人员."""

    __tablename__ = "key_persons"

    id: Mapped[int] = mapped_column(primary_key=True)
    resident_id: Mapped[int] = mapped_column(ForeignKey("residents.id"), index=True)
    category: Mapped[str] = mapped_column(String(30))
    risk_level: Mapped[str] = mapped_column(String(10), default="low")  # low | medium | high
    note: Mapped[str] = mapped_column(Text, default="")


class KeyPlace(VisitDue, Located, Base):
    """重点场所."""

    __tablename__ = "key_places"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120))
    category: Mapped[str] = mapped_column(String(30))
    address_text: Mapped[str] = mapped_column(String(300), default="")
    lon: Mapped[float | None] = mapped_column(Float)
    lat: Mapped[float | None] = mapped_column(Float)
    department_key: Mapped[str | None] = mapped_column(String(40))


def _in_city_time(calendar: str):
    """A column default: the INSERT's `visited_at` (the model's default, now, when it gives none) as the city's
    month (`calendar` "month_of": YYYYMM) or day ("day_of": YYYYMMDD) — the ORM's and a Core INSERT's value when
    the writer gives none. None without a statement (a bulk loader asking for the defaults of the columns it leaves
    out: it must give them)."""
    def default(context) -> int | None:
        from .. import city   # core.city reads the models
        if context is None:
            return None
        moment = context.get_current_parameters().get("visited_at")
        return getattr(city, calendar)(moment if moment is not None else utcnow())
    return default


class Visit(Base):
    """走访/巡查 record."""

    __tablename__ = "visits"

    id: Mapped[int] = mapped_column(primary_key=True)
    target_kind: Mapped[str] = mapped_column(String(20))   # key_person | key_place | household
    target_id: Mapped[int] = mapped_column(index=True)
    visitor_person_id: Mapped[int | None] = mapped_column(ForeignKey("persons.id"))
    visitor_account_id: Mapped[int | None] = mapped_column(ForeignKey("accounts.id"))
    grid_id: Mapped[int | None] = mapped_column(ForeignKey("grids.id"), index=True)
    region_code: Mapped[str] = mapped_column(String(15), default="", index=True)
    visited_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    lon: Mapped[float | None] = mapped_column(Float)
    lat: Mapped[float | None] = mapped_column(Float)
    summary: Mapped[str] = mapped_column(Text, default="")
    theme_key: Mapped[str | None] = mapped_column(String(80))
    form_data: Mapped[dict] = mapped_column(default=dict)
    schema_version: Mapped[str] = mapped_column(String(80), default="")
    client_id: Mapped[str | None] = mapped_column(String(64), unique=True)
    # A patrol of a theme record (target_kind "theme_record"): metres from the record's geometry, and whether
    # that was farther than the theme's `patrol_distance` allows (policy "flag": kept, shown to the department).
    distance_m: Mapped[float | None] = mapped_column(Float)
    distance_flagged: Mapped[bool] = mapped_column(default=False, server_default=false())
    # A visit made by a cadre (走村不漏户、户户见干部): their post at the time, so it counts for them even after
    # the post changes; None for a grid worker's visit.
    visitor_post: Mapped[str | None] = mapped_column(String(20))
    # A household visit: the household's grid id and region code as they are NOW (not at the visit: `grid_id`,
    # `region_code`), kept by the database's triggers (migration 0038) whoever writes visits or moves households;
    # NULL for other visits and for a household that does not exist. 户户见干部 counts by them without a join.
    household_grid_id: Mapped[int | None]
    household_region_code: Mapped[str | None] = mapped_column(String(15))
    # The calendar month (YYYYMM) and day (YYYYMMDD) of `visited_at` in the city's time, written with it
    # (`_in_city_time` above; the demo's bulk loader gives them): the month whose kept 户户见干部 counts the visit is
    # in (migration 0040), and the day its household's last cadre visit may be (migration 0043).
    visit_month: Mapped[int | None] = mapped_column(default=_in_city_time("month_of"))
    visit_day: Mapped[int | None] = mapped_column(default=_in_city_time("day_of"))

    # the visits of a period, by kind; and the cadres' household visits with visitor, household and the
    # household's current place, so that the period's 户户见干部 is read from the index alone (migration 0038)
    __table_args__ = (Index("ix_visits_kind_time", "target_kind", "visited_at"),
                      Index("ix_visits_cadre_households", "visited_at", "visitor_account_id", "target_id",
                            "household_grid_id", "household_region_code",
                            postgresql_where=text(CADRE_HOUSEHOLD_VISIT), sqlite_where=text(CADRE_HOUSEHOLD_VISIT)),
                      # the cadres' household visits written without their month (a writer that did not give
                      # it): none, normally; a month holding one is counted from its visits (migration 0040)
                      Index("ix_visits_cadre_without_month", "visited_at",
                            postgresql_where=text(CADRE_VISIT_WITHOUT_MONTH),
                            sqlite_where=text(CADRE_VISIT_WITHOUT_MONTH)),
                      # and without their day (migration 0043): a window holding one is counted from its visits
                      Index("ix_visits_cadre_without_day", "visited_at",
                            postgresql_where=text(CADRE_VISIT_WITHOUT_DAY), sqlite_where=text(CADRE_VISIT_WITHOUT_DAY)),
                      # a household's cadre visits by visitor and day: its last one again when the last is deleted
                      # (the triggers of migration 0043)
                      Index("ix_visits_cadre_household_days", "target_id", "visitor_account_id", "visit_day",
                            postgresql_where=text(CADRE_HOUSEHOLD_VISIT), sqlite_where=text(CADRE_HOUSEHOLD_VISIT)))


@event.listens_for(Visit, "before_update")
def _visit_moved_in_time(_mapper, _connection, visit: Visit) -> None:
    """A visit whose time the ORM changes moves to that time's month and day (unless the writer gave them too)."""
    if not attributes.get_history(visit, "visited_at").has_changes() or visit.visited_at is None:
        return
    from .. import city
    for column, calendar in (("visit_month", city.month_of), ("visit_day", city.day_of)):
        if not attributes.get_history(visit, column).has_changes():
            setattr(visit, column, calendar(visit.visited_at))
