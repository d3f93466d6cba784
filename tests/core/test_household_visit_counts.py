"""户户见干部 for a calendar month read from the counts the database keeps as visits are written (migration 0040):
after every kind of write — the visit service (ORM), the demo's bulk loader (COPY on PostgreSQL), raw SQL; a visit
deleted, retargeted, moved in time, given another visitor; a household moved, deleted, created after its visit —
the kept counts equal a hand-written count over the visits, and the figures read from them equal those read from
the month's visits (`kept_counts` forced to None) and the hand-written queries."""
from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import delete, func, select, text, update

from minqing.core import visits
from minqing.core.grassroots import household_visits
from minqing.core.models import Account, CadreVisitCount, CadreVisitMark, Household, Visit

from tests.fixtures import households as hh
from tests.fixtures.households import LAST_MONTH, NOW, actor, assert_coverage_is_the_direct_one, coverage_figures

NOVEMBER, OCTOBER, DECEMBER = 202611, 202610, 202612


@pytest.fixture
def village(platform, world, password_hash):
    return hh.build(platform, world, password_hash)


def _direct_counts(session) -> dict:
    """Hand-written: per (month, account — 0 for any cadre —, grid id — 0 for none —, region code), the
    households that exist a cadre visited that month, where they are now."""
    rows = session.execute(text("""
        SELECT month, account_id, grid_id, region_code, count(DISTINCT household_id) AS households FROM (
            SELECT v.visit_month AS month, 0 AS account_id, h.id AS household_id, coalesce(h.grid_id, 0) AS grid_id,
                   h.region_code AS region_code
            FROM visits v JOIN households h ON h.id = v.target_id
            WHERE v.target_kind = 'household' AND v.visitor_post IS NOT NULL
            UNION ALL
            SELECT v.visit_month, v.visitor_account_id, h.id, coalesce(h.grid_id, 0), h.region_code
            FROM visits v JOIN households h ON h.id = v.target_id
            WHERE v.target_kind = 'household' AND v.visitor_post IS NOT NULL AND v.visitor_account_id IS NOT NULL
        ) AS visited GROUP BY month, account_id, grid_id, region_code"""))
    return {(row.month, row.account_id, row.grid_id, row.region_code): row.households for row in rows}


def _kept_counts(session) -> dict:
    return {(row.month, row.account_id, row.grid_id, row.region_code): row.households
            for row in session.scalars(select(CadreVisitCount).where(CadreVisitCount.households != 0))}


def _assert_counted(session, window, month: int, viewers, monkeypatch) -> dict:
    """The kept counts are the hand-written ones, no mark stands at 0 or below, the window is read from the counts
    of `month`, and every figure equals the one read from the visits and the hand-written queries."""
    assert _kept_counts(session) == _direct_counts(session)
    assert (session.scalar(select(func.min(CadreVisitMark.visits))) or 1) > 0
    assert household_visits.counted_month(session, window) == month
    counted = coverage_figures(session, window)
    per_cadre = assert_coverage_is_the_direct_one(session, window, viewers)
    with monkeypatch.context() as patch:
        patch.setattr(household_visits, "kept_counts", lambda *_: None)
        assert coverage_figures(session, window) == counted
        assert_coverage_is_the_direct_one(session, window, viewers)
    return per_cadre


def test_every_writer_keeps_the_months_counts(platform, world, village, monkeypatch):
    from minqing.core.importing.relocate import _update
    from minqing.plugins.demo_city.base_data import bulk

    small, large_b, ids = world.grids[hh.SMALL], world.grids[hh.LARGE_B], village.ids
    cun_id, zhen_id = village.accounts["cun"], village.accounts["zhen"]
    with platform.db.session() as session:
        cun, zhen, worker = actor(session, "cun"), actor(session, "zhen"), actor(session, "worker")
        viewers = (cun, zhen, worker, actor(session, "centre"))
        month = household_visits.period(session, NOW)
        # the service (the ORM): the month's, last month's, a grid worker's (not a cadre)
        visits.record_household_visit(session, cun, household_id=ids["YC-1"], met="户主", now=NOW)
        visits.record_household_visit(session, cun, household_id=ids["YC-1"], met="配偶", now=NOW)
        visits.record_household_visit(session, cun, household_id=ids["YC-2"], met="户主", now=LAST_MONTH)
        visits.record_household_visit(session, worker, household_id=ids["YC-3"], met="户主", now=NOW)
        visits.record_household_visit(session, zhen, household_id=ids["JQ-1"], met="户主", now=NOW)
        session.commit()
        assert session.scalars(select(Visit.visit_month).order_by(Visit.id)).all() == [
            NOVEMBER, NOVEMBER, OCTOBER, NOVEMBER, NOVEMBER]
        assert _assert_counted(session, month, NOVEMBER, viewers, monkeypatch) == {cun_id: (3, 1), zhen_id: (2, 1)}

        # the demo's bulk loader (COPY on PostgreSQL) with the month given, as plugins/demo_city/grassroots.py
        # writes it: the zhen cadre in 永昌路 too, a household that does not exist, another kind of visit
        row = {"target_kind": "household", "visitor_account_id": zhen_id, "visitor_post": "township_liaison",
               "grid_id": None, "region_code": hh.VILLAGE, "visited_at": NOW, "summary": "见到户主",
               "form_data": {}, "schema_version": "", "visit_month": NOVEMBER}
        bulk(session, Visit, [{**row, "target_id": ids["YC-1"], "household_grid_id": small,
                               "household_region_code": hh.VILLAGE},
                              {**row, "target_id": ids["JQ-2"], "household_grid_id": large_b,
                               "household_region_code": hh.TOWNSHIP_B},
                              {**row, "target_id": 999_999, "household_grid_id": small,
                               "household_region_code": hh.VILLAGE},
                              {**row, "target_kind": "key_place", "target_id": ids["YC-3"],
                               "household_grid_id": None, "household_region_code": None}])
        session.commit()
        assert _assert_counted(session, month, NOVEMBER, viewers, monkeypatch) == {cun_id: (3, 1), zhen_id: (2, 2)}

        # raw SQL, the place left out (migration 0038's trigger fills it in after the insert was counted) or wrong
        session.execute(text(
            "INSERT INTO visits (target_kind, target_id, visitor_account_id, visitor_post, region_code, visited_at, "
            "summary, form_data, schema_version, distance_flagged, visit_month, household_grid_id, "
            "household_region_code) VALUES "
            "('household', :yc3, :cun, 'village_committee', '', :at, '见到户主', '{}', '', false, :month, NULL, NULL), "
            "('household', :jq2, :cun, 'village_committee', '', :at, '见到户主', '{}', '', false, :month, :small, "
            "'620102001001')"),
            {"yc3": ids["YC-3"], "jq2": ids["JQ-2"], "cun": cun_id, "at": NOW.replace(tzinfo=None),
             "month": NOVEMBER, "small": small})
        session.commit()
        assert _assert_counted(session, month, NOVEMBER, viewers, monkeypatch) == {cun_id: (3, 2), zhen_id: (2, 2)}

        # a visit moved to last month by the ORM (its month follows) and back by raw SQL (the writer gives it)
        moved = session.scalar(select(Visit).where(Visit.target_id == ids["JQ-1"]))
        moved.visited_at = LAST_MONTH
        session.commit()
        assert moved.visit_month == OCTOBER
        assert _assert_counted(session, month, NOVEMBER, viewers, monkeypatch) == {cun_id: (3, 2), zhen_id: (2, 1)}
        session.execute(update(Visit).where(Visit.id == moved.id).values(visited_at=NOW, visit_month=NOVEMBER))
        session.commit()
        assert _assert_counted(session, month, NOVEMBER, viewers, monkeypatch) == {cun_id: (3, 2), zhen_id: (2, 2)}

        # another visitor; no longer a cadre's visit; pointed at another household
        yc3 = select(Visit.id).where(Visit.target_id == ids["YC-3"], Visit.visitor_account_id == cun_id)
        session.execute(update(Visit).where(Visit.id.in_(yc3)).values(visitor_account_id=zhen_id))
        session.commit()
        assert _assert_counted(session, month, NOVEMBER, viewers, monkeypatch) == {cun_id: (3, 1), zhen_id: (2, 2)}
        session.execute(update(Visit).where(Visit.target_id == ids["JQ-1"]).values(visitor_post=None))
        session.commit()
        assert _assert_counted(session, month, NOVEMBER, viewers, monkeypatch) == {cun_id: (3, 1), zhen_id: (2, 1)}
        session.execute(update(Visit).where(Visit.target_id == 999_999).values(target_id=ids["JQ-1"]))
        session.execute(update(Visit).where(Visit.target_kind == "key_place").values(target_kind="household"))
        session.commit()
        assert _assert_counted(session, month, NOVEMBER, viewers, monkeypatch) == {cun_id: (3, 1), zhen_id: (2, 2)}

        # households moved after their visits (the ORM; the relocation import), one deleted (the ORM; Core), one
        # created after its visit was recorded (the bulk loader)
        session.get(Household, ids["JQ-2"]).grid_id = small
        session.get(Household, ids["JQ-2"]).region_code = hh.VILLAGE
        session.flush()
        _update(session, Household, [{"row_id": ids["YC-1"], "new_grid": large_b, "new_region": hh.TOWNSHIP_B}])
        session.commit()
        assert _assert_counted(session, month, NOVEMBER, viewers, monkeypatch) == {cun_id: (3, 1), zhen_id: (2, 2)}
        session.delete(session.get(Household, ids["YC-3"]))
        session.commit()
        session.execute(delete(Household).where(Household.id == ids["JQ-1"]))
        bulk(session, Household, [{"id": 999_999, "number": "YC-9", "head_name": "周红", "size": 1, "grid_id": None,
                                   "region_code": hh.VILLAGE, "last_visit_at": None}])
        session.execute(update(Visit).where(Visit.target_kind == "household", Visit.target_id == ids["JQ-1"])
                        .values(target_id=999_999))
        session.commit()
        assert _assert_counted(session, month, NOVEMBER, viewers, monkeypatch) == {cun_id: (2, 1), zhen_id: (1, 1)}

        # every visit deleted: nothing counted, no mark left
        session.execute(delete(Visit))
        session.commit()
        assert _assert_counted(session, month, NOVEMBER, viewers, monkeypatch) == {cun_id: (2, 0), zhen_id: (1, 0)}
        assert session.scalar(select(CadreVisitMark.month).limit(1)) is None


def test_the_demos_bulk_loader_keeps_the_counts_of_both_its_months(platform, world, village, monkeypatch):
    """plugins/demo_city/grassroots.py writes this month's and last month's visits in bulk (COPY on PostgreSQL)
    with their months: both months' counts are the visits'."""
    from minqing.core.actors import system_actor
    from minqing.core.grassroots import cadres
    from minqing.plugins.demo_city import grassroots

    with platform.db.session() as session:
        cadres.assign(session, system_actor("test"), session.get(Account, village.accounts["cun"]), post="党组织书记",
                      region_id=world.ids[hh.VILLAGE])
        for seed in range(1, 7):
            grassroots.seed(session, seed, NOW, key_grids=0, matters=0)
        session.commit()
        assert session.scalar(select(func.count()).where(Visit.visit_month.is_(None))) == 0
        viewers = (actor(session, "cun"), actor(session, "zhen"), actor(session, "worker"))
        for moment, month in ((NOW, NOVEMBER), (LAST_MONTH, OCTOBER)):
            _assert_counted(session, household_visits.period(session, moment), month, viewers, monkeypatch)
        assert {key[0] for key in _kept_counts(session)} == {NOVEMBER, OCTOBER}   # cadre visits in both


def test_a_visit_deleted_while_another_cadres_visit_of_the_household_remains(platform, world, village, monkeypatch):
    with platform.db.session() as session:
        cun, zhen = actor(session, "cun"), actor(session, "zhen")
        month = household_visits.period(session, NOW)
        first = visits.record_household_visit(session, cun, household_id=village.ids["YC-1"], met="户主", now=NOW)
        # the township cadre's visit, added by the ORM as it is (its place and month filled in on the way)
        session.add(Visit(target_kind="household", target_id=village.ids["YC-1"], visitor_post="township_liaison",
                          visitor_account_id=village.accounts["zhen"], region_code=hh.VILLAGE, visited_at=NOW,
                          summary="见到配偶"))
        session.commit()
        place = (NOVEMBER, world.grids[hh.SMALL], hh.VILLAGE)
        assert {key: n for key, n in _kept_counts(session).items()} == {
            (NOVEMBER, 0, *place[1:]): 1, (NOVEMBER, village.accounts["cun"], *place[1:]): 1,
            (NOVEMBER, village.accounts["zhen"], *place[1:]): 1}
        session.delete(session.get(Visit, first.id))
        session.commit()
        assert _kept_counts(session) == {(NOVEMBER, 0, *place[1:]): 1,
                                         (NOVEMBER, village.accounts["zhen"], *place[1:]): 1}
        per_cadre = _assert_counted(session, month, NOVEMBER, (cun, zhen), monkeypatch)
        assert per_cadre == {village.accounts["cun"]: (3, 0), village.accounts["zhen"]: (2, 0)}
        assert [(row.key, row.seen) for row in household_visits.coverage(session, by="village", current=month)] == [
            (hh.VILLAGE, 1), (hh.TOWNSHIP_B, 0)]


def test_a_household_moved_after_its_visit_takes_its_counts_along(platform, world, village, monkeypatch):
    small, large_b = world.grids[hh.SMALL], world.grids[hh.LARGE_B]
    with platform.db.session() as session:
        cun, zhen = actor(session, "cun"), actor(session, "zhen")
        month = household_visits.period(session, NOW)
        visits.record_household_visit(session, cun, household_id=village.ids["YC-1"], met="户主", now=NOW)
        visits.record_household_visit(session, cun, household_id=village.ids["YC-1"], met="配偶", now=NOW)
        session.commit()
        household = session.get(Household, village.ids["YC-1"])
        household.grid_id, household.region_code = large_b, hh.TOWNSHIP_B
        session.commit()
        cun_id = village.accounts["cun"]
        assert _kept_counts(session) == {(NOVEMBER, 0, large_b, hh.TOWNSHIP_B): 1,
                                         (NOVEMBER, cun_id, large_b, hh.TOWNSHIP_B): 1}
        assert session.scalar(select(CadreVisitCount.households).where(
            CadreVisitCount.account_id == 0, CadreVisitCount.grid_id == small)) == 0
        assert set(session.execute(select(CadreVisitMark.account_id, CadreVisitMark.grid_id,
                                          CadreVisitMark.visits))) == {(0, large_b, 2), (cun_id, large_b, 2)}
        # the village cadre answers for the small grid: the household they visited left it
        assert _assert_counted(session, month, NOVEMBER, (cun, zhen), monkeypatch) == {
            cun_id: (2, 0), village.accounts["zhen"]: (3, 0)}
        assert household_visits.coverage_counts(session, current=month, by="grid", viewer=zhen) == {large_b: (3, 1)}


def test_the_month_is_the_citys_and_this_month_so_far_is_read_from_the_counts(platform, world, village,
                                                                              monkeypatch):
    """Asia/Shanghai (UTC+8): 23:30 on 30 November is November's, 00:10 on 1 December December's, though both are
    30 November in UTC; the dashboard's "this month" (ending tomorrow at midnight) is read from the counts while
    no cadre visit lies after it in the month, from the visits otherwise; a quarter always from the visits."""
    last_minutes = dt.datetime(2026, 11, 30, 15, 30, tzinfo=dt.UTC)   # 23:30 local
    first_minutes = dt.datetime(2026, 11, 30, 16, 10, tzinfo=dt.UTC)  # 00:10 local, 1 December
    with platform.db.session() as session:
        cun, zhen = actor(session, "cun"), actor(session, "zhen")
        november = household_visits.period(session, NOW)
        december = household_visits.period(session, first_minutes)
        assert (november.end, december.start) == (dt.datetime(2026, 11, 30, 16, tzinfo=dt.UTC),) * 2
        visits.record_household_visit(session, cun, household_id=village.ids["YC-1"], met="户主", now=last_minutes)
        visits.record_household_visit(session, cun, household_id=village.ids["YC-2"], met="户主", now=first_minutes)
        visits.record_household_visit(session, zhen, household_id=village.ids["JQ-1"], met="户主", now=NOW)
        session.commit()
        assert dict(session.execute(select(Visit.target_id, Visit.visit_month)).all()) == {
            village.ids["YC-1"]: NOVEMBER, village.ids["YC-2"]: DECEMBER, village.ids["JQ-1"]: NOVEMBER}
        assert _assert_counted(session, november, NOVEMBER, (cun, zhen), monkeypatch) == {
            village.accounts["cun"]: (3, 1), village.accounts["zhen"]: (2, 1)}
        assert _assert_counted(session, december, DECEMBER, (cun, zhen), monkeypatch) == {
            village.accounts["cun"]: (3, 1), village.accounts["zhen"]: (2, 0)}

        so_far = household_visits.Period("dashboard", november.start, NOW + dt.timedelta(days=1), "")
        assert household_visits.counted_month(session, so_far) is None   # 23:30 on the 30th lies after it
        assert_coverage_is_the_direct_one(session, so_far, (cun, zhen))
        session.execute(delete(Visit).where(Visit.target_id == village.ids["YC-1"]))
        session.commit()
        assert _assert_counted(session, so_far, NOVEMBER, (cun, zhen), monkeypatch) == {
            village.accounts["cun"]: (3, 0), village.accounts["zhen"]: (2, 1)}
        visits.record_household_visit(session, zhen, household_id=village.ids["JQ-2"], met="户主",
                                      now=NOW + dt.timedelta(days=3))   # forward-dated, in the days between
        session.commit()
        assert household_visits.counted_month(session, so_far) is None
        assert assert_coverage_is_the_direct_one(session, so_far, (cun, zhen))[village.accounts["zhen"]] == (2, 1)
        assert _assert_counted(session, november, NOVEMBER, (cun, zhen), monkeypatch)[
            village.accounts["zhen"]] == (2, 2)
        shifted = household_visits.Period("evaluation", november.start + dt.timedelta(hours=1), november.end, "")
        quarter = household_visits.Period("quarter", dt.datetime(2026, 9, 30, 16, tzinfo=dt.UTC), november.end, "")
        assert household_visits.counted_month(session, shifted) is None
        assert household_visits.counted_month(session, quarter) is None


def test_a_cadre_visit_written_without_its_month_makes_the_month_read_from_its_visits(platform, world, village):
    """A writer that leaves `visit_month` out (raw SQL) is not counted: its month is read from the visits."""
    with platform.db.session() as session:
        cun = actor(session, "cun")
        november = household_visits.period(session, NOW)
        visits.record_household_visit(session, cun, household_id=village.ids["YC-1"], met="户主", now=NOW)
        session.execute(text(
            "INSERT INTO visits (target_kind, target_id, visitor_account_id, visitor_post, region_code, visited_at, "
            "summary, form_data, schema_version, distance_flagged) VALUES "
            "('household', :id, :cun, 'village_committee', '', :at, '见到户主', '{}', '', false)"),
            {"id": village.ids["YC-2"], "cun": village.accounts["cun"], "at": NOW.replace(tzinfo=None)})
        session.commit()
        assert household_visits.counted_month(session, november) is None
        per_cadre = assert_coverage_is_the_direct_one(session, november, (cun,))
        assert per_cadre[village.accounts["cun"]] == (3, 2)
        session.execute(update(Visit).where(Visit.visit_month.is_(None)).values(visit_month=NOVEMBER))
        session.commit()
        assert household_visits.counted_month(session, november) == NOVEMBER
        assert assert_coverage_is_the_direct_one(session, november, (cun,))[village.accounts["cun"]] == (3, 2)


@pytest.mark.parametrize("zone", ["Asia/Shanghai", "Asia/Urumqi"])
def test_the_migration_counts_the_visits_already_there_in_the_citys_time(tmp_path_factory, zone):
    """Upgrading from 0039 gives every visit its month in the stored city's zone and counts the months' visits
    as the triggers would have; downgrading leaves migration 0038's triggers working."""
    def written(ids, accounts):
        a, b = accounts
        return [(ids[0], a, "village_committee", edge), (ids[0], b, "village_committee", edge),
                (ids[1], a, "village_committee", edge - dt.timedelta(days=3)),
                (ids[2], b, None, edge), (ids[2], b, "township_liaison", edge)]

    edge = hh.EDGE
    database, config, ids, (a, b) = hh.migrated_over_visits(tmp_path_factory, "visit_counts", zone,
                                                            "0039_theme_case_index", written)
    edge_month = DECEMBER if zone == "Asia/Shanghai" else NOVEMBER
    with database.session() as session:
        assert session.scalars(select(Visit.visit_month).order_by(Visit.id)).all() == [
            edge_month, edge_month, NOVEMBER, edge_month, edge_month]
        assert _kept_counts(session) == _direct_counts(session)
        assert _kept_counts(session) == {(edge_month, 0, 0, hh.VILLAGE): 1, (edge_month, a, 0, hh.VILLAGE): 1,
                                         (edge_month, b, 0, hh.VILLAGE): 1, (NOVEMBER, 0, 0, hh.VILLAGE): 1,
                                         (NOVEMBER, a, 0, hh.VILLAGE): 1, (edge_month, 0, 0, hh.TOWNSHIP_B): 1,
                                         (edge_month, b, 0, hh.TOWNSHIP_B): 1} if edge_month == DECEMBER else {
            (NOVEMBER, 0, 0, hh.VILLAGE): 2, (NOVEMBER, a, 0, hh.VILLAGE): 2, (NOVEMBER, b, 0, hh.VILLAGE): 1,
            (NOVEMBER, 0, 0, hh.TOWNSHIP_B): 1, (NOVEMBER, b, 0, hh.TOWNSHIP_B): 1}
        session.execute(delete(Visit).where(Visit.target_id == ids[0]))   # the triggers run from here on
        session.commit()
        assert _kept_counts(session) == _direct_counts(session)
    with hh.downgraded(database, config, "0039_theme_case_index") as (connection, tables):
        hh.raw_visit(connection, ids[2], None, None, edge)
        assert connection.execute(text("SELECT household_region_code FROM visits WHERE visitor_post IS NULL "
                                       "AND visitor_account_id IS NULL")).scalar() == hh.TOWNSHIP_B   # 0038's trigger
        assert "cadre_visit_counts" not in tables
    database.dispose()
