"""帮办实事: a matter promised to a household, carried by its owner from promise to result, counted for the owner and
the village, and shown to the resident it names (or whose report raised it)."""
from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import func, select

from minqing.core.grassroots import practical_matters as matters
from minqing.core.actors import actor_for
from minqing.core.models import Account, AuditRecord, Case, Household, PracticalMatter, Visit

from tests.fixtures import key_grids as kg

TODAY = dt.date(2026, 12, 6)
NOW = dt.datetime(2026, 12, 6, 2, 0, tzinfo=dt.UTC)


@pytest.fixture
def city(platform):
    return kg.build(platform)


def _actor(session, city, username):
    return actor_for(session, session.get(Account, city.accounts[username]), "test")


def _promise(session, city, username="committee", **overrides):
    arguments = {"household_id": city.households["a"], "title": "帮助办理高龄补贴", "deadline": "2026-12-20",
                 "resident_id": city.residents["a"], "today": TODAY, "now": NOW, **overrides}
    return matters.promise(session, _actor(session, city, username), **arguments)


def _actions(session):
    return session.scalars(select(AuditRecord.action).where(AuditRecord.action.like("matter.%"))
                           .order_by(AuditRecord.id)).all()


def test_from_promise_to_result_every_step_recorded(platform, city):
    with platform.db.session() as session:
        visit = Visit(target_kind="household", target_id=city.households["a"], summary="入户走访",
                      region_code="620102001001")
        session.add(visit)
        session.flush()
        matter = _promise(session, city, visit_id=visit.id, client_id="c-1")
        session.commit()
        assert (matter.status, matter.owner_account_id, matter.region_code) == (
            "promised", city.accounts["committee"], "620102001001")
        assert _promise(session, city, visit_id=visit.id, client_id="c-1").id == matter.id   # a retried post
        committee = _actor(session, city, "committee")
        matters.start(session, committee, matter.id, now=NOW)
        with pytest.raises(matters.MatterRefused, match="办理结果：请至少填写2个字"):
            matters.finish(session, committee, matter.id, result="")
        matters.finish(session, committee, matter.id, result="已帮助递交材料，补贴到账", now=NOW)
        session.commit()
        assert (matter.status, matter.result) == ("done", "已帮助递交材料，补贴到账")
        with pytest.raises(matters.MatterRefused, match="已办结"):
            matters.decline(session, committee, matter.id, reason="不办了")
        assert _actions(session) == ["matter.promise", "matter.start", "matter.finish"]


@pytest.mark.parametrize("overrides, field, message", [
    ({"title": "办"}, "title", "事项：请至少填写2个字"),
    ({"deadline": "明天"}, "deadline", "办理期限：请填写日期"),
    ({"deadline": "2026-12-01"}, "deadline", "办理期限：不能早于今天"),
    ({"household_id": "b"}, "household_id", "户：不存在或不在您的范围内"),
    ({"resident_id": "b"}, "resident_id", "群众：不是该户的成员"),
    ({"owner_account_id": "secretary_b"}, "owner_account_id", "负责人"),
    ({"owner_account_id": "leader"}, "owner_account_id", "负责人"),
])
def test_bad_input_is_refused_in_chinese_naming_the_field_and_changes_nothing(platform, city, overrides, field,
                                                                             message):
    resolved = {"household_id": city.households, "resident_id": city.residents, "owner_account_id": city.accounts}
    overrides = {key: resolved[key][value] if key in resolved else value for key, value in overrides.items()}
    with platform.db.session() as session:
        with pytest.raises(matters.MatterRefused) as refused:
            _promise(session, city, **overrides)
        assert refused.value.field == field and message in refused.value.message
        session.rollback()
        assert session.scalar(select(func.count()).select_from(PracticalMatter)) == 0 and _actions(session) == []


def test_only_the_owner_or_a_supervisor_in_scope_acts_and_cannot_be_done_needs_a_reason(platform, city):
    with platform.db.session() as session:
        matter = _promise(session, city, owner_account_id=city.accounts["secretary"])
        session.commit()
        for username in ("committee", "operator_b", "leader", "worker"):
            with pytest.raises(matters.MatterRefused, match="不由您负责"):
                matters.start(session, _actor(session, city, username), matter.id)
        operator = _actor(session, city, "operator")
        with pytest.raises(matters.MatterRefused, match="无法办理的原因"):
            matters.decline(session, operator, matter.id, reason="")
        matters.decline(session, operator, matter.id, reason="政策不符合：未满80周岁")
        session.commit()
        assert (matter.status, matter.result) == ("cannot", "政策不符合：未满80周岁")


def test_counted_for_the_owner_and_the_village_within_scope(platform, city):
    with platform.db.session() as session:
        first = _promise(session, city)
        _promise(session, city, title="修缮院墙", deadline="2026-12-06")
        third = _promise(session, city, title="联系就业培训", owner_account_id=city.accounts["secretary"])
        matters.finish(session, _actor(session, city, "committee"), first.id, result="已办好")
        matters.promise(session, _actor(session, city, "operator_b"), household_id=city.households["b"],
                        title="代办医保", deadline="2026-12-30", today=TODAY)
        session.commit()
        later = dt.date(2026, 12, 10)   # the second matter's deadline has passed
        leader = _actor(session, city, "leader")
        (village,) = matters.by_village(session, leader, later)
        assert (village.name, village.total, village.done, village.promised, village.overdue) == (
            "永昌路社区", 3, 1, 2, 1)
        owners = {tally.name: (tally.total, tally.done) for tally in matters.by_owner(session, leader, later)}
        assert owners == {"李委员": (2, 1), "王书记": (1, 0)}
        assert {m.title for m in matters.listing(session, leader)} == {"帮助办理高龄补贴", "修缮院墙", "联系就业培训"}
        assert len(matters.listing(session, _actor(session, city, "admin"))) == 4
        assert [m.id for m in matters.owned(session, _actor(session, city, "secretary"))] == [third.id]
        assert [m.title for m in matters.listing(session, _actor(session, city, "operator_b"))] == ["代办医保"]


def test_a_matter_follows_its_household_when_it_moves(platform, city):
    """A matter carries its household's grid and region code (kept by the database, migration 0034), and is seen
    with its household: after the household moves to 七里河区, 城关区's viewers no longer see it, 七里河区's do,
    and its owner still does."""
    with platform.db.session() as session:
        matter = _promise(session, city)
        session.commit()
        assert [m.id for m in matters.listing(session, _actor(session, city, "worker"))] == [matter.id]
        household = session.get(Household, city.households["a"])
        household.grid_id, household.region_code = city.grids["G620103001001001"], "620103001001"
        session.commit()
        assert session.execute(select(PracticalMatter.grid_id, PracticalMatter.region_code)
                               .where(PracticalMatter.id == matter.id)).one() == (
            city.grids["G620103001001001"], "620103001001")
        for username in ("leader", "operator", "worker"):
            assert matters.listing(session, _actor(session, city, username)) == [], username
        assert [m.id for m in matters.listing(session, _actor(session, city, "operator_b"))] == [matter.id]
        assert [m.id for m in matters.listing(session, _actor(session, city, "committee"))] == [matter.id]  # owner
        (village,) = matters.by_village(session, _actor(session, city, "operator_b"), TODAY)
        assert (village.key, village.name, village.total) == ("620103001001", "西园社区", 1)


def test_the_dashboard_panel_shows_direct_counts_within_scope(platform, city):
    """帮办实事 on the dashboard: its totals and its tables equal a direct count over the matters whose household
    the viewer sees (or that they own), and the first rows of a tally are those of the whole tally."""
    from minqing.core.grassroots import key_grids_plugin

    with platform.db.session() as session:
        first = _promise(session, city)
        _promise(session, city, title="修缮院墙", deadline="2026-12-06")
        _promise(session, city, title="联系就业培训", owner_account_id=city.accounts["secretary"])
        matters.finish(session, _actor(session, city, "committee"), first.id, result="已办好")
        matters.promise(session, _actor(session, city, "operator_b"), household_id=city.households["b"],
                        title="代办医保", deadline="2026-12-30", today=TODAY)
        session.commit()
        later = dt.datetime(2026, 12, 10, 2, 0, tzinfo=dt.UTC)   # the second matter's deadline has passed
        for username, region in (("leader", "620102"), ("admin", "62")):
            viewer = _actor(session, city, username)
            direct = dict(session.execute(
                select(PracticalMatter.status, func.count())
                .join(Household, Household.id == PracticalMatter.household_id)
                .where(Household.region_code.like(f"{region}%")).group_by(PracticalMatter.status)).all())
            overdue = session.scalar(select(func.count()).select_from(PracticalMatter).join(
                Household, Household.id == PracticalMatter.household_id).where(
                Household.region_code.like(f"{region}%"), PracticalMatter.status.in_(matters.OPEN),
                PracticalMatter.deadline < later.date()))
            panel = key_grids_plugin.matter_panel(session, viewer, later)
            assert panel["count"] == sum(direct.values())
            assert panel["blocks"][0]["text"] == (f"帮办实事 {sum(direct.values())} 件，已办结 {direct.get('done', 0)} 件，"
                                                  f"逾期未办结 {overdue} 件。")
            tables = {block["table"]["id"]: block["table"]["rows"] for block in panel["blocks"] if "table" in block}
            assert sum(row[1] + row[2] + row[3] + row[4] for row in tables["matters-villages"]) == sum(direct.values())
            assert sum(row[5] for row in tables["matters-owners"]) == overdue
            today = later.date()
            for tally in (matters.by_village, matters.by_owner):
                assert tally(session, viewer, today, limit=1) == tally(session, viewer, today)[:1]
        # the administrator's: by village code; by owner the most matters first, then by name (code points)
        assert tables["matters-villages"] == [["永昌路社区", 2, 0, 1, 0, 1], ["西园社区", 1, 0, 0, 0, 0]]
        assert tables["matters-owners"] == [["李委员", 1, 0, 1, 0, 1], ["七里河分中心", 1, 0, 0, 0, 0],
                                            ["王书记", 1, 0, 0, 0, 0]]


def test_the_panel_counts_the_matters_in_two_statements_per_village_and_owner(platform, city):
    """The dashboard's 帮办实事 reads the matters twice, per village and per owner (the totals are the villages'
    added up: three grouped scans before), and each tally equals a direct count per village and per owner for a
    viewer who also owns a matter outside their scope."""
    from minqing.core.grassroots import key_grids_plugin

    from tests.fixtures.statements import counting

    with platform.db.session() as session:
        _promise(session, city)
        _promise(session, city, title="修缮院墙", deadline="2026-12-06")
        _promise(session, city, title="联系就业培训", owner_account_id=city.accounts["secretary"])
        matters.promise(session, _actor(session, city, "operator_b"), household_id=city.households["b"],
                        title="代办医保", deadline="2026-12-30", today=TODAY)
        session.commit()
        viewer = _actor(session, city, "operator_b")    # sees 七里河区's matters, and owns one
        later = dt.datetime(2026, 12, 10, 2, 0, tzinfo=dt.UTC)
        with counting(platform.db.engine) as statements:
            key_grids_plugin.matter_panel(session, viewer, later)
        assert sum("practical_matters" in statement for statement in statements) == 2, statements
        for username in ("operator_b", "leader", "admin"):
            viewer = _actor(session, city, username)
            seen = [m for m in matters.listing(session, viewer)]
            tallies = matters.tallies(session, viewer, later.date())
            for tallied, key in ((tallies.villages, "region_code"), (tallies.owners, "owner_account_id")):
                direct = {}
                for matter in seen:
                    counts = direct.setdefault(getattr(matter, key), {"promised": 0, "in_progress": 0, "done": 0,
                                                                       "cannot": 0})
                    counts[matter.status] += 1
                assert {tally.key: {status: getattr(tally, status) for status in counts}
                        for tally in tallied} == direct, (username, key)
            assert tallies.totals.total == len(seen)


def test_a_citizen_sees_matters_that_name_them_or_come_from_their_report(platform, city):
    with platform.db.session() as session:
        citizen, citizen_b = (session.get(Account, city.accounts[name]) for name in ("citizen", "citizen_b"))
        named = _promise(session, city)                               # names the resident: the citizen's phone
        unnamed = _promise(session, city, title="清理楼道杂物", resident_id=None)
        case = Case(theme_key="t", title="路灯不亮", status="handling", source="citizen",
                    reporter_account_id=citizen_b.id, region_code="620102001001")
        session.add(case)
        session.flush()
        reported = _promise(session, city, title="协调修复路灯", resident_id=None, case_id=case.id,
                            username="operator")
        session.commit()
        assert [m.id for m in matters.for_citizen(session, citizen)] == [named.id]
        assert [m.id for m in matters.for_citizen(session, citizen_b)] == [reported.id]
        assert matters.citizen_matter(session, citizen, unnamed.id) is None
        assert matters.citizen_matter(session, citizen, named.id).id == named.id


def test_the_panel_builds_the_rows_it_shows_and_the_database_adds_up_the_rest(platform, city, monkeypatch):
    """At a city's volume the tallies have 7,500 villages and 8,500 owners for a hundred rows shown each: the totals
    are added up by the database and only the rows shown come back (each built as a Tally, named); the first
    villages by code are read along their index, not every village grouped."""
    with platform.db.session() as session:
        _promise(session, city)
        _promise(session, city, title="修缮院墙", deadline="2026-12-06")
        matters.promise(session, _actor(session, city, "operator_b"), household_id=city.households["b"],
                        title="代办医保", deadline="2026-12-30", today=TODAY)
        session.commit()
        admin, today = _actor(session, city, "admin"), dt.date(2026, 12, 10)
        everything = matters.tallies(session, admin, today)
        assert (len(everything.villages), len(everything.owners)) == (2, 2)
        built, tally = [], matters.Tally

        def counted(**fields):
            built.append(fields["key"])
            return tally(**fields)

        monkeypatch.setattr(matters, "Tally", counted)
        shown = matters.tallies(session, admin, today, limit=1)
        assert len(built) == 3, built                  # one village, one owner, the totals
        assert (shown.villages, shown.owners) == (everything.villages[:1], everything.owners[:1])
        assert shown.totals == everything.totals == matters.totals(session, admin, today)
        assert (shown.totals.total, shown.totals.promised, shown.totals.overdue) == (3, 3, 1)
        assert shown.villages[0].name == "永昌路社区"
        assert matters.tallies(session, admin, today, limit=0) == everything     # no limit, as before
