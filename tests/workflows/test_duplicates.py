"""重复件: likely duplicates with their evidence, merging into a master, every reporter's own follow-up, undo."""
from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from minqing.core.hooks import hookimpl
from minqing.core.models import Case, CaseEvent, CaseMilestone, Notification
from minqing.core.models.merges import CaseMerge
from minqing.workflows import (FormInvalid, InvalidTransition, PermissionDenied, duplicates, evaluate, sla,
                               supervise, urge)
from minqing.workflows.duplicates import similarity

from tests.fixtures.workflow import MONDAY_10AM, INSIDE, report, step

FEEDBACK = {"result": "已补装井盖", "photos": ["att-1"]}
HOUR = dt.timedelta(hours=1)
# about 50 m east of INSIDE at Lanzhou's latitude
NEAR = (INSIDE[0] + 0.00056, INSIDE[1])
FAR = (INSIDE[0] + 0.006, INSIDE[1])     # about 540 m


def load(platform, case_id) -> Case:
    with platform.db.session() as session:
        return session.get(Case, case_id)


def candidates_of(platform, case_id, viewer):
    with platform.db.session() as session:
        case = session.get(Case, case_id)
        return [(c.case.id, c.evidence()) for c in duplicates.candidates.for_case(platform, session, case, viewer)]


def merge(platform, duplicate_id, master_id, actor, reason="同一地点同一问题", now=MONDAY_10AM + 5 * HOUR):
    with platform.db.session() as session:
        duplicates.merge(platform, session, session.get(Case, duplicate_id), session.get(Case, master_id), actor,
                         reason=reason, now=now)


def undo(platform, duplicate_id, actor, reason="并非同一问题", now=MONDAY_10AM + 6 * HOUR):
    with platform.db.session() as session:
        duplicates.undo(platform, session, session.get(Case, duplicate_id), actor, reason=reason, now=now)


def timeline(platform, case_id):
    with platform.db.session() as session:
        return [(e.action, e.to_status) for e in session.scalars(
            select(CaseEvent).where(CaseEvent.case_id == case_id).order_by(CaseEvent.id))]


def told(platform, account_id):
    with platform.db.session() as session:
        return list(session.scalars(select(Notification.subject).where(
            Notification.recipient == f"account:{account_id}").order_by(Notification.id)))


def pair(platform, city, *, second_by=None, **second):
    """A first report by the grid worker and a second one, three hours later and 50 m away, by the citizen."""
    first = report(platform, city.worker)
    fields = dict(lon=NEAR[0], lat=NEAR[1], title="井盖丢了", description="路口的井盖缺失，很危险",
                  now=MONDAY_10AM + 3 * HOUR, source="citizen")
    fields.update(second)
    return first, report(platform, second_by or city.citizen, **fields)


def to_follow_up(platform, city, case_id, at=MONDAY_10AM + 8 * HOUR):
    step(platform, case_id, "accept", city.station, now=at)
    step(platform, case_id, "dispatch", city.station, {"department": "water_affairs"}, now=at)
    step(platform, case_id, "take", city.water, now=at)
    return step(platform, case_id, "feedback", city.water, FEEDBACK, now=at)


def test_similarity_measures():
    assert similarity.distance_m(103.8, 36.05, 103.8, 36.05) == 0
    assert 49 < similarity.distance_m(*INSIDE, *NEAR) < 52
    assert similarity.text_similarity("【投诉】井盖缺失", "井盖缺失！") == 1.0
    assert similarity.text_similarity("路灯不亮", "井盖缺失") == 0.0
    assert similarity.hash_distance("ffff000000000000", "fffe000000000001") == 2


def test_a_near_similar_report_is_a_likely_duplicate_with_its_evidence(platform, city):
    first, second = pair(platform, city)
    found = candidates_of(platform, second, city.station)
    assert [case_id for case_id, _ in found] == [first]
    evidence = found[0][1]
    assert 49 < evidence["distance_m"] < 52 and evidence["hours_apart"] == 3.0
    assert evidence["same_category"] is True and evidence["photo_match"] is False and evidence["photo_bits"] is None
    assert evidence["text_similarity"] > 0.3 and 0.4 <= evidence["score"] <= 1
    # and the other way round: the first report sees the second
    assert [case_id for case_id, _ in candidates_of(platform, first, city.station)] == [second]


@pytest.mark.parametrize("second", [
    {"lon": FAR[0], "lat": FAR[1]},                                      # too far
    {"now": MONDAY_10AM + dt.timedelta(days=8)},                          # too long after (open case)
    {"theme_key": "lighting", "category": "照明设施"},                    # another theme and category
])
def test_not_a_duplicate(platform, city, second):
    first, other = pair(platform, city, **second)
    assert candidates_of(platform, other, city.station) == []


def test_a_recently_closed_case_is_a_candidate_a_long_closed_one_is_not(platform, city):
    first = report(platform, city.worker)
    to_follow_up(platform, city, first)
    step(platform, first, "confirm", city.station, {"rating": 5}, now=MONDAY_10AM + 9 * HOUR)
    soon = report(platform, city.citizen, lon=NEAR[0], lat=NEAR[1], now=MONDAY_10AM + dt.timedelta(days=3),
                  source="citizen")
    late = report(platform, city.citizen, lon=NEAR[0], lat=NEAR[1], now=MONDAY_10AM + dt.timedelta(days=12),
                  source="citizen", client_id="late")
    assert first in [case_id for case_id, _ in candidates_of(platform, soon, city.station)]
    assert first not in [case_id for case_id, _ in candidates_of(platform, late, city.station)]


def test_candidates_stay_in_the_viewers_scope(platform, city):
    first, second = pair(platform, city)
    assert candidates_of(platform, second, city.elsewhere) == []
    # a citizen sees only their own earlier reports
    assert candidates_of(platform, second, city.citizen) == []


def test_merge_then_undo_restores_both_exactly(platform, city):
    first, second = pair(platform, city)
    step(platform, first, "accept", city.station, now=MONDAY_10AM + 4 * HOUR)
    before = {case_id: load(platform, case_id) for case_id in (first, second)}
    fields = ("status", "state_entered_at", "state_deadline_at", "department_id", "merged_into_id", "due_at",
              "closed_at", "rework_count")
    snapshot = {case_id: {name: getattr(case, name) for name in fields} for case_id, case in before.items()}

    merge(platform, second, first, city.station)
    merged = load(platform, second)
    assert merged.merged_into_id == first and merged.status == "registered" and merged.state_deadline_at is None
    assert timeline(platform, second)[-1] == ("merge", "registered")
    assert timeline(platform, first)[-1] == ("merge_in", "registered")
    assert any(f"已与事件 {load(platform, first).number} 合并办理" in text for text in told(platform, city.citizen.account_id))
    with platform.db.session() as session:
        assert [case.id for case in duplicates.duplicates_of(session, first)] == [second]
        row = session.scalar(select(CaseMerge))
        assert row.duplicate_status == "reported" and 49 < row.evidence["distance_m"] < 52

    undo(platform, second, city.station)
    for case_id in (first, second):
        case = load(platform, case_id)
        assert {name: getattr(case, name) for name in fields} == snapshot[case_id]
    assert timeline(platform, second)[-1] == ("unmerge", "reported")
    assert [action for action, _ in timeline(platform, first)][-2:] == ["merge_in", "unmerge_out"]
    with platform.db.session() as session:
        row = session.scalar(select(CaseMerge))
        assert row.undone_at is not None and row.undone_by_name == "station" and row.undo_reason == "并非同一问题"
        assert duplicates.duplicates_of(session, first) == [] and len(duplicates.history(session, first)) == 1


def test_every_reporter_hears_of_progress_and_gets_their_own_follow_up(platform, city):
    first, second = pair(platform, city)
    merge(platform, second, first, city.station)
    to_follow_up(platform, city, first)
    duplicate = load(platform, second)
    assert duplicate.status == "awaiting_follow_up" and duplicate.merged_into_id == first
    actions = [action for action, _ in timeline(platform, second)]
    assert actions.count("follow_master") == 4     # accept, dispatch, take, feedback
    with platform.db.session() as session:
        fed_back = session.scalars(select(CaseEvent).where(CaseEvent.case_id == second,
                                                           CaseEvent.action == "follow_master")).all()[-1]
        assert fed_back.comment == "已补装井盖"
    assert any("待回访" in text for text in told(platform, city.citizen.account_id))

    # the master's own reporter confirms; the duplicate still waits for its reporter
    step(platform, first, "confirm", city.station, {"rating": 5}, now=MONDAY_10AM + 9 * HOUR)
    assert load(platform, second).status == "awaiting_follow_up"
    # the citizen rates their own case, and the rating counts for it
    step(platform, second, "confirm", city.citizen, {"rating": 3}, now=MONDAY_10AM + 10 * HOUR)
    assert load(platform, second).status == "closed"
    with platform.db.session() as session:
        assert session.get(CaseMilestone, second).rating == 3 and session.get(CaseMilestone, first).rating == 5


def test_not_solved_on_a_duplicate_sends_the_master_back_to_handling(platform, city):
    first, second = pair(platform, city)
    third = report(platform, city.worker, lon=NEAR[0], lat=NEAR[1], now=MONDAY_10AM + 4 * HOUR)
    merge(platform, second, first, city.station)
    merge(platform, third, first, city.station)
    to_follow_up(platform, city, first)
    step(platform, second, "rework", city.citizen, {"reason": "井盖还是没有", "rating": 1},
         now=MONDAY_10AM + 9 * HOUR)
    master = load(platform, first)
    assert master.status == "handling" and master.rework_count == 1
    assert load(platform, second).status == "handling" and load(platform, second).merged_into_id == first
    assert load(platform, second).state_deadline_at is None
    assert load(platform, third).status == "handling"
    with platform.db.session() as session:
        rework = session.scalars(select(CaseEvent).where(CaseEvent.case_id == first,
                                                         CaseEvent.action == "rework")).one()
        assert load(platform, second).number in rework.comment and "井盖还是没有" in rework.comment


def test_not_solved_after_the_master_closed_makes_the_duplicate_a_case_of_its_own(platform, city):
    first, second = pair(platform, city)
    merge(platform, second, first, city.station)
    to_follow_up(platform, city, first)
    step(platform, first, "confirm", city.station, {"rating": 5}, now=MONDAY_10AM + 9 * HOUR)
    step(platform, second, "rework", city.citizen, {"reason": "还是没修好"}, now=MONDAY_10AM + 10 * HOUR)
    detached, master = load(platform, second), load(platform, first)
    assert detached.merged_into_id is None and detached.status == "handling"
    assert detached.department_id == master.department_id and detached.state_deadline_at is not None
    assert master.status == "closed"
    with platform.db.session() as session:
        assert session.scalar(select(CaseMerge)).undone_at is not None


def test_merging_into_a_closed_master_asks_the_reporter_to_follow_up(platform, city):
    first = report(platform, city.worker)
    to_follow_up(platform, city, first)
    step(platform, first, "confirm", city.station, {"rating": 5}, now=MONDAY_10AM + 9 * HOUR)
    late = report(platform, city.citizen, lon=NEAR[0], lat=NEAR[1], now=MONDAY_10AM + 20 * HOUR, source="citizen")
    merge(platform, late, first, city.station, now=MONDAY_10AM + 21 * HOUR)
    assert load(platform, late).status == "awaiting_follow_up"


def test_bad_merges_are_refused_and_change_nothing(platform, city):
    first, second = pair(platform, city)
    third = report(platform, city.worker, lon=NEAR[0], lat=NEAR[1], now=MONDAY_10AM + 4 * HOUR)
    with pytest.raises(InvalidTransition, match="它自己"):
        merge(platform, first, first, city.station)
    with pytest.raises(FormInvalid) as refused:
        merge(platform, second, first, city.station, reason="")
    assert list(refused.value.errors) == ["reason"]
    merge(platform, second, first, city.station)
    with pytest.raises(InvalidTransition, match="本身已合并到"):
        merge(platform, third, second, city.station)
    with pytest.raises(InvalidTransition, match="已合并到其他事件"):
        merge(platform, second, third, city.station)
    with pytest.raises(InvalidTransition, match="合并链"):
        merge(platform, first, third, city.station)
    # out of scope, and a citizen, may not merge
    with pytest.raises(PermissionDenied):
        merge(platform, third, first, city.elsewhere)
    with pytest.raises(PermissionDenied):
        merge(platform, third, first, city.citizen)
    with pytest.raises(PermissionDenied):
        undo(platform, second, city.elsewhere)
    # a closed or voided duplicate cannot be merged
    step(platform, third, "void", city.station, {"kind": "invalid", "reason": "误报"})
    with pytest.raises(InvalidTransition, match="已作废"):
        merge(platform, third, first, city.station)
    assert load(platform, third).merged_into_id is None
    with platform.db.session() as session:
        assert len(session.scalars(select(CaseMerge)).all()) == 1


def test_a_merged_duplicate_takes_no_step_but_its_follow_up(platform, city):
    first, second = pair(platform, city)
    merge(platform, second, first, city.station)
    number = load(platform, first).number
    with pytest.raises(InvalidTransition, match=f"该事件已合并到 {number}，请在主件上办理"):
        step(platform, second, "accept", city.station)
    with pytest.raises(InvalidTransition, match="请先撤销合并再作废"):
        step(platform, first, "void", city.station, {"kind": "invalid", "reason": "误报"})
    with pytest.raises(InvalidTransition, match="未合并"):
        undo(platform, first, city.station)
    with platform.db.session() as session:           # urged and supervised on the master, not on the duplicate
        duplicate = session.get(Case, second)
        with pytest.raises(InvalidTransition, match="请对主件催办"):
            urge(platform, session, duplicate, city.centre)
        with pytest.raises(InvalidTransition, match="请对主件督办"):
            supervise(platform, session, duplicate, city.leader, hours=8, comment="限期办结")


def test_the_sweep_leaves_merged_duplicates_alone(platform, city):
    first, second = pair(platform, city)
    with platform.db.session() as session:   # a merged case whose clock would have run out
        duplicate = session.get(Case, second)
        duplicates.merge(platform, session, duplicate, session.get(Case, first), city.station, reason="重复上报",
                         now=MONDAY_10AM + 4 * HOUR)
        duplicate.state_deadline_at = MONDAY_10AM + 5 * HOUR
    sla.sweep(platform, now=MONDAY_10AM + dt.timedelta(days=3), deliver=False)
    assert [action for action, _ in timeline(platform, second)] == ["report", "merge"]
    assert "urge" in [action for action, _ in timeline(platform, first)]


def test_indicators_count_duplicates_once(platform, city):
    first, second = pair(platform, city)
    report(platform, city.worker, lon=FAR[0], lat=FAR[1], title="路灯不亮", now=MONDAY_10AM + HOUR)
    merge(platform, second, first, city.station)
    with platform.db.session() as session:
        (row,) = evaluate(session, by="region", region_level="county", start=MONDAY_10AM - HOUR,
                          end=MONDAY_10AM + dt.timedelta(days=1))
        (mine,) = evaluate(session, by="region", region_level="county", start=MONDAY_10AM - HOUR,
                           end=MONDAY_10AM + dt.timedelta(days=1), viewer=city.station)
    assert row.reported == 2 and row.duplicates == 1 and row.duplicate_share == pytest.approx(1 / 3)
    assert mine.duplicates == 1
    undo(platform, second, city.station)
    with platform.db.session() as session:
        (row,) = evaluate(session, by="region", region_level="county", start=MONDAY_10AM - HOUR,
                          end=MONDAY_10AM + dt.timedelta(days=1))
    assert row.reported == 3 and row.duplicates == 0 and row.duplicate_share == 0


class Watcher:
    """A third party tracking cases through `case_transitioned`."""

    def __init__(self):
        self.seen: list[tuple[int, str, str]] = []

    @hookimpl
    def case_transitioned(self, case, transition, actor, session):
        self.seen.append((case.id, transition, case.status))


def test_case_transitioned_fires_on_merge_undo_following_the_master_and_leaving_it(platform, city):
    watcher = Watcher()
    platform.plugins.register(watcher, "watcher")
    try:
        first, second = pair(platform, city)
        merge(platform, second, first, city.station)
        undo(platform, second, city.station)
        merge(platform, second, first, city.station, now=MONDAY_10AM + 7 * HOUR)
        to_follow_up(platform, city, first)
        step(platform, first, "confirm", city.station, {"rating": 5}, now=MONDAY_10AM + 9 * HOUR)
        step(platform, second, "rework", city.citizen, {"reason": "还是没修好"}, now=MONDAY_10AM + 10 * HOUR)
    finally:
        platform.plugins.unregister("watcher")
    on_second = [transition for case_id, transition, _status in watcher.seen if case_id == second]
    assert on_second[:4] == ["report", "merge", "unmerge", "merge"]
    assert on_second.count("follow_master") >= 4          # accept, dispatch, take, feedback of the master
    assert "unmerge" in on_second[4:]                     # "not solved" after the master closed: on its own again
    with platform.db.session() as session:                # every status the plugin saw is the case's real one then
        assert watcher.seen[-1][2] == session.get(Case, watcher.seen[-1][0]).status
