"""Benchmark: the SLA sweep over N open cases.

    python benchmarks/sweep.py                      # 1,000,000 open cases in a temporary SQLite file
    python benchmarks/sweep.py --cases 100000 --overdue 0.05
    python benchmarks/sweep.py --db postgresql+psycopg://postgres@127.0.0.1/bench     # EMPTIES that database

A share `--overdue` of the open cases is past its state's time limit. Prints the time of a first sweep (which
urges/escalates those, writing timeline lines, audit records, marks and outbox rows), of a second sweep (which
must find nothing to do) and the throughput. Delivery of the queued notifications is not part of the figure.
"""
from __future__ import annotations

import argparse
import datetime as dt
import tempfile
import time

from sqlalchemy import bindparam, func, select, text

from minqing.core.models import Case, Notification, SweepMark, UTCDateTime
from minqing.core.platform import Platform
from minqing.workflows import sla

from evaluation import fresh_database, insert_cases  # noqa: E402 - run as a script from benchmarks/

NOW = dt.datetime(2027, 1, 4, 2, tzinfo=dt.UTC)


def set_deadlines(database, every: int) -> None:
    """One open case in `every` is an hour late; the others have a day to go."""
    statement = text("UPDATE cases SET state_deadline_at = CASE WHEN id % :every = 0 THEN :past ELSE :future END "
                     "WHERE state_deadline_at IS NOT NULL").bindparams(
        bindparam("past", type_=UTCDateTime()), bindparam("future", type_=UTCDateTime()))
    with database.engine.begin() as connection:
        connection.execute(statement, {"every": every, "past": NOW - dt.timedelta(hours=1),
                                       "future": NOW + dt.timedelta(days=1)})
        if connection.dialect.name == "postgresql":
            connection.exec_driver_sql("ANALYZE cases")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cases", type=int, default=1_000_000)
    parser.add_argument("--overdue", type=float, default=0.02, help="share of open cases past their limit")
    parser.add_argument("--db", default=None, help="database URL (emptied!); default a temporary SQLite file")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        database = fresh_database(args.db, tmp)
        print(f"{database.engine.dialect.name}: generating {args.cases:,} open cases …", flush=True)
        print(f"  inserted in {insert_cases(database, args.cases, open_share=1.0):.1f} s")
        set_deadlines(database, max(1, round(1 / args.overdue)))
        url = database.engine.url.render_as_string(hide_password=False)
        database.dispose()
        platform = Platform(url)
        with platform.db.session() as session:
            open_cases = session.scalar(select(func.count()).where(Case.state_deadline_at.is_not(None)))
        began = time.perf_counter()
        first = sla.sweep(platform, now=NOW, deliver=False)
        first_seconds = time.perf_counter() - began
        began = time.perf_counter()
        second = sla.sweep(platform, now=NOW, deliver=False)
        second_seconds = time.perf_counter() - began
        with platform.db.session() as session:
            marks = session.scalar(select(func.count()).select_from(SweepMark))
            queued = session.scalar(select(func.count()).select_from(Notification))
        print(f"  open cases {open_cases:,}; first sweep {first_seconds:.2f} s: urged {first.urged:,}, "
              f"escalated {first.escalated:,} ({first.actions / first_seconds:,.0f} actions/s, "
              f"{open_cases / first_seconds:,.0f} open cases/s); marks {marks:,}, outbox rows {queued:,}")
        print(f"  second sweep {second_seconds:.2f} s: {second.actions} actions (idempotent)")
        platform.close()


if __name__ == "__main__":
    main()
