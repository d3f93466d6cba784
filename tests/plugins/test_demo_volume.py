"""A city's year of cases in bulk (`minqing demo --cases N`, issue #20): the rows are what the workflow engine would
have stored (status, department, deadlines, milestones and notifications agree with each case's timeline), one
audit record per chunk keeps the audit chain whole, every phase shows its progress, the evaluation and rankings
pages answer over them, and residents are written in batches without changing the city they make."""
from __future__ import annotations

import pytest
from click.testing import CliRunner
from sqlalchemy import func, select, text

from minqing.core.cli import build_cli
from minqing.core.models import (AuditRecord, Case, CaseEvent, CaseMilestone, Department, Household, Notification,
                                 Resident)
from minqing.core.platform import Platform
from minqing.plugins.demo_city import base_data, build, volume
from minqing.web import create_app

from tests.fixtures.database import fresh_database
from tests.fixtures.web import login

CASES, RESIDENTS, CHUNK = 2_000, 5_000, 600
pytestmark = pytest.mark.slow   # a demo city built by the command (a minute or two)


@pytest.fixture(scope="module")
def city(tmp_path_factory):
    """The demo city with 2,000 cases written in chunks of 600 and 5,000 residents in batches of 2,000, built by
    the command itself; (platform, the command's output)."""
    url = fresh_database(tmp_path_factory, "volume")
    patch = pytest.MonkeyPatch()
    patch.setattr(volume, "CHUNK", CHUNK)
    patch.setattr(base_data, "BATCH_RESIDENTS", 2_000)
    try:
        result = CliRunner().invoke(build_cli(), ["--db", url, "demo", "--cases", f"{CASES:,}", "--residents",
                                                  str(RESIDENTS), "--seed", "7", "--no-serve"])
    finally:
        patch.undo()
    assert result.exit_code == 0, result.output
    platform = Platform(url)
    yield platform, result.output
    platform.close()


def volume_cases(session):
    return session.scalars(select(Case).where(Case.client_id.like("demo-volume-%")).order_by(Case.id)).all()


def test_the_cases_and_their_rows_are_counted_and_each_chunk_is_audited_once(city):
    platform, output = city
    with platform.db.session() as session:
        cases = volume_cases(session)
        ids = [case.id for case in cases]
        assert len(cases) == CASES and ids == list(range(ids[0], ids[0] + CASES))
        assert session.scalar(select(func.count()).select_from(CaseMilestone)
                              .where(CaseMilestone.case_id.in_(ids))) == CASES
        events = session.scalar(select(func.count()).select_from(CaseEvent).where(CaseEvent.case_id.in_(ids)))
        notices = session.scalar(select(func.count()).select_from(Notification).where(Notification.case_id.in_(ids)))
        assert events > 3 * CASES and notices > CASES
        records = session.scalars(select(AuditRecord).where(AuditRecord.action == "demo.volume")
                                  .order_by(AuditRecord.seq)).all()
        assert [record.details["cases"] for record in records] == [600, 600, 600, 200]
        assert records[0].details["first_id"] == ids[0] and records[-1].details["last_id"] == ids[-1]
        assert sum(record.details["events"] for record in records) == events
        assert f"已批量生成历史事件 {CASES:,} 件" in output
    result = CliRunner().invoke(build_cli(), ["--db", str(platform.db.url), "audit", "verify"])
    assert result.exit_code == 0 and "审计日志完整" in result.output, result.output


def test_every_case_ends_where_its_timeline_ends(city):
    platform, _output = city
    with platform.db.session() as session:
        keys = dict(session.execute(select(Department.id, Department.key)).all())
        workflow_paths = set()
        for case in volume_cases(session):
            events = case.events
            milestone = session.get(CaseMilestone, case.id)
            assert events[0].action == "report" and events[0].at == case.created_at
            for before, after in zip(events, events[1:], strict=False):   # a chain of states, in time order
                assert after.from_status == before.to_status and after.at >= before.at
            assert events[-1].to_status == case.status and events[-1].at == case.state_entered_at
            actions = [event.action for event in events]
            workflow_paths.add(tuple(actions))
            assert (case.closed_at is not None) == (case.status == "closed")
            assert milestone.voided == (case.status == "voided")
            assert case.rework_count == actions.count("rework")
            assignments = [event for event in events if event.action in ("dispatch", "transfer", "return")]
            if assignments and assignments[-1].action != "return":
                assert keys[case.department_id] == assignments[-1].data["department"]
            else:
                assert case.department_id is None
            accepted = [event.at for event in events if event.action in ("accept", "close_on_the_spot")]
            assert milestone.accepted_at == (accepted[0] if accepted else None)
            ratings = [event.data["rating"] for event in events if "rating" in event.data]
            assert milestone.rating == (ratings[-1] if ratings else None)
            assert milestone.satisfied == (ratings[-1] >= 3 if ratings else None)
            assert case.due_at > case.created_at and milestone.accept_deadline_at > case.created_at
            final = case.status in ("closed", "voided")
            assert (case.state_deadline_at is None) == final
            if not final:
                assert case.state_deadline_at > case.state_entered_at
            if "transfer" in actions:
                notice = session.scalar(select(Notification).where(Notification.case_id == case.id,
                                                                   Notification.kind == "transfer",
                                                                   Notification.body.like("已转办至%")))
                assert notice is not None and notice.status == "delivered"
        # every way a case goes is there: the loop, returned, transferred, reworked, on the spot, void, still open
        assert ("report", "accept", "dispatch", "take", "feedback", "confirm") in workflow_paths
        assert ("report", "close_on_the_spot") in workflow_paths
        for action in ("return", "transfer", "rework", "void"):
            assert any(action in path for path in workflow_paths), action
        assert any(path[-1] not in ("confirm", "close_on_the_spot", "void") for path in workflow_paths)
        spread = session.execute(select(func.min(Case.created_at), func.max(Case.created_at))
                                 .where(Case.client_id.like("demo-volume-%"))).one()
        assert (spread[1] - spread[0]).days >= 300   # a year of cases, not a day's


def test_every_phase_shows_its_progress_and_a_bad_count_is_refused_in_chinese(city, tmp_path):
    _platform, output = city
    for phase in ("演示城市", "批量历史事件", "收尾（序列与统计）"):
        assert phase in output, phase
    database = f"sqlite:///{tmp_path / 'refused.db'}"
    for option, value, words in (("--cases", "abc", "历史事件数（--cases）须为"), ("--cases", "0", "历史事件数（--cases）须为"),
                                 ("--cases", "-5", "历史事件数（--cases）须为"), ("--residents", "十万", "居民数（--residents）须为")):
        result = CliRunner().invoke(build_cli(), ["--db", database, "demo", option, value, "--no-serve"])
        assert result.exit_code != 0 and words in result.output, (option, value, result.output)
    assert not (tmp_path / "refused.db").exists() or not _built(database)   # refused before building anything


def _built(url: str) -> bool:
    platform = Platform(url)
    try:
        with platform.db.session() as session:
            return build.is_built(session)
    finally:
        platform.close()


def test_the_evaluation_and_rankings_pages_answer_over_the_volume(city):
    platform, _output = city
    client = create_app({"TESTING": True, "WTF_CSRF_ENABLED": False}, platform=platform).test_client()
    assert login(client, "leader", build.DEMO_PASSWORD).status_code == 302
    for path in ("/manage/", "/manage/rankings", "/manage/rankings?unit=county", "/manage/rankings?unit=grid",
                 "/map/layers.json", "/work/", "/notifications/"):
        response = client.get(path)
        assert response.status_code == 200, (path, response.status_code)
    page = client.get("/manage/").get_data(as_text=True)
    assert "受理" in page


def test_residents_written_in_batches_are_numbered_once_and_live_in_their_households(city):
    platform, _output = city
    with platform.db.session() as session:
        ids = session.scalars(select(Resident.id).order_by(Resident.id)).all()
        assert ids == list(range(1, RESIDENTS + 1))
        households = session.scalar(select(func.count()).select_from(Household))
        assert session.scalar(select(func.max(Resident.household_id))) == households
        assert session.scalar(select(func.count(func.distinct(Resident.id_number)))) == RESIDENTS
        sizes = session.execute(select(Household.size, func.count(Resident.id)).join(
            Resident, Resident.household_id == Household.id).group_by(Household.id)).all()
        assert all(size == members for size, members in sizes)


def test_a_city_built_earlier_gets_its_year_of_cases_added(city):
    """Last: it adds to the module's city. A second load numbers its cases after the first and audits its chunk."""
    platform, _output = city
    with platform.db.session() as session:
        before = session.scalar(select(func.max(Case.id)))
    result = CliRunner().invoke(build_cli(), ["--db", str(platform.db.url), "demo", "--cases", "300", "--no-serve"])
    assert result.exit_code == 0 and "批量历史事件已加入现有演示城市" in result.output, result.output
    with platform.db.session() as session:
        added = session.scalars(select(Case.id).where(Case.id > before).order_by(Case.id)).all()
        assert added == list(range(before + 1, before + 301))
        assert session.scalar(select(func.count()).select_from(AuditRecord)
                              .where(AuditRecord.action == "demo.volume")) == 5
        if session.get_bind().dialect.name == "postgresql":   # the next case reported gets an id of its own
            assert session.scalar(text("SELECT nextval(pg_get_serial_sequence('cases', 'id'))")) > added[-1]
    result = CliRunner().invoke(build_cli(), ["--db", str(platform.db.url), "audit", "verify"])
    assert result.exit_code == 0, result.output
