"""Time limits: the SLA sweep urges and escalates as declared, exactly once per expired deadline."""
from __future__ import annotations

import datetime as dt
import threading

import pytest
from sqlalchemy import func, select

from minqing.core.models import Case, CaseEvent, Notification, Supervision, SweepMark
from minqing.workflows import PermissionDenied, supervise, urge
from minqing.workflows.sla import parent_region, sweep

from tests.fixtures.workflow import MONDAY_10AM, report, step

HOUR = dt.timedelta(hours=1)


def events(platform, case_id, *actions):
    with platform.db.session() as session:
        return session.scalars(select(CaseEvent).where(CaseEvent.case_id == case_id,
                                                       CaseEvent.action.in_(actions)).order_by(CaseEvent.id)).all()


def test_parent_region_goes_one_level_up():
    assert parent_region("620102001001") == "620102001000"
    assert parent_region("620102001001002") == "620102001001"
    assert parent_region("620102001000") == "620102000000"
    assert parent_region("620102000000") == "620100000000"
    assert parent_region("620100000000") is None and parent_region("") is None


def test_an_expired_acceptance_is_urged_once(platform, city):
    case_id = report(platform, city.worker)
    assert sweep(platform, now=MONDAY_10AM + 5 * HOUR).actions == 0   # 15:00, deadline 15:30
    first = sweep(platform, now=MONDAY_10AM + 6 * HOUR)
    again = sweep(platform, now=MONDAY_10AM + 7 * HOUR)
    assert (first.urged, first.escalated, again.actions) == (1, 0, 0)
    [urged] = events(platform, case_id, "urge")
    assert (urged.actor_name, urged.to_status, urged.data["automatic"]) == ("系统", "reported", True)
    with platform.db.session() as session:
        note = session.scalar(select(Notification).where(Notification.kind == "urge"))
    assert note.recipient == "region:620102001001" and note.status == "delivered"


def test_expiry_escalates_one_level_at_a_time(platform, city):
    case_id = report(platform, city.worker)
    step(platform, case_id, "accept", city.station)                      # 待分拨: urge + escalate on expiry
    result = sweep(platform, now=MONDAY_10AM + 6 * HOUR)
    assert (result.urged, result.escalated) == (1, 1)
    step(platform, case_id, "dispatch", city.station, {"department": "water_affairs"}, now=MONDAY_10AM + 7 * HOUR)
    step(platform, case_id, "take", city.water, now=MONDAY_10AM + 7 * HOUR)
    later = MONDAY_10AM + dt.timedelta(days=14)                           # handling (40 working hours) long over
    assert sweep(platform, now=later).escalated == 1
    step(platform, case_id, "suspend", city.station, {"reason": "等待鉴定"}, now=later)
    step(platform, case_id, "resume", city.station, now=later)          # a new entry into handling, still late
    assert sweep(platform, now=later + HOUR).escalated == 1
    step(platform, case_id, "suspend", city.station, {"reason": "等待鉴定"}, now=later + HOUR)
    step(platform, case_id, "resume", city.station, now=later + HOUR)
    last = sweep(platform, now=later + 2 * HOUR)
    assert (last.escalated, last.urged) == (0, 1)                         # the city is the top
    assert [event.data["region_code"] for event in events(platform, case_id, "escalate")] == [
        "620102001000", "620102000000", "620100000000"]
    with platform.db.session() as session:
        escalations = session.scalars(select(Notification.recipient).where(Notification.kind == "escalate")).all()
    assert escalations == ["region:620102001000", "region:620102000000", "region:620100000000"]


def test_concurrent_sweeps_act_once(platform, city):
    case_ids = [report(platform, city.worker, title=f"事件{n}") for n in range(30)]
    now = MONDAY_10AM + 6 * HOUR
    results, errors = [], []
    barrier = threading.Barrier(4)

    def run():
        try:
            barrier.wait()
            results.append(sweep(platform, now=now, batch=7))
        except Exception as error:  # noqa: BLE001 - reported below
            errors.append(error)

    threads = [threading.Thread(target=run) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert errors == []
    assert sum(result.urged for result in results) == len(case_ids)
    with platform.db.session() as session:
        per_case = session.execute(select(CaseEvent.case_id, func.count()).where(CaseEvent.action == "urge")
                                   .group_by(CaseEvent.case_id)).all()
        assert session.scalar(select(func.count()).select_from(SweepMark)) == len(case_ids)
    assert sorted(per_case) == [(case_id, 1) for case_id in sorted(case_ids)]


def test_urge_by_hand_is_on_the_timeline(platform, city):
    case_id = report(platform, city.worker)
    step(platform, case_id, "accept", city.station)
    step(platform, case_id, "dispatch", city.station, {"department": "water_affairs"})
    with platform.db.session() as session:
        case = session.get(Case, case_id)
        urge(platform, session, case, city.township, "群众多次来电，请加快办理")
        with pytest.raises(PermissionDenied):
            urge(platform, session, case, city.water)
    [urged] = events(platform, case_id, "urge")
    assert (urged.actor_name, urged.comment) == ("township", "群众多次来电，请加快办理")
    with platform.db.session() as session:
        assert session.scalar(select(Notification.recipient).where(Notification.kind == "urge")) == \
            "department:water_affairs"


def test_supervision_by_a_higher_level_with_its_own_deadline(platform, city):
    case_id = report(platform, city.worker)
    step(platform, case_id, "accept", city.station)
    with platform.db.session() as session:
        case = session.get(Case, case_id)
        with pytest.raises(PermissionDenied) as same_level:
            supervise(platform, session, case, city.station, hours=2, comment="限期办理")
        assert "上级" in same_level.value.message
        with pytest.raises(PermissionDenied):
            supervise(platform, session, case, city.elsewhere, hours=2, comment="限期办理")
        supervise(platform, session, case, city.township, hours=2, comment="限两小时内分拨", now=MONDAY_10AM)
        supervise(platform, session, case, city.leader, hours=1, comment="领导督办", working=False,
                  now=MONDAY_10AM)
    assert [event.actor_name for event in events(platform, case_id, "supervise")] == ["township", "leader"]
    with platform.db.session() as session:
        deadlines = session.scalars(select(Supervision.deadline_at).order_by(Supervision.id)).all()
    assert deadlines == [MONDAY_10AM + 2 * HOUR, MONDAY_10AM + HOUR]
    assert sweep(platform, now=MONDAY_10AM + 90 * dt.timedelta(minutes=1)).supervisions == 1
    assert sweep(platform, now=MONDAY_10AM + 3 * HOUR).supervisions == 1
    assert sweep(platform, now=MONDAY_10AM + 4 * HOUR).supervisions == 0
    assert [event.data["title"] for event in events(platform, case_id, "urge")] == ["督办超期催办"] * 2


def test_a_batch_takes_one_audit_step_naming_its_cases_and_the_chain_verifies(platform, city):
    from minqing.core.audit.verify import verify
    from minqing.core.models import AuditRecord

    case_ids = [report(platform, city.worker, title=f"事件{n}") for n in range(12)]
    result = sweep(platform, now=MONDAY_10AM + 6 * HOUR, batch=5)
    assert result.urged == 12
    with platform.db.session() as session:
        records = session.scalars(select(AuditRecord).where(AuditRecord.action == "sla.sweep")
                                  .order_by(AuditRecord.seq)).all()
        assert session.scalar(select(func.count()).select_from(AuditRecord)
                              .where(AuditRecord.action == "case.urge")) == 0
        assert [len(record.details["cases"]["urge"]) for record in records] == [5, 5, 2]
        assert sorted(n for record in records for n in record.details["cases"]["urge"]) == sorted(case_ids)
        assert records[0].summary == "超时自动催办 5 件，升级 0 件" and records[0].actor_name == "系统"
        assert session.scalar(select(func.count()).select_from(Notification)
                              .where(Notification.kind == "urge")) == 12
        assert verify(session).ok
    assert sweep(platform, now=MONDAY_10AM + 6 * HOUR, batch=5).actions == 0
