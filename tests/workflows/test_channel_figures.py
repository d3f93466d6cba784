"""Per-channel figures (docs/channels.md, "Figures"): how many cases each intake channel brought, the median time to
first response (受理), the share closed in time and the satisfaction, checked against direct SQL and within the
viewer's scope."""
from __future__ import annotations

import datetime as dt
import statistics

import pytest
from sqlalchemy import text

from minqing.workflows.channel_figures import by_channel

from tests.fixtures.workflow import CST, MONDAY_10AM, report, step

HOUR = dt.timedelta(hours=1)
DAY = dt.timedelta(days=1)
FEEDBACK = {"result": "已处置", "photos": ["att-1"]}
PERIOD = dict(start=dt.datetime(2026, 3, 1, tzinfo=CST), end=dt.datetime(2026, 4, 1, tzinfo=CST),
              as_of=dt.datetime(2026, 3, 20, 12, tzinfo=CST))


def accepted(platform, city, source, hours, **report_fields):
    case_id = report(platform, city.worker, source=source, **report_fields)
    step(platform, case_id, "accept", city.station, now=MONDAY_10AM + hours * HOUR)
    return case_id


def closed(platform, city, case_id, rating, at):
    step(platform, case_id, "dispatch", city.station, {"department": "water_affairs"}, now=at)
    step(platform, case_id, "take", city.water, now=at)
    step(platform, case_id, "feedback", city.water, FEEDBACK, now=at + HOUR)
    step(platform, case_id, "confirm", city.station, {"rating": rating}, now=at + 2 * HOUR)


@pytest.fixture
def channels_history(platform, city):
    """Work end: 3 cases first answered after 1, 3 and 7 hours, one of them closed in time and rated 满意, one
    closed late and rated 不满意; citizen end: 2 cases answered after 2 and 5 hours; 12345: one never answered,
    one void; and a work-end case of April, outside the period."""
    early = accepted(platform, city, "grid_worker", 1)
    accepted(platform, city, "grid_worker", 3)
    late = accepted(platform, city, "grid_worker", 7)
    closed(platform, city, early, 5, MONDAY_10AM + 2 * HOUR)
    closed(platform, city, late, 1, MONDAY_10AM + 15 * DAY)
    accepted(platform, city, "citizen", 2)
    accepted(platform, city, "citizen", 5)
    report(platform, city.worker, source="hotline")
    void = report(platform, city.worker, source="hotline")
    step(platform, void, "void", city.station, {"kind": "invalid", "reason": "测试信息"})
    report(platform, city.worker, source="grid_worker", now=dt.datetime(2026, 4, 2, 10, tzinfo=CST))


def direct(session) -> dict[str, dict]:
    """The same figures from the tables by hand: plain SQL, the median in Python."""
    rows = session.execute(text(
        "SELECT c.channel, c.created_at, m.accepted_at, c.closed_at, c.due_at, m.rating, m.satisfied "
        "FROM cases c LEFT JOIN case_milestones m ON m.case_id = c.id "
        "WHERE c.created_at >= :start AND c.created_at < :end AND COALESCE(m.voided, false) = false "
        "AND c.merged_into_id IS NULL"), {"start": PERIOD["start"].astimezone(dt.timezone.utc).replace(tzinfo=None),
                                          "end": PERIOD["end"].astimezone(dt.timezone.utc).replace(tzinfo=None)})
    found: dict[str, dict] = {}
    for channel, created, accepted_at, closed_at, due, rating, satisfied in rows:
        entry = found.setdefault(channel, {"reported": 0, "responses": [], "closed_on_time": 0, "rated": 0,
                                           "satisfied": 0})
        entry["reported"] += 1
        if accepted_at is not None:
            entry["responses"].append((_moment(accepted_at) - _moment(created)).total_seconds() / 3600)
        entry["closed_on_time"] += closed_at is not None and (due is None or _moment(closed_at) <= _moment(due))
        entry["rated"] += rating is not None
        entry["satisfied"] += bool(satisfied)
    return found


def _moment(value):
    if isinstance(value, str):
        value = dt.datetime.fromisoformat(value)
    return value.replace(tzinfo=None) if value.tzinfo is None else value.astimezone(dt.timezone.utc).replace(tzinfo=None)


def test_figures_per_channel_match_direct_sql(platform, city, channels_history):
    with platform.db.session() as session:
        figures = {row.channel: row for row in by_channel(session, **PERIOD)}
        expected = direct(session)
    assert list(figures) == ["work", "citizen", "12345"]          # most cases first
    for channel, entry in expected.items():
        row = figures[channel]
        assert row.reported == entry["reported"]
        assert row.responded == len(entry["responses"])
        if entry["responses"]:
            assert row.median_response_hours == pytest.approx(statistics.median(entry["responses"]))
        else:
            assert row.median_response_hours is None
        assert (row.closed_on_time, row.rated, row.satisfied) == (
            entry["closed_on_time"], entry["rated"], entry["satisfied"])
    work, citizen, hotline = figures["work"], figures["citizen"], figures["12345"]
    assert (work.reported, work.median_response_hours) == (3, pytest.approx(3.0))       # the middle of 1, 3, 7
    assert citizen.median_response_hours == pytest.approx(3.5)                           # between 2 and 5
    assert (hotline.reported, hotline.responded, hotline.median_response_hours) == (1, 0, None)  # the void one left
    assert (work.closed_on_time, work.closure_due) == (1, 3) and work.on_time_closure_rate == pytest.approx(1 / 3)
    assert work.satisfaction_rate == 0.5 and citizen.satisfaction_rate is None


def test_figures_respect_the_viewers_scope(platform, city, channels_history):
    with platform.db.session() as session:
        assert by_channel(session, viewer=city.elsewhere, **PERIOD) == []     # another county's operator
        mine = {row.channel: row.reported for row in by_channel(session, viewer=city.water, **PERIOD)}
        assert mine == {"work": 2}                                            # the department's own cases
        station = {row.channel: row.reported for row in by_channel(session, viewer=city.station, **PERIOD)}
        assert station == {"work": 3, "citizen": 2, "12345": 1}


def test_the_median_is_one_ordered_set_aggregate_on_postgresql(platform, city, channels_history):
    """PostgreSQL takes the median with `percentile_cont(0.5)` (the middle value, or the mean of the two middle
    ones: one sort per channel), not two window functions over the period's cases; SQLite has no ordered-set
    aggregate and ranks them. Both give the same figures."""
    from minqing.workflows.channel_figures import median_response

    from tests.fixtures.statements import counting

    with platform.db.session() as session, counting(platform.db.engine) as statements:
        medians = median_response(session, start=PERIOD["start"], end=PERIOD["end"])
        postgresql = session.get_bind().dialect.name == "postgresql"
    assert medians == {"work": (3, pytest.approx(3.0)), "citizen": (2, pytest.approx(3.5))}
    [statement] = statements
    assert ("percentile_cont" in statement, "row_number" in statement) == (postgresql, not postgresql), statement
