"""Writing the year of cases that `volume.py` generates: a chunk at a time, each chunk in one transaction with
its audit record (`record_change`: the chain takes one step per chunk, and `minqing audit verify` still holds).

PostgreSQL takes the rows through COPY (psycopg's `cursor.copy()`, in the session's own transaction); other
databases through Core executemany. Case ids are assigned by the generator (the timeline, milestones and
notifications of a case are written with it), so the id sequence is moved past them at the end.

On PostgreSQL the chunks are generated and formatted as COPY text by forked processes (`elsewhere`, one per core,
each making every other chunk) while this one writes them in order: generating is Python, writing is mostly the
server's COPY, index and key checking work, and a thread could not overlap them (it would contend for the GIL
with the writer). Elsewhere, or where a process cannot be forked, the chunks are made here, one after the other.
"""
from __future__ import annotations

import collections
import contextlib
import dataclasses
import datetime as dt
import gc
import itertools
import multiprocessing
import os
import queue
import traceback
from collections.abc import Iterator

from sqlalchemy import text
from tqdm import tqdm

from minqing.core.actors import system_actor
from minqing.core.changes import record_change
from minqing.core.models import Attachment, Case, CaseEvent, CaseMilestone, Notification, Supervision, utcnow

from . import copy_text, photos, volume
from .base_data import bulk

TABLES = (Case, CaseMilestone, CaseEvent, Notification, Supervision, Attachment)   # the others refer to the case
GENERATORS = 2   # processes that generate chunks: one per core of the machines the demo is built on
NAMES = ("cases", "milestones", "events", "notifications", "supervisions", "photos")   # as counted, in that order


class VolumeRefused(RuntimeError):
    """The city has nothing to file cases under (no standard-workflow theme with categories, or no small grid)."""


def load(platform, *, cases: int, seed: int, show_progress: bool = True, now: dt.datetime | None = None,
         chunk: int | None = None) -> collections.Counter:
    """`cases` cases of the past year in the demo city, written in bulk; the rows written (cases, events,
    milestones, notifications, supervisions, photos), the chunks and the cases still open."""
    actor = system_actor("demo")
    now = (now or utcnow()).replace(microsecond=0)
    with platform.db.session() as session:
        city = volume.city_of(platform, session, actor, now, photos.pool())
        first_id = volume.first_case_id(session)
        as_copy = session.get_bind().dialect.name == "postgresql"
    if not city.categories or not city.grids:
        raise VolumeRefused("演示城市中没有可归类的主题分类或小网格，无法生成批量历史事件")

    def made(part: int = 0, parts: int = 1) -> Iterator[Prepared]:
        for rows in volume.chunks(city, cases, seed, first_id, chunk or volume.CHUNK, part=part, parts=parts):
            yield prepare(rows, as_copy)

    parts = max(1, min(GENERATORS, os.cpu_count() or 1))   # forked before the bar starts its thread
    stream = elsewhere([made(part, parts) for part in range(parts)]) if as_copy else made()
    loaded: collections.Counter = collections.Counter()
    with tqdm(total=cases, desc="批量历史事件", unit="件", disable=not show_progress, leave=True) as bar:
        for ready in stream:
            with platform.db.session() as session:
                with _key_checks_skipped(session, as_copy):
                    for model, (columns, rows) in zip(TABLES, ready.tables, strict=True):
                        write(session, model, rows, columns)
                loaded["chunks"] += 1
                record_change(session, actor, "demo.volume", object_type="case",
                              summary=f"批量生成历史事件第 {loaded['chunks']} 批：{ready.counts['cases']} 件",
                              details={"chunk": loaded["chunks"], "first_id": ready.first_id,
                                       "last_id": ready.last_id, **ready.counts})
            loaded.update(ready.counts)
            loaded["open"] += ready.open
            bar.update(ready.counts["cases"])
    finish(platform, show_progress)
    return loaded


@contextlib.contextmanager
def _key_checks_skipped(session, postgres: bool):
    """PostgreSQL, as a superuser: no foreign-key checks while a chunk's rows are copied (`session_replication_role`,
    as pg_restore --disable-triggers does). Every id the rows refer to was read from this database or is a row of
    the same chunk, and the checks were a quarter of the server's work (18 look-ups a case). The role is back to
    normal before the audit record, whose table's own triggers (append only) must fire. As any other user, the
    checks stay."""
    skip = postgres and session.execute(text("SELECT current_setting('is_superuser')")).scalar() == "on"
    if skip:
        session.execute(text("SET LOCAL session_replication_role = replica"))
    yield
    if skip:
        session.execute(text("SET LOCAL session_replication_role = DEFAULT"))


@dataclasses.dataclass
class Prepared:
    """A chunk ready to be written: per table of TABLES, its rows, or the columns and COPY text of its rows."""
    tables: list[tuple[list[str] | None, list[dict] | bytes]]
    counts: dict[str, int]
    first_id: int
    last_id: int
    open: int


def prepare(chunk: volume.Chunk, as_copy: bool) -> Prepared:
    lists = (chunk.cases, chunk.milestones, chunk.events, chunk.notifications, chunk.supervisions, chunk.attachments)
    tables = [copy_text.columns_and_text(model.__table__, rows) if as_copy and rows else (None, rows)
              for model, rows in zip(TABLES, lists, strict=True)]
    return Prepared(tables, {name: len(rows) for name, rows in zip(NAMES, lists, strict=True)},
                    chunk.cases[0]["id"], chunk.cases[-1]["id"],
                    sum(case["closed_at"] is None and case["status"] != "voided" for case in chunk.cases))


def write(session, model, rows: list[dict] | bytes, columns: list[str] | None = None) -> None:
    """COPY text made by `prepare`, or rows: COPY on PostgreSQL, Core executemany elsewhere (`base_data.bulk`),
    with no per-statement chunking: a chunk of cases is small enough for one statement."""
    if columns is None:
        bulk(session, model, rows, chunk=len(rows) or 1)
        return
    names = ", ".join(f'"{name}"' for name in columns)
    driver = session.connection().connection.driver_connection
    with driver.cursor() as cursor, cursor.copy(f'COPY "{model.__table__.name}" ({names}) FROM STDIN') as copy:
        copy.write(rows)


class GeneratorFailed(RuntimeError):
    """The process generating the chunks stopped with an error (its traceback is the message)."""


def elsewhere(streams: list[Iterator], depth: int = 2) -> Iterator:
    """The items of the streams taken in turn (the first's first, the second's first, …) until one ends, each
    stream made by a forked process up to `depth` items ahead of the caller; where no process can be forked,
    made here. A child only generates: it inherits the parent's connections and never touches them."""
    if "fork" not in multiprocessing.get_all_start_methods():
        for items in itertools.zip_longest(*streams):
            yield from (item for item in items if item is not None)
        return
    context = multiprocessing.get_context("fork")
    children = []
    try:
        # what exists at the fork is never collected in a child: an unreachable connection finalised there would
        # close the parent's (the socket is shared)
        gc.freeze()
        try:
            for items in streams:
                channel = context.Queue(depth)
                child = context.Process(target=_produce, args=(items, channel), name="demo-volume", daemon=True)
                child.start()
                children.append((child, channel))
        finally:
            gc.unfreeze()
        for turn in itertools.count():
            item = _next(*children[turn % len(children)])
            if item is None:
                break
            yield item
    finally:
        for child, _channel in children:
            child.join(timeout=5)
            if child.is_alive():   # the caller stopped early: the child is still making items nobody takes
                child.terminate()
                child.join()


def _next(child, channel):
    while True:
        try:
            item = channel.get(timeout=5)
        except queue.Empty:
            if not child.is_alive():
                raise GeneratorFailed(f"生成历史事件的进程意外退出（退出码 {child.exitcode}）") from None
            continue
        if isinstance(item, GeneratorFailed):
            raise item
        return item


def _produce(items: Iterator, channel) -> None:
    try:
        for item in items:
            channel.put(item)
    except BaseException:   # noqa: BLE001 - the parent raises it, with the child's traceback
        channel.put(GeneratorFailed(traceback.format_exc()))
    else:
        channel.put(None)
    channel.close()
    channel.join_thread()


FINISH = ("序列", "统计信息")


def finish(platform, show_progress: bool) -> None:
    """Move the case id sequence past the ids given here (PostgreSQL) and refresh the planner's statistics of the
    tables that grew, so the first page after the load does not plan for empty tables."""
    with tqdm(total=len(FINISH), desc="收尾（序列与统计）", disable=not show_progress, leave=True) as bar:
        with platform.db.session() as session:
            if session.get_bind().dialect.name == "postgresql":
                session.execute(text("SELECT setval(pg_get_serial_sequence('cases', 'id'), "
                                     "coalesce((SELECT max(id) FROM cases), 1))"))
        bar.update()
        with platform.db.engine.connect() as connection:
            for model in TABLES:
                connection.execute(text(f'ANALYZE "{model.__table__.name}"'))
            connection.commit()
        bar.update()
