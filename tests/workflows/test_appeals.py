"""申诉 and published rankings: an approved appeal takes a case out of its department's indicators for its month
and moves the department in the ranking; the published ranking keeps that, and nothing changes after it."""
from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from minqing.core.models import AuditRecord, Case, CaseEvent, Supervision
from minqing.core.models.appeals import CaseAppeal
from minqing.workflows import appeals, rankings, schemes
from minqing.workflows.errors import Conflict, FormInvalid, InvalidTransition, PermissionDenied
from minqing.workflows.evaluation import evaluate

from tests.fixtures.workflow import CST, MONDAY_10AM, report, step

HOUR, DAY = dt.timedelta(hours=1), dt.timedelta(days=1)
MARCH = "2026-03"
APRIL_5 = dt.datetime(2026, 4, 5, 9, tzinfo=CST)       # after March: its appeals and its publication
FEEDBACK = {"result": "已处置", "photos": ["att-1"]}
WHY = "该事件应由城管部门处置，系派遣错误导致超期"


def handled(platform, city, department: str, staff, *, closed_after: dt.timedelta) -> int:
    """A case dispatched to `department` and closed `closed_after` its report (late when past its due time)."""
    case_id = report(platform, city.worker)
    step(platform, case_id, "accept", city.station, now=MONDAY_10AM + HOUR)
    step(platform, case_id, "dispatch", city.station, {"department": department}, now=MONDAY_10AM + HOUR)
    step(platform, case_id, "take", staff, now=MONDAY_10AM + 2 * HOUR)
    step(platform, case_id, "feedback", staff, FEEDBACK, now=MONDAY_10AM + 3 * HOUR)
    step(platform, case_id, "confirm", city.station, {"rating": 5}, now=MONDAY_10AM + closed_after)
    return case_id


@pytest.fixture
def march(platform, city):
    """水务: one case on time, one overdue (50 %); 城管: two on time, one overdue (67 %) — 城管 first."""
    cases = {"water_on_time": handled(platform, city, "water_affairs", city.water, closed_after=DAY),
             "water_late": handled(platform, city, "water_affairs", city.water, closed_after=18 * DAY)}
    for n in range(2):
        cases[f"urban_on_time_{n}"] = handled(platform, city, "urban_management", city.urban, closed_after=DAY)
    cases["urban_late"] = handled(platform, city, "urban_management", city.urban, closed_after=18 * DAY)
    return cases


def _case(session, case_id):
    return session.get(Case, case_id)


def file(platform, actor, case_id, *, ground="dispatch_error", reason=WHY, now=APRIL_5):
    with platform.db.session() as session:
        appeal = appeals.file_appeal(session, actor, _case(session, case_id), ground=ground, reason=reason, now=now)
        session.commit()
        return appeal.id


def decide(platform, actor, appeal_id, decision, reason="核实属实，同意剔除", now=APRIL_5 + HOUR):
    with platform.db.session() as session:
        appeals.decide(session, actor, session.get(CaseAppeal, appeal_id), decision, reason, now=now)
        session.commit()


def _standings(platform, now=APRIL_5 + DAY):
    with platform.db.session() as session:
        live = rankings.ranking(session, MARCH, now=now)
        names = {s.department_id: s for s in live.standings}
        return live, {s.name: s for s in names.values()}


def test_an_approved_appeal_changes_the_ranking_and_the_published_ranking_records_it(platform, city, march):
    live, by_name = _standings(platform)
    assert [s.name for s in live.standings] == ["城管", "水务"]
    water = by_name["水务"]
    assert (water.indicators.closure_due, water.indicators.closed_on_time, water.indicators.overdue) == (2, 1, 1)
    assert not live.published and live.changes() == []

    appeal_id = file(platform, city.water, march["water_late"])
    live, _ = _standings(platform)
    assert live.pending_appeals == 1 and [s.name for s in live.standings] == ["城管", "水务"]  # pending: no change
    decide(platform, city.centre, appeal_id, "approve")

    live, by_name = _standings(platform)
    water, urban = by_name["水务"], by_name["城管"]
    assert [s.name for s in live.standings] == ["水务", "城管"]
    assert water.indicators.on_time_closure_rate == 1.0 and water.indicators.overdue == 0
    assert water.baseline.on_time_closure_rate == 0.5 and water.baseline.overdue == 1
    assert (water.rank, water.baseline_rank, water.moved, water.appeal_ids) == (1, 2, 1, (appeal_id,))
    assert (urban.rank, urban.baseline_rank, urban.appeal_ids) == (2, 1, ())   # moved by another's appeal
    assert {s.name for s in live.changes()} == {"水务", "城管"}
    assert [note.case_id for note in live.appeals] == [march["water_late"]]

    # only the department's indicators: the region still counts the case
    start, end = rankings.months.bounds(MARCH)
    with platform.db.session() as session:
        [county] = evaluate(session, by="region", start=start, end=end, as_of=APRIL_5)
    assert county.overdue == 2

    with platform.db.session() as session:
        rankings.publish(session, city.centre, MARCH, now=APRIL_5 + DAY)
        session.commit()
    # later changes to cases never alter the published ranking
    with platform.db.session() as session:
        session.get(CaseAppeal, appeal_id).status = "rejected"
        session.commit()
        published = rankings.ranking(session, MARCH)
        session.get(CaseAppeal, appeal_id).status = "approved"
        session.commit()
        audit = session.scalar(select(AuditRecord).where(AuditRecord.action == "ranking.publish"))
    assert published.published and published.published_at == APRIL_5 + DAY
    assert published.published_by == "centre"
    assert [s.name for s in published.standings] == ["水务", "城管"]
    assert [note.id for note in published.appeals] == [appeal_id]
    assert published.standings[0].baseline_rank == 2 and published.standings[0].indicators.overdue == 0
    assert audit.object_id == MARCH and "申诉调整 1 件" in audit.summary


SUPERVISION_WEIGHS = {"title": "督办重罚方案", "units": ["department"],
                      "indicators": [{"indicator": "on_time_closure_rate", "weight": 100, "scoring": "linear",
                                      "floor": 0, "target": 1}],
                      "deductions": [{"count": "supervised", "points": 40, "cap": 40}]}


def test_the_ranking_its_appeals_and_its_publication_follow_the_city_scheme(platform, city, march):
    """水务's on-time case was supervised (督办). After its appeal, the default scheme puts 水务 (100 %) first; a
    scheme deducting 40 points per supervised case puts 城管 (67 %) first. The publication keeps the version it
    was scored with when the scheme changes again."""
    decide(platform, city.centre, file(platform, city.water, march["water_late"]), "approve")
    with platform.db.session() as session:
        session.add(Supervision(case_id=march["water_on_time"], actor_name="centre", deadline_at=APRIL_5))
        session.commit()
    live, by_name = _standings(platform)
    assert [s.name for s in live.standings] == ["水务", "城管"] and live.scheme.version == 0
    assert by_name["水务"].score.total == 100 and by_name["城管"].score.total == pytest.approx(100 * 2 / 3 * 0.7 + 30)

    with platform.db.session() as session:
        schemes.save(session, city.centre, SUPERVISION_WEIGHS)
        session.commit()
    live, by_name = _standings(platform)
    water = by_name["水务"]
    assert [s.name for s in live.standings] == ["城管", "水务"] and live.scheme.version == 1
    assert water.score.total == 60 and [(d.count, d.cases, d.points) for d in water.score.deductions] == [
        ("supervised", 1, 40)]
    assert water.baseline_score.total == 10 and water.appeal_ids   # 50 % before the appeal, minus 40

    with platform.db.session() as session:
        rankings.publish(session, city.centre, MARCH, now=APRIL_5 + DAY)
        schemes.save(session, city.centre, {**SUPERVISION_WEIGHS, "title": "改后的方案", "deductions": []})
        session.commit()
        published = rankings.ranking(session, MARCH)
        as_api = rankings.as_dict(published)
    assert [s.name for s in published.standings] == ["城管", "水务"]
    assert (published.scheme.version, published.scheme.title) == (1, "督办重罚方案")
    assert published.standings[1].score.deductions[0].points == 40
    assert as_api["scheme"] == {"scope": "", "version": 1, "title": "督办重罚方案"}
    assert as_api["standings"][0]["score"]["total"] == pytest.approx(200 / 3)


def test_a_rejected_appeal_changes_nothing_and_is_on_the_timeline(platform, city, march):
    appeal_id = file(platform, city.water, march["water_late"])
    with platform.db.session() as session, pytest.raises(FormInvalid) as refused:
        appeals.decide(session, city.centre, session.get(CaseAppeal, appeal_id), "reject", "  ")
    assert "reason" in refused.value.errors
    decide(platform, city.centre, appeal_id, "reject", "派遣依据权责清单，无误")
    live, by_name = _standings(platform)
    assert [s.name for s in live.standings] == ["城管", "水务"] and live.appeals == [] and live.changes() == []
    assert by_name["水务"].indicators.overdue == 1
    with platform.db.session() as session:
        lines = session.scalars(select(CaseEvent).where(CaseEvent.case_id == march["water_late"],
                                                        CaseEvent.action.like("appeal_%"))
                                .order_by(CaseEvent.id)).all()
        assert [(e.action, e.data["title"]) for e in lines] == [("appeal_filed", "申诉提交"),
                                                                 ("appeal_rejected", "申诉驳回")]
        assert lines[1].comment == "派遣依据权责清单，无误" and lines[1].actor_name == "centre"
        assert session.get(CaseAppeal, appeal_id).active is None
    # a rejected appeal may be followed by a new one
    assert file(platform, city.water, march["water_late"], reason="补充材料：附派遣记录截图") != appeal_id


def test_appeals_are_refused_after_publication(platform, city, march):
    appeal_id = file(platform, city.water, march["water_late"])
    with platform.db.session() as session, pytest.raises(InvalidTransition) as waiting:
        rankings.publish(session, city.centre, MARCH, now=APRIL_5 + DAY)
    assert "1 件申诉待审核" in waiting.value.message
    decide(platform, city.centre, appeal_id, "approve")
    with platform.db.session() as session:
        rankings.publish(session, city.centre, MARCH, now=APRIL_5 + DAY)
        session.commit()
    with platform.db.session() as session:
        with pytest.raises(InvalidTransition) as late:
            appeals.file_appeal(session, city.urban, _case(session, march["urban_late"]), ground="force_majeure",
                                reason="暴雨导致无法施工，属不可抗力")
        assert late.value.message == "2026年3月的排名已发布，不能再申诉"
        with pytest.raises(Conflict):
            rankings.publish(session, city.centre, MARCH, now=APRIL_5 + 2 * DAY)
        assert session.scalar(select(CaseAppeal).where(CaseAppeal.case_id == march["urban_late"])) is None


def test_who_may_appeal_decide_and_publish(platform, city, march):
    with platform.db.session() as session:
        late = _case(session, march["water_late"])
        with pytest.raises(PermissionDenied):      # another department's case
            appeals.file_appeal(session, city.urban, late, ground="dispatch_error", reason=WHY)
        with pytest.raises(PermissionDenied):      # not department staff
            appeals.file_appeal(session, city.centre, late, ground="dispatch_error", reason=WHY)
        with pytest.raises(FormInvalid) as bad:
            appeals.file_appeal(session, city.water, late, ground="bad_luck", reason="短")
        assert set(bad.value.errors) == {"ground", "reason"}
        assert session.scalar(select(CaseAppeal)) is None
    appeal_id = file(platform, city.water, march["water_late"])
    with platform.db.session() as session:
        with pytest.raises(Conflict, match="重复申诉"):
            appeals.file_appeal(session, city.water, _case(session, march["water_late"]), ground="other",
                                reason="再次申诉同一事件")
        appeal = session.get(CaseAppeal, appeal_id)
        with pytest.raises(PermissionDenied):      # an operator of another county
            appeals.decide(session, city.elsewhere, appeal, "approve", "同意剔除该事件")
        with pytest.raises(PermissionDenied):      # the appellant itself
            appeals.decide(session, city.water, appeal, "approve", "同意剔除该事件")
        with pytest.raises(PermissionDenied):      # the township may decide, not publish the city's ranking
            rankings.publish(session, city.township, MARCH, now=APRIL_5)
        with pytest.raises(InvalidTransition, match="尚未结束"):
            rankings.publish(session, city.centre, MARCH, now=dt.datetime(2026, 3, 31, 23, tzinfo=CST))
        appeals.decide(session, city.township, appeal, "approve", "核实属实，同意剔除", now=APRIL_5)
        with pytest.raises(InvalidTransition):
            appeals.withdraw(session, city.water, appeal)
        session.commit()


def test_withdrawing_and_the_cases_a_department_could_appeal(platform, city, march):
    with platform.db.session() as session:
        could = [case.id for case in appeals.appealable_cases(session, city.water, MARCH, now=APRIL_5)]
    assert could == [march["water_late"]]
    appeal_id = file(platform, city.water, march["water_late"])
    with platform.db.session() as session:
        assert appeals.appealable_cases(session, city.water, MARCH, now=APRIL_5) == []
        [(mine, case)] = appeals.appeals_in_scope(session, city.water, period_key=MARCH)
        assert mine.id == appeal_id and case.id == march["water_late"]
        assert appeals.appeals_in_scope(session, city.urban) == []
        assert len(appeals.appeals_in_scope(session, city.township, status="pending")) == 1
        with pytest.raises(PermissionDenied):
            appeals.withdraw(session, city.urban, session.get(CaseAppeal, appeal_id))
        appeals.withdraw(session, city.water, session.get(CaseAppeal, appeal_id), now=APRIL_5)
        session.commit()
        assert session.get(CaseAppeal, appeal_id).status == "withdrawn"
        assert [c.id for c in appeals.appealable_cases(session, city.water, MARCH, now=APRIL_5)] == [
            march["water_late"]]


def test_the_demo_publishes_last_month_with_an_appeal_that_moved_it_and_leaves_one_pending(platform, city):
    from minqing.core.models import Department, utcnow
    from minqing.plugins.demo_history.appeals import seed_appeals

    now = utcnow()
    last_month = rankings.months.previous(rankings.months.current(now))
    start, _ = rankings.months.bounds(last_month)
    with platform.db.session() as session:
        ids = dict(session.execute(select(Department.key, Department.id)).all())
        for department, late in (("urban_management", False), ("urban_management", False),
                                 ("urban_management", True), ("water_affairs", False), ("water_affairs", True)):
            created = start + 2 * DAY
            session.add(Case(theme_key="water", title="演示事件", source="grid_worker", status="closed",
                             region_code=city.village, grid_id=city.grid_id, department_id=ids[department],
                             created_at=created, due_at=created + 5 * DAY,
                             closed_at=created + (8 if late else 1) * DAY))
        session.add(Case(theme_key="water", title="本月事件", source="grid_worker", status="handling",
                         region_code=city.village, grid_id=city.grid_id, department_id=ids["urban_management"],
                         created_at=now - DAY, due_at=now + DAY))
        session.flush()
        made = seed_appeals(session, now)
        session.commit()
        assert made == {"approved": 1, "rejected": 1, "pending": 1, "published": 1}
        published = rankings.ranking(session, last_month)
        assert published.published and len(published.appeals) == 1
        [moved] = [s for s in published.changes() if s.appeal_ids]
        assert moved.name == "水务" and (moved.baseline_rank, moved.rank) == (2, 1)
        [pending] = appeals.appeals_in_scope(session, city.urban, period_key=rankings.months.current(now))
        assert pending[0].status == "pending"
        assert seed_appeals(session, now)["published"] == 0        # built once
