"""Benchmark: the "same place reported again after closure" warning (`plugins/early_warnings/repeat_reports.py`)
against the same question hand-written the fastest way we know: two plain SQL scans (no ORM, no scope) and the
closed cases hashed into cells of the radius's size. (A self-join on the lon/lat box is the obvious alternative: it
is a strawman on SQLite, which runs it as nested loops.)

    python -m benchmarks.warning_rules [--scale small] [--db URL]      # --db: EMPTIED

Both must find the same warnings.
"""
from __future__ import annotations

import datetime as dt
import math
import random

from sqlalchemy import Float, Integer, String, bindparam, insert, text

from minqing.core.actors import system_actor
from minqing.core.db import Database
from minqing.core.models import Case, UTCDateTime
from minqing.plugins.early_warnings import repeat_reports as rule

from .harness import Figure, best_times, run_alone

NOW = dt.datetime(2026, 6, 1, tzinfo=dt.UTC)
CENTRE = (103.83, 36.06)
THEME = "urban_management.street_vending"
SUBCATEGORIES = [f"{n:04d}" for n in range(1001, 1021)]
RADIUS_M, DAYS = 50, 30


def fill(database: Database, count: int, seed: int = 1) -> None:
    """`count` cases over 60 days spread over about 20 × 20 km, 60 % closed a few days after they came in."""
    chance = random.Random(seed)
    rows = []
    for _ in range(count):
        created = NOW - dt.timedelta(minutes=chance.randrange(60 * 24 * 60))
        closed = chance.random() < 0.6
        rows.append({"theme_key": THEME, "title": "事件", "source": "grid_worker",
                     "category": "市容环境", "subcategory": chance.choice(SUBCATEGORIES),
                     "status": "closed" if closed else "reported", "region_code": "620102001001",
                     "lon": CENTRE[0] + chance.uniform(-0.1, 0.1), "lat": CENTRE[1] + chance.uniform(-0.09, 0.09),
                     "created_at": created, "updated_at": created, "urgency": "normal", "workflow_key": "standard",
                     "rework_count": 0, "form_data": {}, "schema_version": "", "description": "", "address": "",
                     "reporter_name": "", "reporter_phone": "",
                     "closed_at": created + dt.timedelta(days=chance.uniform(0.5, 5)) if closed else None})
    with database.engine.begin() as connection:
        for start in range(0, len(rows), 5000):
            connection.execute(insert(Case), rows[start:start + 5000])
        if connection.dialect.name == "postgresql":
            connection.exec_driver_sql("ANALYZE cases")


RECENT = text("SELECT id, subcategory, lon, lat, created_at FROM cases WHERE created_at >= :since "
              "AND created_at < :now AND status <> 'voided' AND source <> :warning_source AND lon IS NOT NULL "
              "AND lat IS NOT NULL AND theme_key = :theme").bindparams(
    bindparam("since", type_=UTCDateTime()), bindparam("now", type_=UTCDateTime())).columns(
    id=Integer(), subcategory=String(), lon=Float(), lat=Float(), created_at=UTCDateTime())
CLOSED = text("SELECT id, subcategory, lon, lat, closed_at FROM cases WHERE status = 'closed' AND theme_key = :theme "
              "AND closed_at >= :oldest AND closed_at < :now").bindparams(
    bindparam("oldest", type_=UTCDateTime()), bindparam("now", type_=UTCDateTime())).columns(
    id=Integer(), subcategory=String(), lon=Float(), lat=Float(), closed_at=UTCDateTime())


def hand_written(session) -> list[tuple[int, int]]:
    """(new case, nearest closed case) pairs, newest first: two plain scans (tuples, no scope, no ORM), the
    closed cases hashed into cells of the radius's size and each new case compared with its 9 cells."""
    d_lat = RADIUS_M / rule.METRES_PER_DEGREE
    d_lon = RADIUS_M / (rule.METRES_PER_DEGREE * math.cos(math.radians(rule.WIDEST_LATITUDE)))
    window = dt.timedelta(days=DAYS)
    cells: dict[tuple, list] = {}
    for row in session.execute(CLOSED, {"theme": THEME, "oldest": NOW - 2 * window, "now": NOW}):
        cells.setdefault((row[1], math.floor(row[2] / d_lon), math.floor(row[3] / d_lat)), []).append(row)
    found = []
    for new, subcategory, lon, lat, created in session.execute(RECENT, {
            "since": NOW - window, "now": NOW, "warning_source": rule.WARNING_SOURCE, "theme": THEME}):
        x, y, best = math.floor(lon / d_lon), math.floor(lat / d_lat), None
        for dx in (-1, 0, 1):
            for dy in (-1, 0, 1):
                for old, _, old_lon, old_lat, closed in cells.get((subcategory, x + dx, y + dy), ()):
                    if old != new and dt.timedelta(0) < created - closed <= window:
                        metres = rule.distance_m(lon, lat, old_lon, old_lat)
                        if metres <= RADIUS_M and (best is None or (metres, old) < best):
                            best = (metres, old)
        if best is not None:
            found.append((created, new, best[1]))
    return [(new, old) for _, new, old in sorted(found, reverse=True)]


def figures(url: str, scale) -> list[Figure]:
    database = Database(url)
    fill(database, scale.recent_cases)
    viewer = system_actor("benchmark")
    with database.session() as session:
        def ours():
            return [(r.case_id, r.closed_case_id) for r in rule.repeat_reports(
                session, viewer, now=NOW, radius_m=RADIUS_M, days=DAYS, limit=None)]

        found = ours()
        assert found == hand_written(session), "the rule and the hand-written query disagree"
        times = best_times({"ours": ours, "baseline": lambda: hand_written(session)}, rounds=3)
    database.dispose()
    return [Figure(f"repeat-report warning, {scale.recent_cases:,} cases of 60 days", times["ours"],
                   times["baseline"], "s", 1.5, False, extra={"warnings": len(found)},
                   note="baseline: the same question as two plain scans, matched in cells of the radius in Python")]


if __name__ == "__main__":
    run_alone(figures, __doc__)
