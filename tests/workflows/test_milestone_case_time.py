"""Each case's milestones carry its time (`case_milestones.case_created_at`, migration 0044), so that a period's
milestones are a range of an index: whatever writes a milestone — the report service, the engine, a Core insert
or raw SQL without it — it equals its case's `created_at`, and follows a change of it; the period's figures count
every case of the period with its milestones, and none of another period; a database upgraded from 0043 gets
every milestone's time."""
from __future__ import annotations

import datetime as dt

from alembic import command
from sqlalchemy import delete, insert, select, text, update

from minqing.core.db import Database, alembic_config
from minqing.core.models import Case, CaseMilestone
from minqing.workflows.evaluation import evaluate

from tests.fixtures.database import fresh_database
from tests.fixtures.workflow import MONDAY_10AM, report, step

TIMES = "SELECT c.id, c.created_at, m.case_created_at FROM cases c JOIN case_milestones m ON m.case_id = c.id"


def _times(session) -> dict:
    """{case id: (its created_at, its milestone's case_created_at)} as stored, through plain SQL."""
    return {row.id: (row.created_at, row.case_created_at) for row in session.execute(text(TIMES))}


def _assert_every_milestone_has_its_case_time(session) -> None:
    times = _times(session)
    assert times and all(created is not None and created == kept for created, kept in times.values()), times


def test_every_writer_gives_each_milestone_its_case_time(platform, city):
    reported = report(platform, city.worker)
    stepped = report(platform, city.worker, now=MONDAY_10AM + dt.timedelta(hours=1))
    step(platform, stepped, "accept", city.station)
    with platform.db.session() as session:
        # the engine makes a milestone for a case that has none (a case stored before milestones existed)
        session.execute(delete(CaseMilestone).where(CaseMilestone.case_id == stepped))
        session.commit()
    step(platform, stepped, "dispatch", city.station, {"department": "water_affairs"})
    core, raw = (report(platform, city.worker, now=MONDAY_10AM + dt.timedelta(days=days)) for days in (1, 2))
    with platform.db.session() as session:
        session.execute(delete(CaseMilestone).where(CaseMilestone.case_id.in_([core, raw])))
        session.execute(insert(CaseMilestone), [{"case_id": core, "voided": False}])
        session.execute(text("INSERT INTO case_milestones (case_id, voided) VALUES (:id, false)"), {"id": raw})
        session.commit()
        assert set(_times(session)) == {reported, stepped, core, raw}
        _assert_every_milestone_has_its_case_time(session)
        # a case's time changed (a correction of an imported case's time) moves its milestone's with it
        session.execute(update(Case).where(Case.id == raw).values(created_at=MONDAY_10AM - dt.timedelta(days=40)))
        session.commit()
        _assert_every_milestone_has_its_case_time(session)
        assert session.scalar(select(CaseMilestone.dispatched_at).where(CaseMilestone.case_id == stepped))   # the engine's


def test_a_periods_figures_read_its_cases_milestones_and_no_others(platform, city):
    early, late = (report(platform, city.worker, now=MONDAY_10AM + dt.timedelta(days=days)) for days in (0, 7))
    for case_id in (early, late):
        step(platform, case_id, "accept", city.station, now=MONDAY_10AM + dt.timedelta(days=8))
    week = dict(start=MONDAY_10AM - dt.timedelta(hours=1), end=MONDAY_10AM + dt.timedelta(days=1),
                as_of=MONDAY_10AM + dt.timedelta(days=9))
    with platform.db.session() as session:
        [total] = evaluate(session, by="department", **week) or [None]
        assert total is not None and total.reported == 1 and total.acceptance_due == 1
        # the early case's milestone said another time: the join finds none, as for a case without milestones
        session.execute(update(CaseMilestone).where(CaseMilestone.case_id == early)
                        .values(case_created_at=MONDAY_10AM + dt.timedelta(days=7)))
        [moved] = evaluate(session, by="department", **week)
        assert moved.reported == 1 and moved.acceptance_due == 0
        session.rollback()


def test_the_migration_gives_the_milestones_already_there_their_case_time(tmp_path_factory):
    database = Database(fresh_database(tmp_path_factory, "milestone_case_time"))
    config = alembic_config()
    created = dt.datetime(2026, 3, 2, 2, 0)
    columns = {"theme_key": "t", "theme_version": 1, "category": "市政设施", "subcategory": "", "title": "旧事件",
               "description": "", "address": "", "source": "grid_worker", "reporter_name": "", "reporter_phone": "",
               "urgency": "normal", "workflow_key": "standard", "status": "reported", "form_data": "{}",
               "schema_version": "", "rework_count": 0, "updated_at": created, "version": 1,
               "region_code": "620102001001", "state_entered_at": created}
    names = ", ".join(columns)
    with database.engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "0043_cadre_last_visits")
        for number in range(3):
            connection.execute(text(f"INSERT INTO cases (id, created_at, {names}) VALUES (:id, :created, "
                                    f"{', '.join(':' + name for name in columns)})"),
                               {"id": number + 1, "created": created + dt.timedelta(days=number), **columns})
            connection.execute(text("INSERT INTO case_milestones (case_id, voided) VALUES (:id, false)"),
                               {"id": number + 1})
        command.upgrade(config, "head")
        kept = connection.execute(text("SELECT case_id, case_created_at FROM case_milestones ORDER BY case_id"))
        assert [(case_id, at if isinstance(at, dt.datetime) else dt.datetime.fromisoformat(at))
                for case_id, at in kept] == [(n + 1, created + dt.timedelta(days=n)) for n in range(3)]
        command.downgrade(config, "0043_cadre_last_visits")
        command.upgrade(config, "head")
    database.dispose()
