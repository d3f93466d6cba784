"""A city's year of cases in bulk (`minqing demo --cases N`, issue #20): the rows are what the workflow engine would
have stored (status, department, deadlines, milestones, notifications, supervisions and photos agree with each
case's timeline), chunks made by forked processes are the ones made here, one audit record per chunk keeps the
audit chain whole, every phase shows its progress, the evaluation and rankings pages answer over them, and
residents are written in batches without changing the city they make."""
from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import itertools
import json
import random
from decimal import Decimal

import pytest
from click.testing import CliRunner
from sqlalchemy import func, select, text

from minqing.core import attachments as uploads
from minqing.core.actors import system_actor
from minqing.core.cli import build_cli
from minqing.core.models import (Account, Attachment, AuditRecord, Case, CaseEvent, CaseMilestone, Department, Grid,
                                 GridMember, Household, Notification, Resident, Supervision)
from minqing.core.platform import Platform
from minqing.plugins.demo_city import base_data, build, copy_text, photos, volume, volume_write
from minqing.plugins.demo_city.working_time import WorkingTime
from minqing.web import create_app
from minqing.workflows import evaluation, schemes
from minqing.workflows.calendar import DEFAULT_DATA, WorkingCalendar
from minqing.workflows.evaluation import Indicators

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


def test_a_share_of_the_cases_is_supervised_as_the_workflow_records_it(city):
    """督办 by the city centre's operator on cases a department held for days: the order with its deadline, the
    timeline line by the supervisor and the notice to whoever holds the case, at the same moment."""
    platform, _output = city
    with platform.db.session() as session:
        ids = [case.id for case in volume_cases(session)]
        supervisions = session.scalars(select(Supervision).where(Supervision.case_id.in_(ids))).all()
        assert 0.01 * CASES < len(supervisions) < 0.1 * CASES
        operator = session.scalar(select(Account).where(Account.username == "city"))
        for supervision in supervisions:
            assert (supervision.actor_account_id, supervision.actor_name) == (operator.id, operator.display_name)
            assert supervision.region_code == "620100000000" and supervision.deadline_at > supervision.created_at
            event = session.scalar(select(CaseEvent).where(CaseEvent.case_id == supervision.case_id,
                                                           CaseEvent.action == "supervise"))
            assert event.at == supervision.created_at and event.actor_account_id == operator.id
            assert event.from_status == event.to_status == "handling" and event.comment == supervision.comment
            assert event.data == {"title": "督办", "deadline_at": supervision.deadline_at.isoformat()}
            notice = session.scalar(select(Notification).where(Notification.case_id == supervision.case_id,
                                                               Notification.kind == "supervise"))
            case = session.get(Case, supervision.case_id)
            assert notice.recipient.startswith("department:") and notice.created_at == supervision.created_at
            assert notice.subject == f"督办 {case.number}：{case.title}" and notice.body == supervision.comment
    page = client_page(platform, f"/work/cases/{supervisions[0].case_id}")   # the case page says so
    assert "督办中" in page and supervisions[0].comment in page


def client_page(platform, path: str) -> str:
    client = create_app({"TESTING": True, "WTF_CSRF_ENABLED": False}, platform=platform).test_client()
    assert login(client, "leader", build.DEMO_PASSWORD).status_code == 302
    response = client.get(path)
    assert response.status_code == 200, path
    return response.get_data(as_text=True)


def test_every_step_that_requires_a_photo_has_one_from_a_small_pool_of_files(city):
    """处置反馈 and 即报即办 require photos: each such line names an attachment of its case, and the many rows share
    the few files of the pool, which are in the uploads store with the size and hash their rows state."""
    platform, _output = city
    with platform.db.session() as session:
        ids = [case.id for case in volume_cases(session)]
        steps = session.scalars(select(CaseEvent).where(CaseEvent.case_id.in_(ids),
                                                        CaseEvent.action.in_(("feedback", "close_on_the_spot")))).all()
        photos_of = {}
        for attachment in session.scalars(select(Attachment).where(Attachment.case_id.in_(ids))):
            photos_of[attachment.id] = attachment
        assert len(steps) > CASES / 2 and len(photos_of) == len(steps)
        for event in steps:
            (photo_id,) = event.data["form"]["photos"]
            attachment = photos_of[photo_id]
            assert attachment.case_id == event.case_id and attachment.created_at < event.at
            assert attachment.content_type == "image/jpeg" and attachment.owner_account_id is None
        keys = {attachment.storage_key for attachment in photos_of.values()}
        assert len(keys) <= photos.POOL
        for attachment in {attachment.storage_key: attachment for attachment in photos_of.values()}.values():
            data = uploads.read(attachment)
            assert len(data) == attachment.size and hashlib.sha256(data).hexdigest() == attachment.sha256
            assert uploads.sniff(data) == "image/jpeg" and uploads.difference_hash(data) == attachment.dhash
        dhashes = [photo.dhash for photo in photos.pool()]
        assert len(set(dhashes)) == len(dhashes)   # no two files of the pool look alike to the duplicate finder


def test_the_chunks_are_the_same_made_by_one_process_or_by_several(city):
    platform, _output = city
    now = dt.datetime(2026, 11, 20, 4, 0, tzinfo=dt.UTC)
    with platform.db.session() as session:
        town = volume.city_of(platform, session, system_actor("demo"), now, photos.pool())
    alone = list(volume.chunks(town, 700, 3, 10**6, size=200))
    parts = [list(volume.chunks(town, 700, 3, 10**6, size=200, part=part, parts=2)) for part in range(2)]
    together = [chunk for pair in itertools.zip_longest(*parts) for chunk in pair if chunk is not None]
    assert [chunk.cases for chunk in together] == [chunk.cases for chunk in alone]
    assert [chunk.events for chunk in together] == [chunk.events for chunk in alone]
    assert [len(chunk.cases) for chunk in alone] == [200, 200, 200, 100]


def _numbers(count: int, fail_at: int | None = None):
    for number in range(count):
        if number == fail_at:
            raise ValueError("坏数据")
        yield number


def test_streams_made_by_forked_processes_arrive_in_turn_and_a_failure_is_raised_here():
    assert list(volume_write.elsewhere([_numbers(5), (10 + number for number in range(4))])) == [
        0, 10, 1, 11, 2, 12, 3, 13, 4]
    with pytest.raises(volume_write.GeneratorFailed, match="坏数据"):
        list(volume_write.elsewhere([_numbers(5, fail_at=2)]))


def test_copy_text_escapes_what_copy_reads_specially():
    assert copy_text._field("a\\b\tc\nd\re") == "a\\\\b\\tc\\nd\\re"
    assert copy_text._field("兰州市") == "兰州市" and copy_text._field(None) == "\\N"
    assert copy_text._field(True) == "t" and copy_text._field(2.5) == "2.5" and copy_text._field(7) == "7"
    shanghai = dt.datetime(2026, 1, 1, 8, tzinfo=dt.timezone(dt.timedelta(hours=8)))
    assert copy_text._field(shanghai) == "2026-01-01 00:00:00+00:00"   # UTC, the zone ignored by the column
    assert copy_text._field({"form": {"result": "已\t处置"}}) == '{"form": {"result": "已\\\\t处置"}}'


def test_deadlines_by_table_are_the_calendars_own():
    calendar = WorkingCalendar.from_dict(json.loads(DEFAULT_DATA.read_text()))
    now = dt.datetime(2026, 12, 7, 9, 0, tzinfo=dt.UTC)
    table = WorkingTime(calendar, now - dt.timedelta(days=366), now + dt.timedelta(days=60))
    rng = random.Random(5)
    starts = [now - dt.timedelta(seconds=rng.uniform(0, 365 * 86400)) for _ in range(3000)]
    starts += [edge for begin, end in zip(table.begins[:300], table.ends[:300], strict=True)
               for edge in (begin, end, begin - dt.timedelta(microseconds=1), end - dt.timedelta(microseconds=1))]
    for start in starts:
        for hours in (0, 0.5, 3.5, 4, 8, 24, 72, rng.uniform(0, 200)):
            assert table.add_hours(start, hours) == calendar.add_hours(start, hours), (start, hours)
    late = now + dt.timedelta(days=59)   # past the table's end: the calendar answers
    assert table.add_hours(late, 100) == calendar.add_hours(late, 100)



def _plain_score(document: dict, row: Indicators) -> schemes.Score:
    """The score as the formulas read, part by part for this one row (no Score shared with other rows)."""
    parts = []
    for item in document["indicators"]:
        value = getattr(row, item["indicator"])
        value = float(value) if value is not None else None
        parts.append(schemes.Part(item["indicator"], schemes.INDICATORS[item["indicator"]][0], value, item["weight"],
                                  round(item["weight"] * schemes.fraction(item, value), 4)))
    deductions = []
    for item in document.get("deductions", ()):
        cases = int(getattr(row, item["count"]))
        points = min(cases * item["points"], item.get("cap", cases * item["points"]))
        deductions.append(schemes.Deduction(item["count"], schemes.DEDUCTIONS[item["count"]], cases, round(points, 4)))
    total = round(sum(part.points for part in parts) - sum(d.points for d in deductions), 4)
    return schemes.Score(total, tuple(parts), tuple(deductions))


@pytest.mark.parametrize("deductions", [[], [{"count": "overdue", "points": 1.5, "cap": 4},
                                             {"count": "supervised", "points": 2}]])
def test_the_rankings_of_grids_and_people_equal_the_statement_read_plainly(city, deductions):
    """The engine reads the evaluation's GROUP BY by position, adds up a grid worker's grids column by column and
    shares one Score among units with the same values. On the built city every grid's counts equal the
    statement's rows read by name, every grid worker's the sum of their grids' fields, and every unit's score
    and place the formulas applied to that unit alone."""
    platform, _output = city
    scheme = schemes.Scheme(schemes.CITY, 1, {**schemes.default_document(), "deductions": deductions})
    now = dt.datetime(2026, 12, 7, 12, tzinfo=dt.timezone.utc)
    with platform.db.session() as session:
        start, end = session.scalar(select(func.min(Case.created_at))), now
        statement = evaluation.statement(session, by="grid", start=start, end=end, as_of=now)
        counted = [column.name for column in statement.selected_columns if column.name != "key"]
        plain = {row.key: {name: float(value) if isinstance(value, Decimal) else value
                           for name in counted for value in [getattr(row, name)]}
                 for row in session.execute(statement)}
        grids = {row.key: row for row in evaluation.evaluate(session, by="grid", start=start, end=end, as_of=now)}
        ranked = {unit: schemes.rank(session, scheme, unit=unit, start=start, end=end, now=now)
                  for unit in ("grid", "grid_worker", "cadre")}
        parents = dict(session.execute(select(Grid.id, Grid.parent_id)).all())
        held: dict[int, set[int]] = {}
        for person, grid in session.execute(select(GridMember.person_id, GridMember.grid_id)):
            held.setdefault(person, set()).add(grid)
    assert len(plain) > 50 and len(ranked["grid_worker"]) > 50 and len(ranked["cadre"]) > 10
    assert {key: {name: getattr(grids[key], name) for name in counted} for key in plain} == plain
    below: dict[int, list[int]] = {}   # a grid → the grids with figures at or under it
    for grid in grids:
        upward = grid
        while upward is not None:
            below.setdefault(upward, []).append(grid)
            upward = parents.get(upward)
    names = [field.name for field in dataclasses.fields(Indicators) if field.name not in ("key", "handling_seconds")]
    for worker in ranked["grid_worker"]:
        under = [grids[grid] for grid in {grid for mine in held[worker.key] for grid in below.get(mine, ())}]
        assert {name: getattr(worker.indicators, name) for name in names} == \
            {name: sum(getattr(row, name) for row in under) for name in names}
        assert worker.indicators.handling_seconds == pytest.approx(sum(row.handling_seconds for row in under))
    for rows in ranked.values():
        assert [row.score for row in rows] == [_plain_score(scheme.document, row.indicators) for row in rows]
        assert [row.place for row in rows] == list(range(1, len(rows) + 1))
        assert rows == sorted(rows, key=lambda r: (-_plain_score(scheme.document, r.indicators).total,
                                                   *schemes.tie_rule(r.indicators), str(r.key)))
    shared = {id(row.score) for row in ranked["grid"]}
    assert len(shared) == len({tuple(part.value for part in row.score.parts) + tuple(d.cases for d in
                                                                                      row.score.deductions)
                               for row in ranked["grid"]}) < len(ranked["grid"])
