"""Cadres and household visits (走村不漏户、户户见干部): a cadre's scope, the household visit service, the visit
period, and the coverage figures checked against hand-written SQL."""
from __future__ import annotations

import datetime as dt
import re

import pytest
from sqlalchemy import func, select

from minqing.core import scope, visits

from minqing.core.grassroots import cadres, household_visits
from minqing.core.models import Account, AuditRecord, CadreGrid, Case, Grid, Household, Resident, Setting, Visit

from tests.fixtures import households as hh
from tests.fixtures.households import (LAST_MONTH, NOW, actor, assert_coverage_is_the_direct_one, places_kept,
                                       sql_cadre_coverage, sql_coverage)
from tests.fixtures.statements import counting


@pytest.fixture
def village(platform, world, password_hash):
    return hh.build(platform, world, password_hash)


def test_a_cadre_sees_the_base_data_of_their_village_or_township_and_no_cases(platform, world, village):
    with platform.db.session() as session:
        cun, zhen = actor(session, "cun"), actor(session, "zhen")
        numbers = lambda actor: set(session.scalars(scope.restrict(select(Household.number), Household, actor)))
        assert numbers(cun) == {"YC-1", "YC-2", "YC-3"}
        assert numbers(zhen) == {"JQ-1", "JQ-2"}
        assert session.scalar(scope.restrict(select(func.count()).select_from(Resident), Resident, zhen)) == 0
        assert set(session.scalars(scope.restrict(select(Grid.code), Grid, cun))) == {hh.SMALL, "G620102001001"}
        assert session.scalar(scope.restrict(select(func.count()).select_from(Case), Case, cun)) == 0
        assert scope.can_see(session, Household, village.ids["YC-1"], cun)
        assert not scope.can_see(session, Household, village.ids["JQ-1"], cun)


def test_posts_are_stored_as_keys_shown_in_chinese_and_checked(platform, world, village, system):
    with platform.db.session() as session:
        post = cadres.post_of(session, village.accounts["cun"])
        assert (post.post, post.title) == ("village_committee", "村两委")
        assert [grid.code for grid in cadres.grids_of(session, village.accounts["cun"])] == [hh.SMALL]
        account = session.get(Account, village.accounts["cun"])
        with pytest.raises(cadres.CadreInvalid) as error:
            cadres.parse_post("村主任助理")
        assert error.value.field == "post" and "职务“村主任助理”无效" in error.value.message
        with pytest.raises(cadres.CadreInvalid) as error:   # a grid of another township
            cadres.assign(session, system, account, post="党组织书记", region_id=world.ids[hh.VILLAGE],
                          grid_ids=[world.grids[hh.LARGE_B]])
        assert error.value.field == "grids" and hh.LARGE_B in error.value.message
        with pytest.raises(cadres.CadreInvalid):            # a county is too wide
            cadres.assign(session, system, account, post="党组织书记", region_id=world.ids["620102000000"])
        session.rollback()
        cadres.assign(session, system, account, post="党组织书记", region_id=world.ids[hh.VILLAGE],
                      grid_ids=[world.grids[hh.SMALL]])
        session.commit()
        assert cadres.post_of(session, account.id).post == "party_secretary"
        assert session.scalar(select(func.count()).select_from(AuditRecord)
                              .where(AuditRecord.action == "cadre.assign")) == 3   # two in the fixture


def test_a_household_visit_keeps_who_was_met_the_needs_and_the_promise(platform, world, village):
    with platform.db.session() as session:
        cun = actor(session, "cun")
        visit = visits.record_household_visit(
            session, cun, household_id=village.ids["YC-1"], met="户主本人", needs="屋顶漏雨",
            promised=True, promise_text="联系维修", now=NOW)
        session.commit()
        assert visit.form_data == {"met": "户主本人", "needs": "屋顶漏雨", "promised": True,
                                   "promise_text": "联系维修"}
        assert visit.visitor_post == "village_committee" and visit.visitor_account_id == village.accounts["cun"]
        assert "承诺帮办：联系维修" in visit.summary
        assert session.get(Household, village.ids["YC-1"]).last_visit_at == NOW
        worker_visit = visits.record_household_visit(session, actor(session, "worker"),
                                                     household_id=village.ids["YC-2"], met="配偶", now=NOW)
        assert worker_visit.visitor_post is None
        for details, field in (({"met": ""}, "met"), ({"met": "本人", "promised": True}, "promise_text"),
                               ({"met": "本人", "promised": "yes"}, "promised")):
            with pytest.raises(visits.VisitRefused) as error:
                visits.record_household_visit(session, cun, household_id=village.ids["YC-3"], **details)
            assert error.value.field == field
        with pytest.raises(visits.VisitRefused) as error:   # another township's household
            visits.record_household_visit(session, cun, household_id=village.ids["JQ-1"], met="本人")
        assert error.value.field == "target_id"


def test_the_period_is_a_calendar_month_unless_the_setting_says_otherwise(platform, world):
    with platform.db.session() as session:
        month = household_visits.period(session, NOW)
        assert (month.kind, month.title) == ("month", "2026年11月")
        assert month.start == dt.datetime(2026, 10, 31, 16, tzinfo=dt.UTC)    # 11-01 00:00 at UTC+8
        assert month.end == dt.datetime(2026, 11, 30, 16, tzinfo=dt.UTC)
        session.add(Setting(name=household_visits.PERIOD_SETTING, value="quarter"))
        session.flush()
        quarter = household_visits.period(session, NOW)
        assert quarter.title == "2026年第4季度" and quarter.end == dt.datetime(2026, 12, 31, 16, tzinfo=dt.UTC)


def test_the_list_puts_the_households_not_visited_this_period_first(platform, world, village):
    with platform.db.session() as session:
        worker, cun = actor(session, "worker"), actor(session, "cun")
        visits.record_household_visit(session, cun, household_id=village.ids["YC-2"], met="户主", now=NOW)
        visits.record_household_visit(session, worker, household_id=village.ids["YC-1"], met="户主",
                                      now=LAST_MONTH)
        session.commit()
        current, rows, total = household_visits.households(session, worker, now=NOW)
        assert total == 3
        assert [(row.number, row.visited_this_period) for row in rows] == [
            ("YC-1", False), ("YC-3", False), ("YC-2", True)]
        assert rows[0].last_visitor == "worker" and rows[0].members == 1 and rows[1].members == 4
        assert rows[2].last_visitor == "杨秀英"
        _, unvisited, total = household_visits.households(session, worker, now=NOW, unvisited_only=True)
        assert total == 2 and {row.number for row in unvisited} == {"YC-1", "YC-3"}


def test_a_backdated_visit_recorded_later_does_not_hide_this_periods_visit(platform, world, village):
    with platform.db.session() as session:
        worker, cun = actor(session, "worker"), actor(session, "cun")
        visits.record_household_visit(session, cun, household_id=village.ids["YC-1"], met="户主", now=NOW)
        visits.record_household_visit(session, worker, household_id=village.ids["YC-1"], met="配偶",
                                      now=LAST_MONTH)   # entered afterwards: the higher id
        session.commit()
        assert session.get(Household, village.ids["YC-1"]).last_visit_at == NOW
        _, rows, _ = household_visits.households(session, worker, now=NOW)
        row = next(row for row in rows if row.number == "YC-1")
        assert (row.visited_this_period, row.last_visit_at, row.last_visitor) == (True, NOW, "杨秀英")
        assert rows[-1].number == "YC-1"   # visited: after the ones not visited
        _, unvisited, total = household_visits.households(session, worker, now=NOW, unvisited_only=True)
        assert total == 2 and "YC-1" not in {row.number for row in unvisited}


def test_coverage_per_village_township_county_and_cadre_matches_direct_queries(platform, world, village):
    with platform.db.session() as session:
        cun, zhen, worker = actor(session, "cun"), actor(session, "zhen"), actor(session, "worker")
        visits.record_household_visit(session, cun, household_id=village.ids["YC-1"], met="户主", now=NOW)
        visits.record_household_visit(session, cun, household_id=village.ids["YC-1"], met="配偶", now=NOW)
        visits.record_household_visit(session, cun, household_id=village.ids["YC-2"], met="户主",
                                      now=LAST_MONTH)        # last month: not this period
        visits.record_household_visit(session, worker, household_id=village.ids["YC-3"], met="户主",
                                      now=NOW)               # a grid worker: not a cadre's visit
        visits.record_household_visit(session, zhen, household_id=village.ids["JQ-2"], met="户主", now=NOW)
        session.commit()
        current = household_visits.period(session, NOW)
        for level, digits in (("village", 12), ("township", 9), ("county", 6)):
            found = {row.key: (row.households, row.seen)
                     for row in household_visits.coverage(session, by=level, now=NOW)}
            assert found == sql_coverage(session, digits, current.start, current.end), level
        assert {row.key: row.rate for row in household_visits.coverage(session, by="village", now=NOW)} == {
            "620102001001": 1 / 3, "620102002000": 1 / 2}
        assert household_visits.coverage(session, by="county", now=NOW)[0].seen == 2
        per_cadre = {row.account_id: (row.households, row.seen)
                     for row in household_visits.cadre_coverage(session, now=NOW)}
        assert per_cadre == sql_cadre_coverage(session, current.start, current.end)
        assert per_cadre == {village.accounts["cun"]: (3, 1), village.accounts["zhen"]: (2, 1)}
        # within a viewer's scope: the village cadre's village only
        assert [row.key for row in household_visits.coverage(session, by="village", now=NOW, viewer=cun)] == [
            "620102001001"]
        assert [row.account_id for row in household_visits.cadre_coverage(session, now=NOW, viewer=cun)] == [
            village.accounts["cun"]]
        # a cadre who leaves the post still counts for the visits they made
        session.execute(CadreGrid.__table__.delete())
        assert session.scalar(select(func.count()).select_from(Visit).where(Visit.visitor_post.is_not(None))) == 4


def test_the_evaluation_and_the_dashboard_panel_carry_the_coverage(platform, world, village):
    from minqing.core.grassroots import coverage_plugin
    from minqing.workflows import evaluation, report_case

    with platform.db.session() as session:
        cun, zhen = actor(session, "cun"), actor(session, "zhen")
        visits.record_household_visit(session, cun, household_id=village.ids["YC-1"], met="户主", now=NOW)
        visits.record_household_visit(session, zhen, household_id=village.ids["JQ-1"], met="户主", now=NOW)
        visits.record_household_visit(session, zhen, household_id=village.ids["JQ-2"], met="户主", now=NOW)
        session.commit()
        current = household_visits.period(session, NOW)
        # the evaluation's groups are those with cases: one reported in each township
        worker = actor(session, "worker")
        for point in (world.inside, (103.95, 36.05)):
            report_case(platform, session, worker, theme_key=_a_theme(session), title="路灯不亮",
                        description="晚上路灯不亮，已经三天了", lon=point[0], lat=point[1], source="grid_worker",
                        now=NOW)
        session.commit()
        rows = {row.key: row for row in evaluation.evaluate(session, by="region", region_level="township",
                                                            start=current.start, end=current.end, as_of=NOW)}
        direct = sql_coverage(session, 9, current.start, current.end)
        assert {key: (row.households, row.cadre_visited) for key, row in rows.items()} == {
            key: direct[key] for key in rows}
        assert rows["620102001000"].cadre_coverage_rate == 1 / 3 and rows["620102002000"].cadre_coverage_rate == 1
        [panel] = coverage_plugin.dashboard_panels(viewer=actor(session, "centre"), session=session, now=NOW)
        assert panel["key"] == "cadre_coverage" and panel["count"] == 3
        tables = {block["table"]["id"]: block["table"]["rows"] for block in panel["blocks"] if "table" in block}
        assert tables["coverage-counties"] == [["城关区", 5, 3, "60.0%"]]
        assert tables["coverage-villages"] == [["永昌路社区", 3, 1, "33.3%"], ["酒泉路街道", 2, 2, "100.0%"]]
        assert ["杨秀英", "村两委", "永昌路社区", 3, 1, "33.3%"] in tables["coverage-cadres"]
        mine = coverage_plugin.dashboard_panels(viewer=cun, session=session, now=NOW)[0]
        assert mine["count"] == 1   # the village cadre's own village only
        from sqlalchemy import event

        session.commit()   # what this transaction counted is forgotten
        statements = []
        count = lambda conn, cursor, statement, *args: statements.append(statement)   # noqa: E731
        event.listen(platform.db.engine, "before_cursor_execute", count)
        try:
            coverage_plugin.panel_blocks(session, actor(session, "centre"), NOW)
        finally:
            event.remove(platform.db.engine, "before_cursor_execute", count)
        per_region = re.compile(r"substr\((visits\.household_region_code|cadre_visit_counts\.region_code),"
                                r"[^\n]*? AS \"?key\b")
        assert sum(bool(per_region.search(statement)) for statement in statements) == 1   # the villages only


def _a_theme(session):
    from minqing.core.models import ThemeVersion
    return session.scalar(select(ThemeVersion.theme_key).order_by(ThemeVersion.theme_key))


def test_the_visits_commands_set_the_period_and_print_the_coverage(platform, world, village, database_url,
                                                                    monkeypatch):
    from click.testing import CliRunner
    from minqing.core.cli import build_cli

    monkeypatch.setenv("MINQING_DATABASE_URL", database_url)
    runner = CliRunner()
    answer = runner.invoke(build_cli(), ["visits", "period", "quarter"])
    assert answer.exit_code == 0, answer.output
    assert "走访周期：季度" in answer.output
    with platform.db.session() as session:
        assert household_visits.period_kind(session) == "quarter"
        assert session.scalar(select(AuditRecord.summary).where(
            AuditRecord.action == "setting.household_visit_period")) == "走访周期：月 → 季度"
    refused = runner.invoke(build_cli(), ["visits", "period", "week"])
    assert refused.exit_code != 0
    coverage = runner.invoke(build_cli(), ["visits", "coverage", "--level", "village", "--json"])
    assert coverage.exit_code == 0, coverage.output
    assert '"households": 3' in coverage.output and '"region_code": "620102001001"' in coverage.output


def test_a_promise_made_during_a_visit_becomes_a_practical_matter_in_the_same_transaction(platform, world, village):
    from minqing.core.models import PracticalMatter

    with platform.db.session() as session:
        cun = actor(session, "cun")
        visit = visits.record_household_visit(
            session, cun, household_id=village.ids["YC-1"], met="户主本人", needs="屋顶漏雨", promised=True,
            promise_text="联系维修屋顶", client_id="visit-with-promise", now=NOW)
        again = visits.record_household_visit(   # a retry of the same submit: one visit, one matter
            session, cun, household_id=village.ids["YC-1"], met="户主本人", needs="屋顶漏雨", promised=True,
            promise_text="联系维修屋顶", client_id="visit-with-promise", now=NOW)
        session.commit()
        assert again.id == visit.id
        matter = session.scalar(select(PracticalMatter).where(PracticalMatter.visit_id == visit.id))
        assert (matter.title, matter.household_id, matter.owner_account_id, matter.status) == (
            "联系维修屋顶", village.ids["YC-1"], village.accounts["cun"], "promised")
        assert matter.deadline == dt.date(2026, 12, 20) and matter.detail == "屋顶漏雨"   # 30 days by default
        assert session.scalar(select(func.count()).select_from(PracticalMatter)) == 1
        assert session.scalar(select(func.count()).select_from(AuditRecord)
                              .where(AuditRecord.action == "matter.promise")) == 1
        dated = visits.record_household_visit(session, cun, household_id=village.ids["YC-2"], met="配偶",
                                              promised=True, promise_text="代办医保", promise_deadline="2026-11-30",
                                              now=NOW)
        assert session.scalar(select(PracticalMatter.deadline).where(PracticalMatter.visit_id == dated.id)) \
            == dt.date(2026, 11, 30)
        session.commit()
        for deadline, message in (("2026-11-01", "不能早于今天"), ("下个月", "请填写日期"), ("2028-01-01", "不能超过一年")):
            with pytest.raises(visits.VisitRefused) as error:
                visits.record_household_visit(session, cun, household_id=village.ids["YC-3"], met="本人",
                                              promised=True, promise_text="代办医保", promise_deadline=deadline,
                                              now=NOW)
            assert error.value.field == "promise_deadline" and message in str(error.value)
            session.rollback()
        with pytest.raises(visits.VisitRefused) as error:   # longer than a matter's title: refused up front
            visits.record_household_visit(session, cun, household_id=village.ids["YC-3"], met="本人",
                                          promised=True, promise_text="代" * 201, now=NOW)
        assert error.value.field == "promise_text" and "帮办实事：最多 200 字" in str(error.value)
        assert session.scalar(select(func.count()).select_from(Visit)
                              .where(Visit.target_id == village.ids["YC-3"])) == 0   # nothing added yet
        visits.household_details(met="本人", promised=True, promise_text="代" * 200)   # the title's limit fits
        with pytest.raises(visits.VisitRefused) as error:   # the matter refused after the visit was added
            visits.record_household_visit(session, cun, household_id=village.ids["YC-3"], met="本人",
                                          promised=True, promise_text="代办", promise_deadline=dt.date(2026, 1, 1),
                                          now=NOW)
        assert error.value.field == "promise_deadline" and "办理期限：不能早于今天" in str(error.value)
        session.rollback()
        assert session.scalar(select(func.count()).select_from(Visit)
                              .where(Visit.target_id == village.ids["YC-3"])) == 0
        assert session.scalar(select(func.count()).select_from(PracticalMatter)) == 2


def _kept_counts(session) -> dict:
    from minqing.core.models import HouseholdCount

    return {(row.grid_id or None, row.region_code): row.households
            for row in session.scalars(select(HouseholdCount)) if row.households}


def _direct_counts(session) -> dict:
    return {(grid_id, code): n for grid_id, code, n in session.execute(
        select(Household.grid_id, Household.region_code, func.count()).group_by(Household.grid_id,
                                                                                 Household.region_code))}


def test_the_kept_household_counts_equal_a_direct_count_after_every_kind_of_change(platform, world, village):
    """The per-grid counts the coverage reads (household_counts, kept by the database's triggers) after households
    are added (ORM; the demo's bulk loader: COPY on PostgreSQL), moved (the grid import's relocation; the ORM),
    removed (ORM; Core) and visited; then every coverage figure equals the hand-written queries over households."""
    from sqlalchemy import delete
    from minqing.core.importing.relocate import _update
    from minqing.plugins.demo_city.base_data import bulk

    small, large_b = world.grids[hh.SMALL], world.grids[hh.LARGE_B]
    with platform.db.session() as session:
        assert _kept_counts(session) == _direct_counts(session) == {(small, hh.VILLAGE): 3,
                                                                    (large_b, hh.TOWNSHIP_B): 2}
        session.add(Household(number="YC-4", head_name="孙丽", grid_id=small, region_code=hh.VILLAGE))
        session.flush()
        bulk(session, Household, [{"number": f"NEW-{n}", "head_name": "新户", "size": 1, "grid_id": grid,
                                   "region_code": code, "last_visit_at": None}
                                  for n, grid, code in ((1, small, hh.VILLAGE), (2, large_b, hh.TOWNSHIP_B),
                                                        (3, None, hh.TOWNSHIP_B))])
        assert _kept_counts(session) == _direct_counts(session) == {
            (small, hh.VILLAGE): 5, (large_b, hh.TOWNSHIP_B): 3, (None, hh.TOWNSHIP_B): 1}
        _update(session, Household, [{"row_id": village.ids["YC-2"], "new_grid": large_b,
                                      "new_region": hh.TOWNSHIP_B}])
        session.get(Household, village.ids["JQ-1"]).grid_id = small   # a grid changed, the region code kept
        session.flush()
        assert _kept_counts(session) == _direct_counts(session)
        session.delete(session.get(Household, village.ids["YC-3"]))
        session.flush()
        session.execute(delete(Household).where(Household.number.in_(["NEW-2", "NEW-3"])))
        session.commit()
        assert _kept_counts(session) == _direct_counts(session) == {
            (small, hh.VILLAGE): 3, (large_b, hh.TOWNSHIP_B): 2, (small, hh.TOWNSHIP_B): 1}

        cun, zhen = actor(session, "cun"), actor(session, "zhen")
        visits.record_household_visit(session, cun, household_id=village.ids["YC-1"], met="户主", now=NOW)
        visits.record_household_visit(session, zhen, household_id=village.ids["YC-2"], met="户主", now=NOW)
        visits.record_household_visit(session, zhen, household_id=village.ids["JQ-1"], met="户主", now=NOW)
        session.commit()
        assert _kept_counts(session) == _direct_counts(session)   # a visit moves no household
        current = household_visits.period(session, NOW)
        for level, digits in (("village", 12), ("township", 9), ("county", 6)):
            found = {row.key: (row.households, row.seen)
                     for row in household_visits.coverage(session, by=level, now=NOW)}
            assert found == sql_coverage(session, digits, current.start, current.end), level
        seen = set(session.scalars(household_visits.seen_by_cadres(current)))
        by_grid = {}
        for grid_id, household_id in session.execute(select(Household.grid_id, Household.id)):
            households, visited = by_grid.get(grid_id, (0, 0))
            by_grid[grid_id] = (households + 1, visited + (household_id in seen))
        assert household_visits.coverage_counts(session, current=current, by="grid") == by_grid == {
            small: (4, 2), large_b: (2, 1)}
        per_cadre = {row.account_id: (row.households, row.seen)
                     for row in household_visits.cadre_coverage(session, now=NOW)}
        assert per_cadre == sql_cadre_coverage(session, current.start, current.end) == {
            village.accounts["cun"]: (4, 1), village.accounts["zhen"]: (3, 2)}


def test_the_panel_lists_the_cadres_with_the_lowest_coverage_as_direct_counts_give_them(platform, world, village):
    """The dashboard shows the worst cadres only, chosen by the database (`cadre_coverage(lowest=n)`): the same
    figures and the same order as every cadre's direct count sorted by coverage, then by name."""
    from minqing.core.grassroots import coverage_plugin

    with platform.db.session() as session:
        cun, zhen = actor(session, "cun"), actor(session, "zhen")
        visits.record_household_visit(session, cun, household_id=village.ids["YC-1"], met="户主", now=NOW)
        for number in ("JQ-1", "JQ-2"):
            visits.record_household_visit(session, zhen, household_id=village.ids[number], met="户主", now=NOW)
        session.commit()
        current = household_visits.period(session, NOW)
        direct = sql_cadre_coverage(session, current.start, current.end)
        names = dict(session.execute(select(Account.id, Account.display_name)
                                     .where(Account.id.in_(list(direct)))).all())
        worst_first = sorted(direct, key=lambda account: (direct[account][1] / direct[account][0]
                                                         if direct[account][0] else 0, names[account]))
        assert worst_first == [village.accounts["cun"], village.accounts["zhen"]]   # 1/3 before 2/2
        for lowest in (1, 2, 5):
            rows = household_visits.cadre_coverage(session, now=NOW, lowest=lowest)
            assert [(row.account_id, row.households, row.seen) for row in rows] == [
                (account, *direct[account]) for account in worst_first[:lowest]]
        [panel] = coverage_plugin.dashboard_panels(viewer=actor(session, "centre"), session=session, now=NOW)
        tables = {block["table"]["id"]: block["table"]["rows"] for block in panel["blocks"] if "table" in block}
        assert [row[0] for row in tables["coverage-cadres"]] == [names[account] for account in worst_first]
        assert [tuple(row[3:5]) for row in tables["coverage-cadres"]] == [direct[account] for account in worst_first]
        assert [row[0] for row in tables["coverage-villages"]] == ["永昌路社区", "酒泉路街道"]
        # a viewer's scope still decides which cadres are listed
        assert [row.account_id for row in household_visits.cadre_coverage(session, now=NOW, viewer=cun,
                                                                           lowest=5)] == [village.accounts["cun"]]


def test_the_coverage_read_from_the_visits_alone_equals_the_households_as_they_are_now(platform, world, village):
    """The visits keep their household's current grid and region code (triggers, migration 0038) whoever writes
    them — the service, the demo's bulk loader (COPY on PostgreSQL) with the copies given, wrong or left out —
    and whatever happens to the household afterwards (moved by the ORM or the relocation import, deleted,
    created after its visit, a visit pointed at another household): every coverage figure stays the join's,
    at the period's boundaries in the city's time (Asia/Shanghai) too."""
    from sqlalchemy import delete, update
    from minqing.core.importing.relocate import _update
    from minqing.plugins.demo_city.base_data import bulk

    small, large_b = world.grids[hh.SMALL], world.grids[hh.LARGE_B]
    ids = village.ids
    with platform.db.session() as session:
        cun, zhen, worker = actor(session, "cun"), actor(session, "zhen"), actor(session, "worker")
        current = household_visits.period(session, NOW)
        assert current.start == dt.datetime(2026, 10, 31, 16, 0, tzinfo=dt.UTC)   # 1 November, 00:00 in Lanzhou
        second = dt.timedelta(seconds=1)
        visits.record_household_visit(session, cun, household_id=ids["YC-1"], met="户主", now=current.start)
        visits.record_household_visit(session, cun, household_id=ids["YC-2"], met="户主", now=current.start - second)
        visits.record_household_visit(session, cun, household_id=ids["YC-3"], met="户主", now=current.end)
        visits.record_household_visit(session, cun, household_id=ids["YC-3"], met="配偶", now=NOW)
        visits.record_household_visit(session, worker, household_id=ids["YC-2"], met="户主", now=NOW)   # no cadre
        visits.record_household_visit(session, zhen, household_id=ids["JQ-2"], met="户主", now=NOW)
        visits.record_household_visit(session, zhen, household_id=ids["JQ-1"], met="户主",
                                      now=LAST_MONTH)   # backdated: entered last, last month's
        session.commit()
        viewers = (cun, zhen, worker, actor(session, "centre"))
        per_cadre = assert_coverage_is_the_direct_one(session, current, viewers)
        assert per_cadre == {village.accounts["cun"]: (3, 2), village.accounts["zhen"]: (2, 1)}
        # the period's last second in Lanzhou, an evaluation's window of any dates
        assert_coverage_is_the_direct_one(session, household_visits.Period("evaluation", current.start,
                                                                            current.end - second, ""), viewers)
        assert_coverage_is_the_direct_one(session, household_visits.Period("evaluation", current.start + second,
                                                                            current.end + second, ""), viewers)

        # moved after the visits: they count where the household lives now
        session.get(Household, ids["JQ-2"]).grid_id = small
        session.get(Household, ids["JQ-2"]).region_code = hh.VILLAGE
        session.flush()
        _update(session, Household, [{"row_id": ids["YC-1"], "new_grid": large_b, "new_region": hh.TOWNSHIP_B}])
        session.commit()
        per_cadre = assert_coverage_is_the_direct_one(session, current, viewers)
        assert per_cadre == {village.accounts["cun"]: (3, 1), village.accounts["zhen"]: (2, 0)}

        # the demo's bulk loader: the copies given (one of them wrong), or left out; a household that does not
        # exist; another kind of visit
        cadre_visit = {"target_kind": "household", "visitor_account_id": village.accounts["zhen"],
                       "visitor_post": "township_liaison", "grid_id": None, "region_code": hh.TOWNSHIP_B,
                       "visited_at": NOW, "summary": "见到户主", "form_data": {}, "schema_version": ""}
        bulk(session, Visit, [{**cadre_visit, "target_id": ids["YC-1"], "household_grid_id": large_b,
                               "household_region_code": hh.TOWNSHIP_B},
                              {**cadre_visit, "target_id": ids["JQ-1"], "household_grid_id": small,
                               "household_region_code": hh.VILLAGE},
                              {**cadre_visit, "target_id": 999_999, "household_grid_id": large_b,
                               "household_region_code": hh.TOWNSHIP_B},
                              {**cadre_visit, "target_kind": "key_place", "target_id": ids["JQ-2"],
                               "household_grid_id": None, "household_region_code": None}])
        bulk(session, Visit, [{**cadre_visit, "target_id": ids["YC-2"]}, {**cadre_visit, "target_id": 888_888}])
        session.commit()
        assert places_kept(session)[session.scalar(select(Visit.id).where(Visit.target_id == ids["JQ-1"],
                                                                           Visit.visitor_post == "township_liaison",
                                                                           Visit.visited_at == NOW))] == (
            large_b, hh.TOWNSHIP_B)   # corrected
        per_cadre = assert_coverage_is_the_direct_one(session, current, viewers)
        assert per_cadre == {village.accounts["cun"]: (3, 1), village.accounts["zhen"]: (2, 2)}

        # a household deleted: its visits count nowhere; one created after its visit was recorded: they count
        session.execute(delete(Household).where(Household.id == ids["YC-3"]))
        bulk(session, Household, [{"id": 888_888, "number": "YC-9", "head_name": "周红", "size": 1, "grid_id": small,
                                   "region_code": hh.VILLAGE, "last_visit_at": None}])
        session.commit()
        assert_coverage_is_the_direct_one(session, current, viewers)
        # a visit pointed at another household
        session.execute(update(Visit).where(Visit.target_id == 999_999).values(target_id=ids["JQ-2"]))
        session.execute(update(Visit).where(Visit.target_kind == "key_place").values(target_kind="household"))
        session.commit()
        per_cadre = assert_coverage_is_the_direct_one(session, current, viewers)
        assert per_cadre == {village.accounts["cun"]: (3, 0), village.accounts["zhen"]: (2, 2)}
        session.delete(session.get(Household, ids["JQ-2"]))   # the ORM's delete
        session.commit()
        assert_coverage_is_the_direct_one(session, current, viewers)


def test_a_period_is_counted_once_per_transaction_and_again_after_any_write(platform, world, village):
    """The dashboard asks for this period's seen households twice (the evaluation's column by county, the panel
    by village): one statement, the figures added up by the codes' prefix; any write of the session (the ORM's
    flush, a Core UPDATE, a commit) counts them afresh."""
    from sqlalchemy import update

    with platform.db.session() as session:
        cun, zhen = actor(session, "cun"), actor(session, "zhen")
        visits.record_household_visit(session, cun, household_id=village.ids["YC-1"], met="户主", now=NOW)
        session.commit()
        current = household_visits.period(session, NOW)
        with counting(platform.db.engine) as statements:
            assert household_visits.coverage_counts(session, current=current, by="county") == {"620102": (5, 1)}
            assert household_visits.coverage_counts(session, current=current, by="township") == {
                "620102001": (3, 1), "620102002": (2, 0)}
            assert len(_seen_counts(statements)) == 1
            visits.record_household_visit(session, zhen, household_id=village.ids["JQ-1"], met="户主", now=NOW)
            assert household_visits.coverage_counts(session, current=current, by="county") == {"620102": (5, 2)}
            session.execute(update(Visit).where(Visit.target_id == village.ids["JQ-1"]).values(visitor_post=None))
            assert household_visits.coverage_counts(session, current=current, by="village") == {
                "620102001001": (3, 1), "620102002000": (2, 0)}
            assert len(_seen_counts(statements)) == 3
            assert household_visits.coverage_counts(session, current=current, by="village", viewer=cun) == {
                "620102001001": (3, 1)}   # another viewer: counted for them
            assert len(_seen_counts(statements)) == 4


def test_a_window_ending_sooner_is_counted_once_unless_a_visit_lies_in_the_days_between(platform, world, village):
    """The dashboard's "this month" ends tomorrow at midnight, the panel's visit period at the month's end: with
    no cadre visit in the days between they are the same figures, counted once; a (forward-dated) visit there
    makes them differ, and each is counted for itself."""
    with platform.db.session() as session:
        cun, zhen = actor(session, "cun"), actor(session, "zhen")
        visits.record_household_visit(session, cun, household_id=village.ids["YC-1"], met="户主", now=NOW)
        session.commit()
        month = household_visits.period(session, NOW)
        sooner = household_visits.Period("dashboard", month.start, NOW + dt.timedelta(days=1), "")
        with counting(platform.db.engine) as counted:
            assert household_visits.coverage_counts(session, current=sooner, by="county") == {"620102": (5, 1)}
            assert household_visits.coverage_counts(session, current=month, by="village") == {
                "620102001001": (3, 1), "620102002000": (2, 0)}
            assert len(_seen_counts(counted)) == 1
        later = NOW + dt.timedelta(days=3)   # within the month, after the sooner window's end
        visits.record_household_visit(session, zhen, household_id=village.ids["JQ-1"], met="户主", now=later)
        session.commit()
        with counting(platform.db.engine) as counted:
            assert household_visits.coverage_counts(session, current=sooner, by="county") == {"620102": (5, 1)}
            assert household_visits.coverage_counts(session, current=month, by="county") == {"620102": (5, 2)}
            assert household_visits.coverage_counts(session, current=sooner, by="village") == {
                "620102001001": (3, 1), "620102002000": (2, 0)}
            assert len(_seen_counts(counted)) == 2



def _seen_counts(statements: list[str]) -> list[str]:
    """The statements that counted a period's seen households: from the cadre visits' index, or for a calendar
    month from its kept counts of any cadre (migration 0040)."""
    return [statement for statement in statements
            if ("count(*)" in statement and "household_region_code IS NOT NULL" in statement)
            or ("FROM cadre_visit_counts" in statement and "cadre_visit_counts.account_id = " in statement)]
