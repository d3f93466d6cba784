"""The indicators, computed for a handful of cases whose every outcome is known."""
from __future__ import annotations

import dataclasses
import datetime as dt

import pytest

from minqing.workflows.evaluation import evaluate

from tests.fixtures.workflow import CST, MONDAY_10AM, report, step

HOUR = dt.timedelta(hours=1)
DAY = dt.timedelta(days=1)
FEEDBACK = {"result": "已处置", "photos": ["att-1"]}
PERIOD = dict(start=dt.datetime(2026, 3, 1, tzinfo=CST), end=dt.datetime(2026, 4, 1, tzinfo=CST),
              as_of=dt.datetime(2026, 3, 20, 12, tzinfo=CST))


def handle(platform, city, case_id, accepted_at):
    step(platform, case_id, "accept", city.station, now=accepted_at)
    step(platform, case_id, "dispatch", city.station, {"department": "water_affairs"}, now=accepted_at)
    step(platform, case_id, "take", city.water, now=accepted_at)
    step(platform, case_id, "feedback", city.water, FEEDBACK, now=accepted_at + HOUR)


@pytest.fixture
def outcomes(platform, city):
    on_time = report(platform, city.worker)
    handle(platform, city, on_time, MONDAY_10AM + HOUR)
    step(platform, on_time, "confirm", city.station, {"rating": 5}, now=MONDAY_10AM + DAY)
    late = report(platform, city.worker)
    handle(platform, city, late, MONDAY_10AM + 7 * HOUR)                  # accepted at 17:00, deadline 15:30
    step(platform, late, "rework", city.worker, {"reason": "未修复", "rating": "不满意"}, now=MONDAY_10AM + DAY)
    step(platform, late, "feedback", city.water, FEEDBACK, now=MONDAY_10AM + 2 * DAY)
    step(platform, late, "confirm", city.station, {"rating": "基本满意"}, now=MONDAY_10AM + 18 * DAY)  # past due
    spot = report(platform, city.worker)
    step(platform, spot, "close_on_the_spot", city.worker, {"result": "已清理", "photos": ["a"]},
         now=MONDAY_10AM + HOUR / 2)
    void = report(platform, city.worker)
    step(platform, void, "void", city.station, {"kind": "invalid", "reason": "测试信息"})
    report(platform, city.worker)                                          # never accepted
    report(platform, city.worker, now=dt.datetime(2026, 4, 2, 10, tzinfo=CST))  # outside the period


def test_indicators_by_region(platform, city, outcomes):
    with platform.db.session() as session:
        [county] = evaluate(session, by="region", region_level="county", **PERIOD)
    assert county.key == "620102000000"
    assert (county.reported, county.acceptance_due, county.accepted_on_time) == (4, 4, 2)
    assert (county.closure_due, county.closed_on_time, county.overdue) == (4, 2, 2)
    assert (county.with_feedback, county.reworked, county.rated, county.satisfied) == (3, 1, 2, 2)
    assert county.timely_acceptance_rate == 0.5 and county.on_time_closure_rate == 0.5
    assert county.rework_rate == pytest.approx(1 / 3) and county.satisfaction_rate == 1.0
    assert county.average_handling_hours == pytest.approx((24 + 18 * 24 + 0.5) / 3)


def test_indicators_by_department_and_grid(platform, city, outcomes):
    with platform.db.session() as session:
        departments = {row.key: row for row in evaluate(session, by="department", **PERIOD)}
        [grid] = evaluate(session, by="grid", **PERIOD)
    assert grid.key == city.grid_id and grid.reported == 4
    water_id = next(key for key in departments if key is not None)
    water, undispatched = departments[water_id], departments[None]
    assert (water.reported, water.closed, water.overdue, water.reworked) == (2, 2, 1, 1)
    assert (undispatched.reported, undispatched.closed, undispatched.overdue) == (2, 1, 1)


def test_indicators_respect_the_viewers_scope(platform, city, outcomes):
    with platform.db.session() as session:
        [mine] = evaluate(session, by="department", viewer=city.water, **PERIOD)
        assert mine.reported == 2
        assert evaluate(session, by="region", viewer=city.elsewhere, **PERIOD) == []


def test_an_empty_period_has_no_rates(platform, city):
    with platform.db.session() as session:
        assert evaluate(session, by="region", **PERIOD) == []


def test_evaluate_many_equals_evaluate_for_each_dimension(platform, city, outcomes):
    """The dashboard reads the period once for departments, regions and channels (`evaluate_many`): each list
    equals `evaluate`'s, row by row, with merged, void, unplaced and boundary cases among them."""
    from minqing.core.models import Case
    from minqing.workflows.evaluation import evaluate_many
    from minqing.workflows import duplicates

    first = report(platform, city.worker, now=PERIOD["start"], channel="12345")          # the first instant
    report(platform, city.worker, now=PERIOD["end"] - dt.timedelta(seconds=1), source="citizen")  # the last
    report(platform, city.worker, now=PERIOD["end"])                                      # the next period's
    report(platform, city.worker, now=PERIOD["start"] - dt.timedelta(seconds=1))          # the last period's
    report(platform, city.citizen, lon=None, lat=None, source="citizen")                   # placed nowhere
    duplicate = report(platform, city.worker, channel="12345")
    with platform.db.session() as session:
        duplicates.merge(platform, session, session.get(Case, duplicate), session.get(Case, first), city.station,
                         reason="同一地点同一问题", now=MONDAY_10AM + 5 * HOUR)
    with platform.db.session() as session:
        session.get(Case, first).region_code = "620103000000"    # another county's case
    dimensions = {"department": ("department", "county"), "county": ("region", "county"),
                  "village": ("region", "village"), "channel": ("channel", "county"), "grid": ("grid", "county")}
    with platform.db.session() as session:
        for viewer in (None, city.centre, city.station, city.water):
            many = evaluate_many(session, dimensions, viewer=viewer, **PERIOD)
            for name, (by, level) in dimensions.items():
                alone = evaluate(session, by=by, region_level=level, viewer=viewer, **PERIOD)
                assert [dataclasses.replace(row, handling_seconds=0) for row in many[name]] == \
                    [dataclasses.replace(row, handling_seconds=0) for row in alone], (name, viewer)
                assert [row.handling_seconds for row in many[name]] == \
                    pytest.approx([row.handling_seconds for row in alone]), (name, viewer)
        everything = evaluate_many(session, dimensions, **PERIOD)
    assert {row.key for row in everything["channel"]} >= {"12345"}
    assert sum(row.duplicates for row in everything["department"]) == 1
    assert [row.reported for row in everything["county"]] == [1, 5, 1]   # unplaced, 城关区 (first merged into), 七里河区
