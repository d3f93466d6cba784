"""The cost of the audit log's hash chain, and the speed of `minqing audit verify`.

Writes the same audit records, one per transaction (as a login or an export writes them), once through
`record_change` (chained: the head row locked and updated, the record hashed) and once as plain inserts of the
same rows without the chain (what a write cost before it), each into a fresh database, with 1 and with several
threads at once. Prints writes per second of both and their ratio; then fills the chained log up to
`--verify-rows` records and prints how fast `verify` walks it (and what that means for a million records).

    python -m benchmarks.audit [--db postgresql+psycopg://postgres@127.0.0.1/h4] [--writes 1500] [--threads 8]
                               [--verify-rows 200000]

Without --db it runs on SQLite files in a temporary directory. With a PostgreSQL URL it creates (and drops)
two scratch databases next to the one named, so the named database itself is left alone.

A tool, not a figure of `python -m benchmarks`: the plain insert does less than the chained write (no tamper
evidence), so it is no hand-written equivalent of the same work but the price of the chain, which is the answer
sought (what a login or an export pays for it); nor does `verify` have an equivalent to compare with. It also
needs databases of its own beside the named one and several writer threads, which the harness's one fresh
database per benchmark does not give.
"""
from __future__ import annotations

import argparse
import contextlib
import itertools
import tempfile
import threading
import time
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from minqing.core.actors import Actor
from minqing.core.audit.verify import verify
from minqing.core.changes import record_change
from minqing.core.db import Database, is_sqlite
from minqing.core.models import AuditRecord, utcnow

ACTOR = Actor(12, "网格员甲", (), origin="10.20.30.40")


@contextlib.contextmanager
def scratch_database(base_url: str | None, name: str):
    """A new, migrated, empty database; removed afterwards."""
    if base_url is None or is_sqlite(base_url):
        with tempfile.TemporaryDirectory() as directory:
            database = Database(f"sqlite:///{Path(directory) / (name + '.db')}")
            database.upgrade()
            yield database
            database.dispose()
        return
    url = make_url(base_url)
    scratch = f"{url.database}_bench_{name}"
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{scratch}" WITH (FORCE)'))
        connection.execute(text(f'CREATE DATABASE "{scratch}"'))
    database = Database(url.set(database=scratch).render_as_string(hide_password=False))
    try:
        database.upgrade()
        yield database
    finally:
        database.dispose()
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{scratch}" WITH (FORCE)'))
        admin.dispose()


def _chained(session, n: int, _numbers) -> None:
    record_change(session, ACTOR, "auth.login", object_type="account", object_id=12,
                  summary=f"登录成功 #{n}", details={"method": "password"})


def _plain(session, n: int, numbers) -> None:
    """The same row inserted the way record_change did before the chain: one INSERT, nothing else."""
    session.add(AuditRecord(at=utcnow(), actor_account_id=ACTOR.account_id, actor_name=ACTOR.name,
                            origin=ACTOR.origin, action="auth.login", object_type="account", object_id="12",
                            summary=f"登录成功 #{n}", details={"method": "password"},
                            seq=next(numbers), prev_hash="", hash=""))


def writes_per_second(database: Database, write, threads: int, total: int) -> float:
    numbers = itertools.count(1)  # next() on it is atomic: unique numbers for the plain writer
    barrier = threading.Barrier(threads + 1)
    per_thread = total // threads
    errors = []

    def run(offset: int) -> None:
        barrier.wait()
        try:
            for n in range(offset, offset + per_thread):
                with database.session() as session:
                    write(session, n, numbers)
        except Exception as error:  # noqa: BLE001 - reported below
            errors.append(error)

    workers = [threading.Thread(target=run, args=(i * per_thread,)) for i in range(threads)]
    for worker in workers:
        worker.start()
    barrier.wait()
    started = time.perf_counter()
    for worker in workers:
        worker.join()
    seconds = time.perf_counter() - started
    if errors:
        raise errors[0]
    return per_thread * threads / seconds


def fill(database: Database, rows: int, batch: int = 2000) -> None:
    """Add chained records quickly: many per transaction."""
    done = 0
    while done < rows:
        with database.session() as session:
            for n in range(done, min(rows, done + batch)):
                _chained(session, n, None)
        done += batch


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", default=None, help="PostgreSQL URL (scratch databases are made beside it).")
    parser.add_argument("--writes", type=int, default=1500, help="Transactions per measurement.")
    parser.add_argument("--threads", type=int, default=8)
    parser.add_argument("--verify-rows", type=int, default=200_000)
    args = parser.parse_args()

    print(f"backend: {'PostgreSQL' if args.db and not is_sqlite(args.db) else 'SQLite'}; "
          f"{args.writes} transactions of one audit record each per measurement")
    for threads in (1, args.threads):
        with scratch_database(args.db, "plain") as plain_db, scratch_database(args.db, "chained") as chained_db:
            plain = writes_per_second(plain_db, _plain, threads, args.writes)
            chained = writes_per_second(chained_db, _chained, threads, args.writes)
            with chained_db.session() as session:
                assert verify(session).ok, "the chain written by concurrent writers does not verify"
        print(f"{threads:2d} thread(s):  plain {plain:8,.0f} writes/s   chained {chained:8,.0f} writes/s   "
              f"ratio chained/plain {chained / plain:5.2f}")

    with scratch_database(args.db, "verify") as database:
        fill(database, args.verify_rows)
        with database.session() as session:
            started = time.perf_counter()
            report = verify(session)
            seconds = time.perf_counter() - started
        assert report.ok and report.count == args.verify_rows
        rate = report.count / seconds
        print(f"verify:       {report.count:,} records in {seconds:.1f} s = {rate:,.0f} records/s "
              f"(1,000,000 records ≈ {1_000_000 / rate:.0f} s)")


if __name__ == "__main__":
    main()
