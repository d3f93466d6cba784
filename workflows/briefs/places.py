"""重复地点 repeat places and 重复来电人 repeat reporters.

A repeat place is a set of cases linked to each other, directly or through others, by the same address (compared
without spaces and punctuation, at least `MIN_ADDRESS` characters) or by points within `radius_m` metres, among
the cases reported in [end − `days` days, end) the viewer may see; it counts when it has at least `min_cases` cases
in at least `min_months` different calendar months (city time): the same place keeps coming back over months.
The brief lists those with a case in its period; the early-warning rule `repeat_places` those with a case in its
last `recent_days` days (plugins/early_warnings/repeat_places.py).

A repeat reporter is one person (an account, else a phone number) who reported at least `min_cases` cases in a
period. Names, phones and addresses leave this module masked (`core.privacy.masking`): a brief is circulated.
"""
from __future__ import annotations

import dataclasses
import datetime as dt
import math
import re

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from minqing.core import city, scope
from minqing.core.actors import Actor
from minqing.core.models import Case, CaseMilestone
from minqing.core.privacy import masking

from .space import projection_for

MIN_ADDRESS = 6
MAX_CASES = 50_000   # the newest of a window this long at most (a city's busiest half year: the recent ones count)
_NOT_WORD = re.compile(r"[\s,，。.、;；:：()（）\-—_#]+")


@dataclasses.dataclass(frozen=True)
class RepeatPlace:
    case_ids: tuple[int, ...]       # oldest first; the first names the place in a warning's stable key
    months: tuple[str, ...]         # "2026-09", ... the months with cases
    categories: tuple[str, ...]     # most frequent first
    address: str                    # masked: the most frequent address of its cases
    grid_id: int | None
    region_code: str
    lon: float | None
    lat: float | None
    first_at: dt.datetime
    last_at: dt.datetime

    @property
    def cases(self) -> int:
        return len(self.case_ids)


@dataclasses.dataclass(frozen=True)
class RepeatReporter:
    name: str                       # masked
    phone: str                      # masked
    cases: int
    categories: tuple[str, ...]


def _normal(address: str) -> str:
    text = _NOT_WORD.sub("", address or "")
    return text if len(text) >= MIN_ADDRESS else ""


def _population(start: dt.datetime, end: dt.datetime):
    return (Case.created_at >= start, Case.created_at < end, Case.merged_into_id.is_(None), Case.status != "voided",
            func.coalesce(CaseMilestone.voided, False).is_(False))


class _Links:
    """Union-find over row positions."""

    def __init__(self, size: int):
        self.parent = list(range(size))

    def root(self, item: int) -> int:
        while self.parent[item] != item:
            self.parent[item] = self.parent[self.parent[item]]
            item = self.parent[item]
        return item

    def join(self, first: int, second: int) -> None:
        a, b = self.root(first), self.root(second)
        if a != b:
            self.parent[max(a, b)] = min(a, b)


def repeat_places(session: Session, viewer: Actor, *, end: dt.datetime, days: int = 180, radius_m: float = 30,
                  min_cases: int = 3, min_months: int = 2, touching: tuple[dt.datetime, dt.datetime] | None = None,
                  limit: int | None = 50) -> list[RepeatPlace]:
    """The repeat places among the cases of [end − days, end); with `touching` (start, end), only those with a
    case reported then. The most cases first."""
    start = end - dt.timedelta(days=days)
    rows = session.execute(scope.restrict(
        select(Case.id, Case.address, Case.lon, Case.lat, Case.category, Case.grid_id, Case.region_code,
               Case.created_at).outerjoin(CaseMilestone, CaseMilestone.case_id == Case.id)
        .where(*_population(start, end)).order_by(Case.id.desc()).limit(MAX_CASES), Case, viewer)).all()[::-1]
    links = _Links(len(rows))
    by_address: dict[str, int] = {}
    for index, row in enumerate(rows):
        address = _normal(row.address)
        if address:
            links.join(by_address.setdefault(address, index), index)
    located = [index for index, row in enumerate(rows) if row.lon is not None and row.lat is not None]
    if located:
        points = projection_for([rows[i].lon for i in located]).forward(
            [rows[i].lon for i in located], [rows[i].lat for i in located])
        cells: dict[tuple[int, int], list[int]] = {}
        for position, (x, y) in enumerate(points):
            cells.setdefault((math.floor(x / radius_m), math.floor(y / radius_m)), []).append(position)
        for (cx, cy), members in cells.items():
            for dx in (-1, 0, 1):
                for dy in (-1, 0, 1):
                    for other in cells.get((cx + dx, cy + dy), ()):
                        for position in members:
                            if position < other and math.dist(points[position], points[other]) <= radius_m:
                                links.join(located[position], located[other])
    groups: dict[int, list] = {}
    for index, row in enumerate(rows):
        groups.setdefault(links.root(index), []).append(row)
    found = []
    for members in groups.values():
        month_keys = sorted({city.local(row.created_at).strftime("%Y-%m") for row in members})
        if len(members) < min_cases or len(month_keys) < min_months:
            continue
        if touching and not any(touching[0] <= row.created_at < touching[1] for row in members):
            continue
        found.append(_place(members, month_keys))
    found.sort(key=lambda place: (-place.cases, place.case_ids[0]))
    return found[:limit] if limit else found


def _most_common(values) -> list:
    counts: dict = {}
    for value in values:
        counts[value] = counts.get(value, 0) + 1
    return sorted(counts, key=lambda value: (-counts[value], str(value)))


def _place(members, month_keys) -> RepeatPlace:
    members = sorted(members, key=lambda row: (row.created_at, row.id))
    located = [row for row in members if row.lon is not None and row.lat is not None]
    addresses = _most_common(row.address for row in members if row.address)
    latest = members[-1]
    return RepeatPlace(
        case_ids=tuple(row.id for row in members), months=tuple(month_keys),
        categories=tuple(_most_common(row.category or "未分类" for row in members)),
        address=masking.mask_address(addresses[0]) if addresses else "",
        grid_id=latest.grid_id, region_code=latest.region_code or "",
        lon=round(sum(row.lon for row in located) / len(located), 6) if located else None,
        lat=round(sum(row.lat for row in located) / len(located), 6) if located else None,
        first_at=members[0].created_at, last_at=latest.created_at)


def repeat_reporters(session: Session, viewer: Actor, start: dt.datetime, end: dt.datetime, *,
                     min_cases: int = 3, limit: int = 20) -> list[RepeatReporter]:
    """People who reported at least `min_cases` of the period's cases (by account, else by phone), the most
    first; masked."""
    rows = session.execute(scope.restrict(
        select(Case.reporter_account_id, Case.reporter_phone, Case.reporter_name, Case.category)
        .outerjoin(CaseMilestone, CaseMilestone.case_id == Case.id)
        .where(*_population(start, end), or_(Case.reporter_account_id.is_not(None), Case.reporter_phone != ""))
        .order_by(Case.id.desc()).limit(MAX_CASES), Case, viewer)).all()[::-1]
    people: dict[str, list] = {}
    for row in rows:
        people.setdefault(f"a{row.reporter_account_id}" if row.reporter_account_id else f"p{row.reporter_phone}",
                          []).append(row)
    found = [RepeatReporter(name=masking.mask_name(_most_common(r.reporter_name for r in reports if r.reporter_name)[0]
                                                   if any(r.reporter_name for r in reports) else ""),
                            phone=masking.mask_phone(next((r.reporter_phone for r in reports if r.reporter_phone), "")),
                            cases=len(reports), categories=tuple(_most_common(r.category or "未分类" for r in reports)))
             for reports in people.values() if len(reports) >= min_cases]
    found.sort(key=lambda reporter: (-reporter.cases, reporter.phone, reporter.name))
    return found[:limit]


__all__ = ["RepeatPlace", "RepeatReporter", "repeat_places", "repeat_reporters"]
