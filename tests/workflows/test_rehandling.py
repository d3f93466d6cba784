"""重办: "not solved" at follow-up sends the case back to its department's queue, counts in that department's
返工率, is told to the reporter, and past the workflow's limit puts the case under supervision."""
from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from minqing import workflows
from minqing.core.models import Case, CaseEvent, Department, Notification, Supervision
from minqing.workflows import definition

from tests.fixtures.workflow import MONDAY_10AM, report, step

FEEDBACK = {"result": "已补装井盖", "photos": ["att-1"]}
HOUR = dt.timedelta(hours=1)


def handled_once(platform, city, case_id, at):
    step(platform, case_id, "accept", city.station, now=at)
    step(platform, case_id, "dispatch", city.station, {"department": "water_affairs"}, now=at)
    step(platform, case_id, "take", city.water, now=at)
    step(platform, case_id, "feedback", city.water, FEEDBACK, now=at + HOUR)


def not_solved(platform, city, case_id, at, actor=None):
    return step(platform, case_id, "rework", actor or city.citizen, {"reason": "井盖仍然松动", "rating": 1}, now=at)


def supervisions(platform, case_id):
    with platform.db.session() as session:
        return session.scalars(select(Supervision).where(Supervision.case_id == case_id)).all()


def test_not_solved_goes_back_to_the_same_department_and_the_reporter_hears_of_it(platform, city):
    case_id = report(platform, city.citizen, source="citizen")
    handled_once(platform, city, case_id, MONDAY_10AM)
    case = not_solved(platform, city, case_id, MONDAY_10AM + 2 * HOUR)
    with platform.db.session() as session:
        water = session.scalar(select(Department).where(Department.key == "water_affairs"))
        inbox = session.scalars(select(Case.id).where(Case.department_id == water.id, Case.status == "handling"))
        assert list(inbox) == [case_id]                       # back in the department's own queue
        notes = {(note.recipient, note.subject.split(" ")[0]) for note in session.scalars(
            select(Notification).where(Notification.case_id == case_id))}
        event = session.scalar(select(CaseEvent).where(CaseEvent.case_id == case_id, CaseEvent.action == "rework"))
    assert (case.status, case.rework_count) == ("handling", 1)
    assert ("department:water_affairs", "事件需重办") in notes
    assert (f"account:{city.citizen.account_id}", "您反映的问题已交部门重办（第1次）") in notes
    assert event.data["title"] == "重办" and event.comment == "井盖仍然松动"
    assert supervisions(platform, case_id) == []              # within the limit: no supervision yet


def test_rehandling_counts_in_the_departments_rework_rate(platform, city):
    solved, reworked = report(platform, city.worker), report(platform, city.worker)
    for case_id in (solved, reworked):
        handled_once(platform, city, case_id, MONDAY_10AM)
    not_solved(platform, city, reworked, MONDAY_10AM + 2 * HOUR, actor=city.worker)
    with platform.db.session() as session:
        rows = workflows.evaluate(session, by="department", start=MONDAY_10AM - HOUR, end=MONDAY_10AM + HOUR,
                                  as_of=MONDAY_10AM + 3 * HOUR)
        water_id = session.scalar(select(Department.id).where(Department.key == "water_affairs"))
    water = next(row for row in rows if row.key == water_id)
    assert (water.with_feedback, water.reworked) == (2, 1) and water.rework_rate == pytest.approx(0.5)


def test_past_the_limit_the_platform_supervises_the_case(platform, city):
    limit = definition.builtin("standard").rehandling.limit
    assert limit == 2
    case_id = report(platform, city.citizen, source="citizen")
    at = MONDAY_10AM
    handled_once(platform, city, case_id, at)
    for round_ in range(1, limit + 1):
        at += 2 * HOUR
        not_solved(platform, city, case_id, at)
        assert supervisions(platform, case_id) == [], round_
        step(platform, case_id, "feedback", city.water, FEEDBACK, now=at + HOUR)
    case = not_solved(platform, city, case_id, at + 2 * HOUR)   # the third "not solved": over the limit of two
    assert (case.status, case.rework_count) == ("handling", limit + 1)
    [supervision] = supervisions(platform, case_id)
    assert supervision.actor_name == "系统" and "重办已达3次" in supervision.comment
    assert supervision.region_code == "620100000000"          # the city's command centre, above the county
    assert supervision.deadline_at > at + 2 * HOUR
    with platform.db.session() as session:
        event = session.scalar(select(CaseEvent).where(CaseEvent.case_id == case_id,
                                                       CaseEvent.action == "supervise"))
        note = session.scalar(select(Notification).where(Notification.case_id == case_id,
                                                         Notification.kind == "supervise"))
    assert event.data["automatic"] == "rehandling_limit" and event.data["rehandling"] == 3
    assert note.recipient == "department:water_affairs"
    with platform.db.session() as session:
        standing = workflows.rehandling_standing(session, definition.builtin("standard"),
                                                 session.get(Case, case_id))
    assert (standing.count, standing.limit, standing.over_limit, standing.supervised) == (3, 2, True, True)


def test_a_workflow_sets_its_own_limit():
    document = definition.builtin("standard").document
    strict = definition.parse({**document, "key": "strict", "rehandling": {"limit": 0, "supervision_hours": 8}})
    assert (strict.rehandling.limit, strict.rehandling.supervision_hours) == (0, 8.0)
    assert definition.parse({**document, "key": "plain"} | {"rehandling": {}}).rehandling.limit == 2
    problems = definition.check({**document, "rehandling": {"limit": -1}})
    assert problems and "rehandling/limit" in problems[0]
