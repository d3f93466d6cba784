"""数据鲜活度 as an evaluation indicator: per department, as of the period's end, carried into the ranking."""
from __future__ import annotations

import datetime as dt

from sqlalchemy import select, update

from minqing.core.models import Department, ThemeRecord
from minqing.workflows import rankings
from minqing.workflows.evaluation import evaluate

from tests.fixtures.workflow import CST, MONDAY_10AM, report, step

PERIOD = dict(start=dt.datetime(2026, 3, 1, tzinfo=CST), end=dt.datetime(2026, 4, 1, tzinfo=CST),
              as_of=dt.datetime(2026, 4, 20, tzinfo=CST))
END = PERIOD["end"]


def _record(session, created):
    record = ThemeRecord(theme_key="water_affairs.zz_river", theme_version=1, department_key="water_affairs",
                         form_data={}, lon=103.8, lat=36.05, region_code="620102001001")
    session.add(record)
    session.flush()
    session.execute(update(ThemeRecord).where(ThemeRecord.id == record.id)
                    .values(created_at=created, updated_at=created))


def test_freshness_of_a_department(platform, city):
    case_id = report(platform, city.worker)
    step(platform, case_id, "accept", city.station, now=MONDAY_10AM)
    step(platform, case_id, "dispatch", city.station, {"department": "water_affairs"}, now=MONDAY_10AM)
    with platform.db.session() as session:
        _record(session, END - dt.timedelta(days=10))     # fresh at the month's end (no theme: 365 days)
        _record(session, END - dt.timedelta(days=700))    # stale
        _record(session, END + dt.timedelta(days=5))      # created after the month: not counted
    with platform.db.session() as session:
        water = session.scalar(select(Department.id).where(Department.key == "water_affairs"))
        rows = {row.key: row for row in evaluate(session, by="department", **PERIOD)}
        assert (rows[water].records, rows[water].fresh_records, rows[water].freshness_rate) == (2, 1, 0.5)
        assert all(row.records == 0 for row in evaluate(session, by="grid", **PERIOD))
        ranking = rankings.compute(session, "2026-03", now=PERIOD["as_of"])
        [standing] = [s for s in ranking.standings if s.department_id == water]
        assert standing.indicators.freshness_rate == 0.5
        assert rankings.snapshot_of(ranking)["standings"][0]["indicators"]["fresh_records"] == 1
