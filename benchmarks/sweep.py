"""Benchmark: the SLA sweep over N open cases, against one indexed UPDATE of the overdue ones and a commit.

    python -m benchmarks.sweep                      # 1,000,000 open cases in a temporary SQLite file
    python -m benchmarks.sweep --cases 100000 --overdue 0.05
    python -m benchmarks.sweep --db postgresql+psycopg://postgres@127.0.0.1/bench     # EMPTIES that database

A share `--overdue` of the open cases is past its state's time limit. The first sweep urges or escalates those
(timeline lines, audit records, marks and outbox rows); a second sweep must find nothing to do. Delivery of the
queued notifications is not part of the figure. The baseline is the least any sweep must do: one UPDATE of
the overdue cases found by the deadline's index, committed.
"""
from __future__ import annotations

import argparse
import datetime as dt
import gc
import json
import time

from sqlalchemy import bindparam, func, select, text
from sqlalchemy.orm import configure_mappers

from minqing.core.models import Notification, SweepMark, UTCDateTime
from minqing.core.platform import Platform
from minqing.workflows import definition, sla

from .evaluation import insert_cases
from .harness import SCALES, Figure, best_times, fresh_database

NOW = dt.datetime(2027, 1, 4, 2, tzinfo=dt.UTC)
OVERDUE_SHARE = 0.02


def set_deadlines(database, every: int) -> None:
    """One open case in `every` is an hour late; the others have a day to go."""
    statement = text("UPDATE cases SET state_deadline_at = CASE WHEN id % :every = 0 THEN :past ELSE :future END "
                     "WHERE state_deadline_at IS NOT NULL").bindparams(
        bindparam("past", type_=UTCDateTime()), bindparam("future", type_=UTCDateTime()))
    with database.engine.begin() as connection:
        connection.execute(statement, {"every": every, "past": NOW - dt.timedelta(hours=1),
                                       "future": NOW + dt.timedelta(days=1)})
        # Planner statistics on both backends, so the baseline is the UPDATE its docstring says: found by the
        # deadline's index. Without them SQLite answers `merged_into_id IS NULL` by that column's index, walks
        # every open case, and takes 5-10 times as long (a baseline that flattered the sweep).
        connection.exec_driver_sql("ANALYZE cases")
    if database.engine.dialect.name == "postgresql":
        # A settled database: else autovacuum and the checkpointer work through the bulk insert while the sides
        # are timed, and whichever runs then pays for them (the first sweep took 1.2-1.7 s, 0.3-0.4 s settled).
        with database.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.exec_driver_sql("VACUUM ANALYZE")
            connection.exec_driver_sql("CHECKPOINT")


BASELINE = text("UPDATE cases SET updated_at = :now WHERE state_deadline_at <= :now AND merged_into_id IS NULL"
                ).bindparams(bindparam("now", type_=UTCDateTime()))


def one_update(database) -> int:
    """The baseline: the overdue cases touched by one indexed UPDATE, committed."""
    with database.engine.begin() as connection:
        return connection.execute(BASELINE, {"now": NOW}).rowcount


def figures(url: str, scale, overdue: float = OVERDUE_SHARE) -> list[Figure]:
    platform = Platform(url)
    insert_cases(platform.db, scale.open_cases, open_share=1.0)
    set_deadlines(platform.db, max(1, round(1 / overdue)))
    # The data's insert leaves a large heap: each side starts after a collection, so the full collection it
    # has earned lands on neither (it fell in the first sweep, and cost as much as the sweep's writes).
    gc.collect()
    baseline = best_times({"baseline": lambda: one_update(platform.db)}, rounds=3)["baseline"]
    configure_mappers()   # once per process (a worker's start), not part of a sweep
    began = time.perf_counter()
    definition.all_workflows(platform)   # parsed once per process too (and again only when a workflow changes)
    parsing = time.perf_counter() - began
    gc.collect()
    began = time.perf_counter()
    first = sla.sweep(platform, now=NOW, deliver=False)
    ours = time.perf_counter() - began
    gc.collect()
    began = time.perf_counter()
    second = sla.sweep(platform, now=NOW, deliver=False)
    again = time.perf_counter() - began
    with platform.db.session() as session:
        marks = session.scalar(select(func.count()).select_from(SweepMark))
        queued = session.scalar(select(func.count()).select_from(Notification))
    platform.close()
    assert second.actions == 0, "the second sweep acted again"
    return [Figure(f"SLA sweep, {scale.open_cases:,} open cases, {overdue:.0%} overdue", ours, baseline, "s", 3.0,
                   False, note="baseline: one indexed UPDATE of the overdue cases + commit",
                   extra={"acted": first.actions, "marks": marks, "outbox_rows": queued,
                          "definitions_parsed_s": round(parsing, 4),
                          "second_sweep_s": round(again, 4), "second_sweep_actions": second.actions})]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scale", default="small", choices=SCALES)
    parser.add_argument("--overdue", type=float, default=OVERDUE_SHARE, help="share of open cases past their limit")
    parser.add_argument("--db", default=None, help="database URL (emptied!); default a temporary SQLite file")
    args = parser.parse_args()
    with fresh_database(args.db) as url:
        for figure in figures(url, SCALES[args.scale], args.overdue):
            print(json.dumps(figure.as_dict(), ensure_ascii=False))


if __name__ == "__main__":
    main()
