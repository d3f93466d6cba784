"""户户见干部 over a window that ends today, read from each household's last cadre visit the database keeps
(migration 0043): after every kind of write — the visit service (ORM), a Core bulk insert, the demo's bulk loader
(COPY on PostgreSQL), raw SQL; a household's last visit deleted (it falls back to an earlier one, or the household
drops out), an earlier one deleted; a visit moved in time, given another visitor or household; a household moved
and deleted — the kept last days and their counts equal hand-written ones over the visits, the last 30 days and
ten chosen days up to today are read from them, and their figures equal those read from the visits (`kept_counts`
forced to None) and the hand-written queries."""
from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import delete, insert, select, text, update

from minqing.core import city, visits
from minqing.core.grassroots import household_visits
from minqing.core.models import Account, CadreLastVisit, Household, Visit

from tests.fixtures import households as hh
from tests.fixtures.households import (LAST_MONTH, NOW, actor, assert_coverage_is_the_direct_one,
                                       coverage_figures)

TODAY = dt.date(2026, 11, 20)                       # NOW's day in Lanzhou
EARLIER = NOW - dt.timedelta(days=15)               # 5 November: in the last 30 days, not in the last 10
LONG_AGO = dt.datetime(2026, 9, 30, 4, 0, tzinfo=dt.UTC)   # in neither


@pytest.fixture
def village(platform, world, password_hash):
    return hh.build(platform, world, password_hash)


def _window(first: dt.date, last: dt.date = TODAY) -> household_visits.Period:
    """The dashboard's window of those days (web/manage/periods.py): [first 00:00, the day after last 00:00)."""
    return household_visits.Period("dashboard", city.midnight(first), city.midnight(last + dt.timedelta(days=1)), "")


THIRTY, TEN = TODAY - dt.timedelta(days=29), TODAY - dt.timedelta(days=9)   # the windows' first days


def _assert_kept(session, viewers, monkeypatch) -> dict:
    """The kept last days and counts are the hand-written ones (no count at 0 left), both windows are read from
    them, and every figure equals the one read from the visits and the hand-written queries. Returns each window's
    per-cadre figures {account id: (households they answer for, of them visited themselves)}."""
    session.commit()
    last_visits = hh.direct_last_visits(session)
    assert hh.kept_last_visits(session) == last_visits
    assert hh.kept_last_visit_counts(session) == hh.counted_last_visits(last_visits)
    found = {}
    for first in (THIRTY, TEN):
        window = _window(first)
        assert household_visits.kept_counts(session, window) == household_visits.Kept(
            since=city.number_of_day(first))
        kept = coverage_figures(session, window)
        found[first] = assert_coverage_is_the_direct_one(session, window, viewers)
        with monkeypatch.context() as patch:
            patch.setattr(household_visits, "kept_counts", lambda *_: None)
            assert coverage_figures(session, window) == kept
            assert assert_coverage_is_the_direct_one(session, window, viewers) == found[first]
    return found


def _raw_row(**values) -> dict:
    return {"target_kind": "household", "grid_id": None, "region_code": hh.VILLAGE, "summary": "见到户主",
            "form_data": {}, "schema_version": "", **values}


def test_every_writer_keeps_the_households_last_visits(platform, world, village, monkeypatch):
    from minqing.core.importing.relocate import _update
    from minqing.plugins.demo_city.base_data import bulk

    small, large_b, ids = world.grids[hh.SMALL], world.grids[hh.LARGE_B], village.ids
    cun_id, zhen_id = village.accounts["cun"], village.accounts["zhen"]
    with platform.db.session() as session:
        cun, zhen, worker = actor(session, "cun"), actor(session, "zhen"), actor(session, "worker")
        viewers = (cun, zhen, worker, actor(session, "centre"))

        # the service (the ORM): 永昌路 1 three times, 2 once, 酒泉路 1 last month; a grid worker's (not a cadre)
        for household, who, when in (("YC-1", cun, LONG_AGO), ("YC-1", cun, LAST_MONTH), ("YC-1", cun, NOW),
                                      ("YC-2", cun, EARLIER), ("JQ-1", zhen, LAST_MONTH), ("YC-3", worker, NOW)):
            visits.record_household_visit(session, who, household_id=ids[household], met="户主", now=when)
        session.commit()
        assert session.scalars(select(Visit.visit_day).order_by(Visit.id)).all() == [
            20260930, 20261028, 20261120, 20261105, 20261028, 20261120]
        assert _assert_kept(session, viewers, monkeypatch) == {
            THIRTY: {cun_id: (3, 2), zhen_id: (2, 1)}, TEN: {cun_id: (3, 1), zhen_id: (2, 0)}}

        # a Core bulk insert (the model's defaults give the day) and the demo's bulk loader (COPY on PostgreSQL,
        # the day given): the township cadre in 酒泉路 2 and, before its last visit, in 永昌路 1; a household that
        # does not exist; another kind of visit
        session.execute(insert(Visit), [
            _raw_row(target_id=ids["JQ-2"], visitor_account_id=zhen_id, visitor_post="township_liaison",
                     visited_at=NOW - dt.timedelta(days=2)),
            _raw_row(target_id=ids["YC-3"], visitor_account_id=cun_id, visitor_post="village_committee",
                     visited_at=NOW)])
        given = {"visitor_account_id": zhen_id, "visitor_post": "township_liaison", "visited_at": EARLIER,
                 "visit_month": 202611, "visit_day": 20261105}
        bulk(session, Visit, [_raw_row(**given, target_id=ids["YC-1"], household_grid_id=small,
                                       household_region_code=hh.VILLAGE),
                              _raw_row(**given, target_id=999_999, household_grid_id=small,
                                       household_region_code=hh.VILLAGE),
                              _raw_row(**{**given, "target_kind": "key_place"}, target_id=ids["YC-2"],
                                       household_grid_id=None, household_region_code=None)])
        # raw SQL, the place left out (migration 0038's trigger fills it in after the insert) or wrong (0038's
        # trigger puts it right, before or after this migration's trigger has run)
        session.execute(text(
            "INSERT INTO visits (target_kind, target_id, visitor_account_id, visitor_post, region_code, visited_at, "
            "summary, form_data, schema_version, distance_flagged, visit_month, visit_day, household_grid_id, "
            "household_region_code) VALUES "
            "('household', :yc3, :cun, 'village_committee', '', :at, '见到户主', '{}', '', false, 202611, 20261120, "
            "NULL, NULL), "
            "('household', :jq1, :cun, 'village_committee', '', :at, '见到户主', '{}', '', false, 202611, 20261120, "
            ":small, '620102001001')"),
            {"yc3": ids["YC-3"], "jq1": ids["JQ-1"], "cun": cun_id, "at": NOW.replace(tzinfo=None), "small": small})
        assert _assert_kept(session, viewers, monkeypatch) == {
            THIRTY: {cun_id: (3, 3), zhen_id: (2, 2)}, TEN: {cun_id: (3, 2), zhen_id: (2, 1)}}
        assert session.get(CadreLastVisit, (0, ids["JQ-1"])).grid_id == large_b
        assert session.get(CadreLastVisit, (0, ids["YC-1"])).day == 20261120
        assert session.get(CadreLastVisit, (zhen_id, ids["YC-1"])).day == 20261105

        # 永昌路 1's last visit deleted (the ORM): it falls back to the township cadre's of 5 November, the village
        # cadre's own to 28 October
        last = session.scalar(select(Visit).where(Visit.target_id == ids["YC-1"], Visit.visited_at == NOW))
        session.delete(last)
        session.commit()
        assert (session.get(CadreLastVisit, (0, ids["YC-1"])).day,
                session.get(CadreLastVisit, (cun_id, ids["YC-1"])).day) == (20261105, 20261028)
        assert _assert_kept(session, viewers, monkeypatch) == {
            THIRTY: {cun_id: (3, 3), zhen_id: (2, 2)}, TEN: {cun_id: (3, 1), zhen_id: (2, 1)}}
        # an earlier visit deleted (Core): nothing moves
        before = hh.kept_last_visits(session), hh.kept_last_visit_counts(session)
        session.execute(delete(Visit).where(Visit.target_id == ids["YC-1"], Visit.visit_day == 20260930))
        session.commit()
        assert (hh.kept_last_visits(session), hh.kept_last_visit_counts(session)) == before
        # 永昌路 2's only visit deleted: it drops out
        session.execute(delete(Visit).where(Visit.target_id == ids["YC-2"], Visit.target_kind == "household"))
        session.commit()
        assert session.get(CadreLastVisit, (0, ids["YC-2"])) is None
        assert _assert_kept(session, viewers, monkeypatch) == {
            THIRTY: {cun_id: (3, 2), zhen_id: (2, 2)}, TEN: {cun_id: (3, 1), zhen_id: (2, 1)}}

        # moved in time: 酒泉路 1 to yesterday (the ORM: its day follows), 永昌路 3 back to September (raw SQL, the
        # writer giving the day)
        moved = session.scalar(select(Visit).where(Visit.target_id == ids["JQ-1"], Visit.visitor_account_id == zhen_id))
        moved.visited_at = NOW - dt.timedelta(days=1)
        session.commit()
        assert (moved.visit_day, moved.visit_month) == (20261119, 202611)
        session.execute(update(Visit).where(Visit.target_id == ids["YC-3"], Visit.visitor_post.is_not(None))
                        .values(visited_at=LONG_AGO, visit_month=202609, visit_day=20260930))
        assert _assert_kept(session, viewers, monkeypatch) == {
            THIRTY: {cun_id: (3, 1), zhen_id: (2, 2)}, TEN: {cun_id: (3, 0), zhen_id: (2, 2)}}

        # another visitor (酒泉路 2's to the village cadre); no longer a cadre's visit (酒泉路 1's); the visit of the
        # missing household pointed at 永昌路 2 (its place filled in by migration 0038's trigger)
        session.execute(update(Visit).where(Visit.target_id == ids["JQ-2"]).values(visitor_account_id=cun_id))
        session.execute(update(Visit).where(Visit.target_id == ids["JQ-1"]).values(visitor_post=None))
        session.execute(update(Visit).where(Visit.target_id == 999_999).values(target_id=ids["YC-2"]))
        assert _assert_kept(session, viewers, monkeypatch) == {
            THIRTY: {cun_id: (3, 1), zhen_id: (2, 0)}, TEN: {cun_id: (3, 0), zhen_id: (2, 0)}}

        # households moved after their visits (the ORM; the relocation import) and deleted (the ORM; Core)
        session.get(Household, ids["JQ-2"]).grid_id = small
        session.get(Household, ids["JQ-2"]).region_code = hh.VILLAGE
        session.flush()
        _update(session, Household, [{"row_id": ids["YC-1"], "new_grid": large_b, "new_region": hh.TOWNSHIP_B}])
        assert session.get(CadreLastVisit, (cun_id, ids["JQ-2"])).grid_id == small
        assert _assert_kept(session, viewers, monkeypatch) == {
            THIRTY: {cun_id: (3, 1), zhen_id: (2, 1)}, TEN: {cun_id: (3, 1), zhen_id: (2, 0)}}
        session.delete(session.get(Household, ids["YC-2"]))
        session.commit()
        session.execute(delete(Household).where(Household.id == ids["JQ-2"]))
        assert _assert_kept(session, viewers, monkeypatch) == {
            THIRTY: {cun_id: (1, 0), zhen_id: (2, 1)}, TEN: {cun_id: (1, 0), zhen_id: (2, 0)}}

        # every visit deleted: nothing kept
        session.execute(delete(Visit))
        assert _assert_kept(session, viewers, monkeypatch) == {
            THIRTY: {cun_id: (1, 0), zhen_id: (2, 0)}, TEN: {cun_id: (1, 0), zhen_id: (2, 0)}}
        assert (hh.kept_last_visits(session), hh.kept_last_visit_counts(session)) == ({}, {})


def test_which_windows_are_read_from_the_last_visits(platform, world, village, monkeypatch):
    """The days are the city's (Asia/Shanghai, UTC+8): 23:30 on 10 November is outside the ten days from the 11th,
    00:10 on the 11th inside, though both are the 10th in UTC. A whole month is still read from its counts (0040);
    a window with a cadre visit after it, one not starting at midnight, or one holding a cadre visit written
    without its day, from the visits."""
    with platform.db.session() as session:
        cun, zhen = actor(session, "cun"), actor(session, "zhen")
        last_minutes = dt.datetime(2026, 11, 10, 15, 30, tzinfo=dt.UTC)
        first_minutes = dt.datetime(2026, 11, 10, 16, 10, tzinfo=dt.UTC)
        visits.record_household_visit(session, cun, household_id=village.ids["YC-1"], met="户主", now=last_minutes)
        visits.record_household_visit(session, cun, household_id=village.ids["YC-2"], met="户主", now=first_minutes)
        visits.record_household_visit(session, zhen, household_id=village.ids["JQ-1"], met="户主", now=NOW)
        session.commit()
        assert session.scalars(select(Visit.visit_day).order_by(Visit.id)).all() == [20261110, 20261111, 20261120]
        per_cadre = _assert_kept(session, (cun, zhen), monkeypatch)
        assert per_cadre[TEN] == {village.accounts["cun"]: (3, 1), village.accounts["zhen"]: (2, 1)}

        november = household_visits.period(session, NOW)
        assert household_visits.kept_counts(session, november) == household_visits.Kept(month=202611)
        shifted = household_visits.Period("evaluation", _window(TEN).start + dt.timedelta(hours=1), _window(TEN).end,
                                          "")
        ended = _window(TEN, TODAY - dt.timedelta(days=1))   # yesterday: today's visit comes after it
        assert household_visits.kept_counts(session, shifted) is None
        assert household_visits.kept_counts(session, ended) is None
        assert assert_coverage_is_the_direct_one(session, ended, (cun, zhen))[village.accounts["zhen"]] == (2, 0)

        # forward-dated: a cadre visit after the windows' end
        visits.record_household_visit(session, zhen, household_id=village.ids["JQ-2"], met="户主",
                                      now=NOW + dt.timedelta(days=3))
        session.commit()
        assert household_visits.kept_counts(session, _window(TEN)) is None
        assert assert_coverage_is_the_direct_one(session, _window(TEN), (cun, zhen))[
            village.accounts["zhen"]] == (2, 1)
        session.execute(delete(Visit).where(Visit.target_id == village.ids["JQ-2"]))

        # a writer that leaves the day out (raw SQL): not counted, so the window holding it reads its visits
        session.execute(text(
            "INSERT INTO visits (target_kind, target_id, visitor_account_id, visitor_post, region_code, visited_at, "
            "summary, form_data, schema_version, distance_flagged, visit_month) VALUES "
            "('household', :id, :cun, 'village_committee', '', :at, '见到户主', '{}', '', false, 202611)"),
            {"id": village.ids["YC-3"], "cun": village.accounts["cun"], "at": NOW.replace(tzinfo=None)})
        session.commit()
        assert household_visits.kept_counts(session, _window(TEN)) is None
        assert assert_coverage_is_the_direct_one(session, _window(TEN), (cun, zhen))[
            village.accounts["cun"]] == (3, 2)
        session.execute(update(Visit).where(Visit.visit_day.is_(None)).values(visit_day=20261120))
        assert _assert_kept(session, (cun, zhen), monkeypatch)[TEN][village.accounts["cun"]] == (3, 2)


def test_the_demos_bulk_loader_gives_every_visit_its_day(platform, world, village, monkeypatch):
    """plugins/demo_city/grassroots.py writes this month's and last month's visits in bulk (COPY on PostgreSQL)
    with their days: the last visits kept are the visits'."""
    from minqing.core.actors import system_actor
    from minqing.core.grassroots import cadres
    from minqing.plugins.demo_city import grassroots

    with platform.db.session() as session:
        cadres.assign(session, system_actor("test"), session.get(Account, village.accounts["cun"]), post="党组织书记",
                      region_id=world.ids[hh.VILLAGE])
        for seed in range(1, 4):
            grassroots.seed(session, seed, NOW, key_grids=0, matters=0)
        session.commit()
        written = session.execute(select(Visit.visited_at, Visit.visit_day, Visit.visit_month)).all()
        assert [(day, month) for _, day, month in written] == [
            (city.day_of(at), city.month_of(at)) for at, _, _ in written]
        _assert_kept(session, (actor(session, "cun"), actor(session, "zhen"), actor(session, "worker")), monkeypatch)


@pytest.mark.parametrize("zone", ["Asia/Shanghai", "Asia/Urumqi"])
def test_the_migration_keeps_the_visits_already_there_as_the_triggers_would(tmp_path_factory, zone):
    """Upgrading from 0042 gives every visit its day in the stored city's zone and each household its last
    visit — the same marks and counts the triggers give when the same visits are written again."""
    def written(ids, accounts):
        a, b = accounts
        return [(ids[0], a, "village_committee", edge - dt.timedelta(days=3)), (ids[0], b, "village_committee", edge),
                (ids[1], a, "village_committee", edge - dt.timedelta(days=3)), (ids[1], a, "village_committee", edge),
                (ids[2], b, None, edge), (ids[2], b, "township_liaison", edge - dt.timedelta(days=1))]

    edge = hh.EDGE
    database, config, ids, (a, b) = hh.migrated_over_visits(tmp_path_factory, "last_visits", zone,
                                                            "0042_open_cases_scope", written)
    edge_day = 20261201 if zone == "Asia/Shanghai" else 20261130
    with database.session() as session:
        days = session.scalars(select(Visit.visit_day).order_by(Visit.id)).all()
        assert days[1] == days[3] == days[4] == edge_day and days[0] == days[2] == 20261127 + (zone == "Asia/Shanghai")
        backfilled = hh.kept_last_visits(session), hh.kept_last_visit_counts(session)
        assert backfilled[0] == hh.direct_last_visits(session)
        assert backfilled[0][(0, ids[0])] == (edge_day, 0, hh.VILLAGE)
        assert backfilled[1] == hh.counted_last_visits(backfilled[0])
        # the same visits written again, through the triggers
        copied = [dict(row) for row in session.execute(select(Visit.__table__)).mappings()]
        session.execute(delete(Visit))
        assert (hh.kept_last_visits(session), hh.kept_last_visit_counts(session)) == ({}, {})
        session.execute(insert(Visit), copied)
        assert (hh.kept_last_visits(session), hh.kept_last_visit_counts(session)) == backfilled
        session.commit()
    with hh.downgraded(database, config, "0042_open_cases_scope") as (connection, tables):
        hh.raw_visit(connection, ids[2], a, "village_committee", edge, month=202611)
        assert connection.execute(text("SELECT count(*) FROM cadre_visit_marks WHERE household_id = :home "
                                       "AND account_id = :a"), {"home": ids[2], "a": a}).scalar() == 1   # 0040's
        assert "cadre_last_visits" not in tables
    database.dispose()
