"""Writing the year of cases that `volume.py` generates: a chunk at a time, each chunk in one transaction with
its audit record (`record_change`: the chain takes one step per chunk, and `minqing audit verify` still holds).

PostgreSQL takes the rows through COPY (psycopg's `cursor.copy()`, in the session's own transaction); other
databases through Core executemany. Case ids are assigned by the generator (the timeline, milestones and
notifications of a case are written with it), so the id sequence is moved past them at the end.
"""
from __future__ import annotations

import collections
import datetime as dt

from sqlalchemy import text
from tqdm import tqdm

from minqing.core.actors import system_actor
from minqing.core.changes import record_change
from minqing.core.models import Case, CaseEvent, CaseMilestone, Notification, utcnow

from . import volume
from .base_data import bulk

TABLES = (Case, CaseMilestone, CaseEvent, Notification)   # in this order: the others refer to the case


class VolumeRefused(RuntimeError):
    """The city has nothing to file cases under (no standard-workflow theme with categories, or no small grid)."""


def load(platform, *, cases: int, seed: int, show_progress: bool = True, now: dt.datetime | None = None,
         chunk: int | None = None) -> collections.Counter:
    """`cases` cases of the past year in the demo city, written in bulk; the rows written (cases, events,
    milestones, notifications), the chunks and the cases still open."""
    actor = system_actor("demo")
    now = (now or utcnow()).replace(microsecond=0)
    with platform.db.session() as session:
        city = volume.city_of(platform, session, actor, now)
        first_id = volume.first_case_id(session)
    if not city.categories or not city.grids:
        raise VolumeRefused("演示城市中没有可归类的主题分类或小网格，无法生成批量历史事件")
    loaded: collections.Counter = collections.Counter()
    with tqdm(total=cases, desc="批量历史事件", unit="件", disable=not show_progress, leave=True) as bar:
        for rows in volume.chunks(city, cases, seed, first_id, chunk or volume.CHUNK):
            with platform.db.session() as session:
                for model, written in zip(TABLES, (rows.cases, rows.milestones, rows.events, rows.notifications),
                                          strict=True):
                    write(session, model, written)
                loaded["chunks"] += 1
                record_change(session, actor, "demo.volume", object_type="case",
                              summary=f"批量生成历史事件第 {loaded['chunks']} 批：{len(rows.cases)} 件",
                              details={"chunk": loaded["chunks"], "cases": len(rows.cases),
                                       "first_id": rows.cases[0]["id"], "last_id": rows.cases[-1]["id"],
                                       "events": len(rows.events), "notifications": len(rows.notifications)})
            loaded.update(cases=len(rows.cases), events=len(rows.events), milestones=len(rows.milestones),
                          notifications=len(rows.notifications))
            loaded["open"] += sum(case["closed_at"] is None and case["status"] != "voided" for case in rows.cases)
            bar.update(len(rows.cases))
    finish(platform, show_progress)
    return loaded


def write(session, model, rows: list[dict]) -> None:
    """COPY on PostgreSQL, Core executemany elsewhere (`base_data.bulk`), with no per-statement chunking: a
    chunk of cases is small enough for one statement."""
    bulk(session, model, rows, chunk=len(rows) or 1)


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
