"""Benchmark: the evaluation indicators over N cases, against one hand-written GROUP BY.

    python benchmarks/evaluation.py                    # 1,000,000 cases in a temporary SQLite file
    python benchmarks/evaluation.py --cases 100000
    python benchmarks/evaluation.py --db postgresql+psycopg://postgres@127.0.0.1/bench   # EMPTIES that database

For each dimension (department, county, township, grid) prints the time of `evaluate()` and of the
hand-written SQL, their ratio, and checks that both give the same numbers.
"""
from __future__ import annotations

import argparse
import datetime as dt
import tempfile
import time

from sqlalchemy import bindparam, text

from minqing.core.models import UTCDateTime
from minqing.workflows.evaluation import Indicators, evaluate

from synthetic import fresh_database, insert_cases  # noqa: E402 - run as a script from benchmarks/

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
  coalesce(sum(CASE WHEN c.closed_at IS NOT NULL THEN {seconds} ELSE 0 END), 0)
FROM cases c LEFT OUTER JOIN case_milestones m ON m.case_id = c.id
WHERE c.created_at >= :start AND c.created_at < :end AND coalesce(m.voided, false) IS false
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
    return True


def timed(function, *args):
    began = time.perf_counter()
    result = function(*args)
    return result, time.perf_counter() - began


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cases", type=int, default=1_000_000)
    parser.add_argument("--db", default=None, help="database URL (emptied!); default a temporary SQLite file")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        database = fresh_database(args.db, tmp)
        print(f"{database.engine.dialect.name}: generating {args.cases:,} cases …", flush=True)
        print(f"  inserted in {insert_cases(database, args.cases):.1f} s")
        with database.session() as session:
            for dimension in DIMENSIONS:
                hand_written(session, dimension)  # warm the cache once, so neither side pays for cold pages
                mine, ours_seconds = timed(ours, session, dimension)
                theirs, sql_seconds = timed(hand_written, session, dimension)
                verdict = "same numbers" if same(mine, theirs) else "DIFFERENT NUMBERS"
                print(f"  {dimension:10} groups {len(mine):5}  evaluate() {ours_seconds:7.3f} s   "
                      f"hand-written {sql_seconds:7.3f} s   ratio {ours_seconds / sql_seconds:5.2f}   {verdict}")
            [total] = evaluate(session, by="region", region_level="city", **PERIOD)
        print(f"  city: 及时受理率 {total.timely_acceptance_rate:.1%}  按期办结率 {total.on_time_closure_rate:.1%}  "
              f"超期 {total.overdue:,}  返工率 {total.rework_rate:.1%}  满意率 {total.satisfaction_rate:.1%}  "
              f"平均处置时长 {total.average_handling_hours:.1f} h")
        database.dispose()


if __name__ == "__main__":
    main()
