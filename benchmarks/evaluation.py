"""Benchmark: the evaluation indicators over N cases with their case events, against one hand-written GROUP BY
that also counts the returned (退回) cases by a join on the case events.

    python -m benchmarks.evaluation [--scale tiny|small|city]     # a temporary SQLite file (small: 50,000 cases)
    python -m benchmarks.evaluation --scale city --db postgresql+psycopg://postgres@127.0.0.1/bench   # EMPTIED

One figure per dimension (department, county, township, grid): the best time of `evaluate()` and of the
hand-written SQL, interleaved, after checking that both give the same numbers (as `python -m benchmarks`).
"""
from __future__ import annotations

import datetime as dt
import random
import time

from shapely.geometry import box, mapping
from sqlalchemy import bindparam, insert, text

from minqing.core.models import Case, CaseEvent, CaseMilestone, Department, Grid, Region, UTCDateTime
from minqing.workflows.evaluation import Indicators, evaluate

from .harness import Figure, best_times, run_alone

# -- synthetic data (also used by benchmarks/sweep.py): inserted in bulk, not through the engine, which would
#    take hours for a million cases -----------------------------------------------------------------------
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
    """Yield (case row, milestone row, event rows): a year of cases with realistic spreads of every outcome; the
    events are the timeline's report, dispatch, return (about 6 % of the dispatched) and closure lines."""
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
               {"case_id": case_id, "case_created_at": created, "accept_deadline_at": accept_deadline,
                "accepted_at": accepted,
                "dispatched_at": accepted, "feedback_at": closed - HOUR if closed else None, "rating": rating,
                "satisfied": None if rating is None else rating >= 3, "voided": voided},
               _events(rng, case_id, status, created, accepted, closed))


def _event(case_id: int, at, action: str, from_status, to_status) -> dict:
    return {"case_id": case_id, "at": at, "actor_name": "基准", "action": action, "from_status": from_status,
            "to_status": to_status, "comment": "", "data": {}, "origin": ""}


def _events(rng, case_id: int, status: str, created, accepted, closed) -> list[dict]:
    events = [_event(case_id, created, "report", None, "reported")]
    if accepted is not None:
        events.append(_event(case_id, accepted, "dispatch", "reported", "dispatched"))
        if rng.random() < 0.06:
            events.append(_event(case_id, accepted + HOUR, "return", "dispatched", "registered"))
            events.append(_event(case_id, accepted + 2 * HOUR, "dispatch", "registered", "dispatched"))
    if closed is not None:
        events.append(_event(case_id, closed, "close", "awaiting_follow_up", "closed"))
    elif status == "voided":
        events.append(_event(case_id, created + HOUR, "void", "reported", "voided"))
    return events


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
            connection.execute(insert(Case), [case for case, _, _ in chunk])
            connection.execute(insert(CaseMilestone), [milestone for _, milestone, _ in chunk])
            connection.execute(insert(CaseEvent), [event for _, _, events in chunk for event in events])
        done += len(chunk)
    if database.engine.dialect.name == "postgresql":  # explicit ids: move the sequence past them
        with database.engine.begin() as connection:
            connection.exec_driver_sql("SELECT setval('cases_id_seq', (SELECT max(id) FROM cases))")
            connection.exec_driver_sql("ANALYZE")
    return time.perf_counter() - began


# -- the comparison ------------------------------------------------------------------------------------------

PERIOD = dict(start=dt.datetime(2026, 1, 1, tzinfo=dt.UTC), end=dt.datetime(2027, 1, 1, tzinfo=dt.UTC),
              as_of=dt.datetime(2027, 1, 1, tzinfo=dt.UTC))
DIMENSIONS = {"department": "c.department_id", "county": "substr(c.region_code, 1, 6)",
              "township": "substr(c.region_code, 1, 9)", "grid": "c.grid_id"}

HAND_WRITTEN = """
SELECT {key} AS key, count(*),
  sum(CASE WHEN m.accepted_at IS NOT NULL OR m.accept_deadline_at <= :as_of THEN 1 ELSE 0 END),
  sum(CASE WHEN m.accepted_at <= m.accept_deadline_at THEN 1 ELSE 0 END),
  sum(CASE WHEN c.closed_at IS NOT NULL OR c.due_at <= :as_of THEN 1 ELSE 0 END),
  sum(CASE WHEN c.closed_at IS NOT NULL AND (c.due_at IS NULL OR c.closed_at <= c.due_at) THEN 1 ELSE 0 END),
  sum(CASE WHEN (c.closed_at IS NOT NULL AND c.closed_at > c.due_at)
            OR (c.closed_at IS NULL AND c.due_at <= :as_of) THEN 1 ELSE 0 END),
  sum(CASE WHEN m.feedback_at IS NOT NULL THEN 1 ELSE 0 END),
  sum(CASE WHEN c.rework_count > 0 THEN 1 ELSE 0 END),
  sum(CASE WHEN m.rating IS NOT NULL THEN 1 ELSE 0 END),
  sum(CASE WHEN m.satisfied IS TRUE THEN 1 ELSE 0 END),
  sum(CASE WHEN c.closed_at IS NOT NULL THEN 1 ELSE 0 END),
  coalesce(sum(CASE WHEN c.closed_at IS NOT NULL THEN {seconds} ELSE 0 END), 0),
  sum(CASE WHEN m.dispatched_at IS NOT NULL THEN 1 ELSE 0 END),
  sum(CASE WHEN m.dispatched_at IS NOT NULL AND r.case_id IS NOT NULL THEN 1 ELSE 0 END)
FROM cases c LEFT OUTER JOIN case_milestones m ON m.case_id = c.id
  LEFT OUTER JOIN (SELECT DISTINCT case_id FROM case_events WHERE action = 'return') r ON r.case_id = c.id
WHERE c.created_at >= :start AND c.created_at < :end AND coalesce(m.voided, false) IS false
  AND c.merged_into_id IS NULL
GROUP BY {key} ORDER BY {key}
"""
SECONDS = {"sqlite": "(julianday(c.closed_at) - julianday(c.created_at)) * 86400.0",
           "postgresql": "extract(epoch FROM c.closed_at - c.created_at)"}


def hand_written(session, dimension: str) -> list[tuple]:
    sql = HAND_WRITTEN.format(key=DIMENSIONS[dimension], seconds=SECONDS[session.get_bind().dialect.name])
    statement = text(sql).bindparams(*(bindparam(name, type_=UTCDateTime()) for name in ("start", "end", "as_of")))
    return [tuple(row) for row in session.execute(statement, PERIOD)]


def ours(session, dimension: str) -> list[Indicators]:
    if dimension in ("county", "township"):
        return evaluate(session, by="region", region_level=dimension, **PERIOD)
    return evaluate(session, by=dimension, **PERIOD)


def same(mine: list[Indicators], theirs: list[tuple]) -> bool:
    if len(mine) != len(theirs):
        return False
    for row, other in zip(mine, theirs):
        numbers = [row.reported, row.acceptance_due, row.accepted_on_time, row.closure_due, row.closed_on_time,
                   row.overdue, row.with_feedback, row.reworked, row.rated, row.satisfied, row.closed]
        if numbers != [int(value) for value in other[1:12]] or abs(row.handling_seconds - float(other[12])) > 1:
            return False
        if [row.dispatched, row.returned] != [int(other[13]), int(other[14])]:
            return False
    return True


def figures(url: str, scale) -> list[Figure]:
    """One figure per dimension: the best of interleaved runs of evaluate() and of the hand-written GROUP BY."""
    from minqing.core.db import Database

    database = Database(url)
    insert_cases(database, scale.cases)
    found = []
    with database.session() as session:
        for dimension in DIMENSIONS:
            assert same(ours(session, dimension), hand_written(session, dimension)), f"{dimension}: different numbers"
            times = best_times({"ours": lambda: ours(session, dimension),
                                "baseline": lambda: hand_written(session, dimension)}, rounds=2)
            found.append(Figure(f"evaluation by {dimension}, {scale.cases:,} cases with events", times["ours"],
                                times["baseline"], "s", 2.0, False,
                                note="baseline: one GROUP BY over cases ⟕ milestones ⟕ returned cases (a join)"))
    database.dispose()
    return found


if __name__ == "__main__":
    run_alone(figures, __doc__)
