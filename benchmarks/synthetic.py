"""Synthetic cases for the workflow benchmarks: regions, grids, departments and N cases with milestones,
inserted in bulk (not through the engine, which would take hours for a million)."""
from __future__ import annotations

import datetime as dt
import random
import time

from shapely.geometry import box, mapping
from sqlalchemy import insert

from minqing.core.models import Case, CaseMilestone, Department, Grid, Region

YEAR_START = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
HOUR = dt.timedelta(hours=1)
OPEN_STATES = ("reported", "registered", "dispatched", "handling", "awaiting_follow_up")


def geography(connection, counties: int = 8, townships: int = 5, villages: int = 5, grids: int = 2):
    """Regions down to villages, `grids` grids per village, 50 departments; returns (grid ids → region code,
    department ids)."""
    def region(code, level, parent):
        return connection.execute(insert(Region).values(code=code, name=code, level=level, parent_id=parent)
                                  .returning(Region.id)).scalar_one()

    city = region("620100000000", "city", None)
    grid_regions = {}
    for c in range(1, counties + 1):
        county_code = f"6201{c:02d}"
        county = region(county_code.ljust(12, "0"), "county", city)
        for t in range(1, townships + 1):
            township = region(f"{county_code}{t:03d}000", "township", county)
            for v in range(1, villages + 1):
                code = f"{county_code}{t:03d}{v:03d}"
                village = region(code, "village", township)
                for g in range(grids):
                    grid_id = connection.execute(insert(Grid).values(
                        code=f"G{code}{g:03d}", name=code, level="small", region_id=village, region_code=code,
                        geometry=mapping(box(0, 0, 1, 1))).returning(Grid.id)).scalar_one()
                    grid_regions[grid_id] = code
    departments = [connection.execute(insert(Department).values(key=f"dept{d:02d}", name=f"部门{d}",
                                                                short_name=f"部门{d}").returning(Department.id))
                   .scalar_one() for d in range(50)]
    return grid_regions, departments


def case_rows(n: int, grid_regions: dict, departments: list, *, seed: int = 7, open_share: float = 0.25,
              first_id: int = 1):
    """Yield (case row, milestone row) pairs: a year of cases with realistic spreads of every outcome."""
    rng = random.Random(seed)
    grids = list(grid_regions)
    for offset in range(n):
        created = YEAR_START + dt.timedelta(seconds=rng.randrange(365 * 86400))
        grid_id = rng.choice(grids)
        accept_deadline, due = created + 4 * HOUR, created + 120 * HOUR
        voided = rng.random() < 0.04
        is_open = not voided and rng.random() < open_share
        accepted = None if voided or (is_open and rng.random() < 0.2) else created + rng.expovariate(1 / 3) * HOUR
        closed = None if voided or is_open else created + rng.expovariate(1 / 90) * HOUR
        status = "voided" if voided else rng.choice(OPEN_STATES) if is_open else "closed"
        deadline = created + rng.uniform(-48, 48) * HOUR + dt.timedelta(days=0) if is_open else None
        rework = 0 if rng.random() < 0.9 else rng.choice((1, 1, 2))
        rating = rng.choice((1, 2, 3, 4, 5, 5, 5, 4)) if closed and rng.random() < 0.8 else None
        case_id = first_id + offset
        yield ({"id": case_id, "theme_key": "bench", "theme_version": 1, "category": "市政设施", "subcategory": "",
                "title": "基准事件", "description": "", "address": "", "grid_id": grid_id,
                "region_code": grid_regions[grid_id], "source": "grid_worker", "reporter_name": "",
                "reporter_phone": "", "urgency": "normal", "workflow_key": "standard", "status": status,
                "department_id": None if rng.random() < 0.1 else rng.choice(departments),
                "state_entered_at": created, "state_deadline_at": deadline, "due_at": due, "form_data": {},
                "schema_version": "", "rework_count": rework, "created_at": created, "updated_at": created,
                "closed_at": closed, "version": 1},
               {"case_id": case_id, "accept_deadline_at": accept_deadline, "accepted_at": accepted,
                "dispatched_at": accepted, "feedback_at": closed - HOUR if closed else None, "rating": rating,
                "satisfied": None if rating is None else rating >= 3, "voided": voided})


def insert_cases(database, n: int, *, open_share: float = 0.25, batch: int = 20_000, seed: int = 7) -> float:
    """Fill an empty, migrated database; return the seconds it took."""
    began = time.perf_counter()
    with database.engine.begin() as connection:
        grid_regions, departments = geography(connection)
    rows = case_rows(n, grid_regions, departments, open_share=open_share, seed=seed)
    done = 0
    while done < n:
        chunk = [next(rows) for _ in range(min(batch, n - done))]
        with database.engine.begin() as connection:
            connection.execute(insert(Case), [case for case, _ in chunk])
            connection.execute(insert(CaseMilestone), [milestone for _, milestone in chunk])
        done += len(chunk)
    if database.engine.dialect.name == "postgresql":  # explicit ids: move the sequence past them
        with database.engine.begin() as connection:
            connection.exec_driver_sql("SELECT setval('cases_id_seq', (SELECT max(id) FROM cases))")
            connection.exec_driver_sql("ANALYZE")
    return time.perf_counter() - began


def fresh_database(url: str | None, tmp_dir):
    """A migrated, empty database: the given URL (emptied!) or a new SQLite file in `tmp_dir`."""
    from minqing.core.db import Database

    database = Database(url or f"sqlite:///{tmp_dir}/bench.db")
    database.reset()
    return database
