"""Benchmark: the "same place reported again after closure" warning (`plugins/early_warnings/repeat_reports.py`), a
self-join of the cases with a lon/lat box, against the surge warning's GROUP BY over the same cases.

    python benchmarks/warning_rules.py                      # 100,000 cases of the last 60 days, temporary SQLite file
    python benchmarks/warning_rules.py --cases 20000
    python benchmarks/warning_rules.py --db postgresql+psycopg://postgres@127.0.0.1/bench   # EMPTIES that database

Prints each query's time, the ratio, and how many warnings each found.
"""
from __future__ import annotations

import argparse
import datetime as dt
import random
import tempfile
import time

from sqlalchemy import insert

from minqing.core.actors import system_actor
from minqing.core.db import Database
from minqing.core.models import Base, Case
from minqing.plugins.early_warnings import repeat_reports, surges

NOW = dt.datetime(2026, 6, 1, tzinfo=dt.UTC)
CENTRE = (103.83, 36.06)
SUBCATEGORIES = [f"{n:04d}" for n in range(1001, 1021)]


def fill(database: Database, count: int, seed: int = 1) -> None:
    """`count` cases over 60 days spread over about 20 × 20 km, 60 % closed a few days after they came in."""
    chance = random.Random(seed)
    rows = []
    for _ in range(count):
        created = NOW - dt.timedelta(minutes=chance.randrange(60 * 24 * 60))
        closed = chance.random() < 0.6
        rows.append({"theme_key": "urban_management.street_vending", "title": "事件", "source": "grid_worker",
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


def timed(call):
    start = time.perf_counter()
    answer = call()
    return time.perf_counter() - start, answer


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=100_000)
    parser.add_argument("--db", default=None)
    options = parser.parse_args()
    url = options.db or f"sqlite:///{tempfile.mkdtemp()}/warnings.db"
    database = Database(url)
    Base.metadata.drop_all(database.engine)
    Base.metadata.create_all(database.engine)
    fill(database, options.cases)
    viewer = system_actor("benchmark")
    with database.session() as session:
        repeat_s, repeats = timed(lambda: repeat_reports.repeat_reports(session, viewer, now=NOW, limit=None))
        surge_s, found = timed(lambda: surges.event_surges(session, viewer, area="village", now=NOW, limit=None))
    print(f"{options.cases:,} cases on {database.engine.dialect.name}")
    print(f"repeat_reports  {repeat_s:8.3f} s  {len(repeats):6d} warnings")
    print(f"event_surges    {surge_s:8.3f} s  {len(found):6d} warnings")
    print(f"ratio repeat/surge: {repeat_s / surge_s:.1f}")


if __name__ == "__main__":
    main()
