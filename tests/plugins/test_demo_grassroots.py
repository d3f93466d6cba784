"""The demo's grassroots work (plugins/demo_city: cadre_roster.py, grassroots.py): cadre roster rows, household
visits, key grids held by party secretaries and the 帮办实事 ledger, on a small city and on the full demo."""
from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import func, select, update

from minqing.core.grassroots import cadres, household_visits
from minqing.core.actors import system_actor
from minqing.core.changes import record_change
from minqing.core.models import (Account, AuditRecord, CadreGrid, CadrePost, Grid, Household, KeyGrid,
                                 PracticalMatter, Resident, Visit)
from minqing.plugins.demo_city import cadre_roster, grassroots
from minqing.plugins.demo_city.build import CITIZEN
from minqing.plugins.demo_city.geography import Area, Geography, GridCell

from tests.fixtures import households as hh

NOW = dt.datetime(2026, 11, 20, 4, 0, tzinfo=dt.UTC)


def _geography() -> Geography:
    regions = [Area("620100000000", "兰州市", "city", None, True, None),
               Area("620102000000", "城关区", "county", "620100000000", True, None),
               Area("620102001000", "甲镇", "township", "620102000000", False, None),
               Area("620102002000", "乙镇", "township", "620102000000", False, None)]
    grids = []
    for township in ("620102001", "620102002"):
        for village in ("001", "002"):
            code = township + village
            regions.append(Area(code, f"村{code}", "village", township + "000", False, None))
            for group in ("001", "002"):
                regions.append(Area(code + group, f"组{group}", "group", code, False, None))
                grids.append(GridCell("G" + code + group, f"{code}第{group}网格", "small", None, code + group,
                                      False, False, None))
    return Geography(seed=1, regions=regions, grids=grids)


def test_cadre_rows_are_the_whole_roster_and_give_the_named_login_a_village_with_grids():
    rows = cadre_roster.cadre_rows(_geography(), 1)
    villages = ("620102001001", "620102001002", "620102002001", "620102002002")
    posts = {}
    for row, _purpose in rows:
        posts.setdefault(row[6], []).append(row)
    # every village: its secretary, two more 村两委 members sharing its grids, its township's 包村干部 for it
    assert sorted(row[4] for row in posts[cadre_roster.COMMITTEE]) == sorted(villages * 2)
    for village in villages:
        shared = [row[7].split(";") for row in posts[cadre_roster.COMMITTEE] if row[4] == village]
        assert sorted(sum(shared, [])) == ["G" + village + "001", "G" + village + "002"]
    assert sorted(row[7] for row in posts[cadre_roster.LIAISON]) == [
        f"G{village}001;G{village}002" for village in villages]
    # every rural small grid's group leader (this city's full-time workers are all group leaders), who is also
    # that grid's full-time worker: the same username, name and phone on a second row, the grid worker's grant
    assert sorted(row[7] for row in posts[cadre_roster.GROUP_LEADER]) == sorted(
        f"G{village}{group}" for village in villages for group in ("001", "002"))
    workers = {row[0]: row for row in posts[""]}
    assert len(workers) == len(posts[""]) == 8
    for leader in posts[cadre_roster.GROUP_LEADER]:
        worker = workers[leader[0]]
        assert worker[:3] == leader[:3] and worker[3:] == ("grid_worker", "", leader[7], "", "")
    assert len(rows) == 4 * len(villages) + 2 * 8
    usernames = [row[0] for row, _purpose in rows if row[3] == "cadre"]
    assert usernames[0] == cadre_roster.CADRE_USERNAME and len(set(usernames)) == len(usernames)
    secretaries = {row[4] for row, _ in rows if row[6] == cadre_roster.SECRETARY}
    assert secretaries == {"620102001001", "620102001002", "620102002001", "620102002002"}
    assert rows[0][0][4] == "620102001001"                    # the village of the first small grid
    liaisons = [row for row, _ in rows if row[6] == cadre_roster.LIAISON]
    assert {row[4] for row in liaisons} == {"620102001000", "620102002000"}
    assert all(row[3] in ("cadre", "grid_worker") and len(row) == 8 for row, _ in rows)
    assert len({row[2] for row, _ in rows}) == len(set(usernames))   # a phone per person: the importer refuses repeats
    for row, _ in rows:                                      # every grid lies in the cadre's region
        assert all(code[1:1 + len(row[4].rstrip("0"))] == row[4].rstrip("0") for code in filter(None, row[7].split(";")))


@pytest.fixture
def small_city(platform, world, password_hash):
    village = hh.build(platform, world, password_hash)
    with platform.db.session() as session:
        account = session.get(Account, village.accounts["cun"])
        cadres.assign(session, system_actor("test"), account, post="党组织书记", region_id=world.ids[hh.VILLAGE])
        session.execute(update(Grid).where(Grid.code == hh.SMALL).values(colour="red"))
        session.commit()
    return village


def test_seeding_visits_key_grids_and_matters_on_a_small_city(platform, small_city):
    with platform.db.session() as session:
        counts = grassroots.seed(session, 7, NOW, key_grids=1, matters=12)
        session.commit()
        assert counts.visits == session.scalar(select(func.count()).select_from(Visit)) > 0
        kinds = set(session.scalars(select(Visit.visitor_post).distinct()))
        assert "party_secretary" in kinds or "village_committee" in kinds
        key = session.scalar(select(KeyGrid))
        assert counts.key_grids == 1 and key.holder_account_id == small_city.accounts["cun"]
        assert key.colour_at_assignment in ("red", "yellow") and key.active
        assert counts.matters == session.scalar(select(func.count()).select_from(PracticalMatter)) >= 12
        matters = session.scalars(select(PracticalMatter)).all()
        assert {matter.owner_account_id for matter in matters} == {small_city.accounts["cun"]}
        assert all(matter.region_code == hh.VILLAGE for matter in matters)
        assert all(matter.result for matter in matters if matter.status in ("done", "cannot"))
        linked = [matter for matter in matters if matter.visit_id]
        assert all(session.get(Visit, matter.visit_id).target_id == matter.household_id for matter in linked)
        named = session.scalars(select(Resident.id).where(Resident.phone == CITIZEN[2])).all()
        assert named and any(matter.resident_id in named for matter in matters)
        assert session.get(Household, small_city.ids["YC-1"]).last_visit_at is not None \
            or session.get(Household, small_city.ids["YC-2"]).last_visit_at is not None
        actions = set(session.scalars(select(AuditRecord.action).where(AuditRecord.summary.like("演示数据%"))))
        assert actions == {"visit.record", "key_grid.assign", "matter.promise"}
    with platform.db.session() as session:   # a visit made after the demo gets its own number (PostgreSQL's sequence)
        later = Visit(target_kind="household", target_id=small_city.ids["YC-1"], summary="演示之后的走访")
        session.add(later)
        session.commit()
        assert later.id > counts.visits


@pytest.mark.slow
def test_the_full_demo_has_cadres_visits_1158_key_grids_and_its_matters(demo_platform):
    from minqing import themes

    with demo_platform.db.session() as session:
        themes.colours.recompute_grid_colours(demo_platform, session, system_actor("test"))
        counts = grassroots.seed(session, 2260)
        session.commit()
        assert counts.key_grids == session.scalar(select(func.count()).select_from(KeyGrid)) == 1158
        secretaries = session.scalar(select(func.count()).select_from(CadrePost)
                                     .where(CadrePost.post == "party_secretary"))
        assert secretaries == 1180
        holders = session.execute(select(KeyGrid.region_code, CadrePost.region_id, Grid.colour)
                                  .join(CadrePost, CadrePost.account_id == KeyGrid.holder_account_id)
                                  .join(Grid, Grid.id == KeyGrid.grid_id)).all()
        assert all(colour in ("red", "yellow", "blue") for _, _, colour in holders)
        # some improved (how many depends on the cases: this city has the test build's, not the demo's)
        assert 0 < sum(colour == "blue" for _, _, colour in holders) < 1158
        residents = session.scalar(select(func.count()).select_from(Resident))
        assert counts.matters == session.scalar(select(func.count()).select_from(PracticalMatter))
        assert abs(counts.matters - round(15_700 * residents / 200_000)) <= 2
        statuses = dict(session.execute(select(PracticalMatter.status, func.count())
                                        .group_by(PracticalMatter.status)).all())
        assert statuses["done"] > counts.matters / 2 and statuses["cannot"] > 0 and statuses["in_progress"] > 0
        overall = household_visits.coverage(session, by="county", now=None)
        seen, total = sum(row.seen for row in overall), sum(row.households for row in overall)
        assert 0.05 < seen / total < 0.95
        rows = {username for username, in session.execute(select(Account.username))}
        assert {"cadre", "shichang", "gongshui"} <= rows
        # a group leader is their grid's full-time worker: every visit they make counts for them (户户见干部)
        leaders = dict(session.execute(select(Account.person_id, Account.id)
                                       .join(CadrePost, CadrePost.account_id == Account.id)
                                       .where(CadrePost.post == "group_leader")).all())
        by_leaders = session.execute(select(Visit.visitor_person_id, Visit.visitor_account_id, Visit.visitor_post)
                                     .where(Visit.visitor_person_id.in_(leaders))).all()
        assert len({person_id for person_id, _, _ in by_leaders}) > len(leaders) / 2
        assert all(account_id == leaders[person_id] and post == "group_leader"
                   for person_id, account_id, post in by_leaders)
        current = household_visits.period(session)
        seen: dict[int, set[int]] = {}
        for account_id, household_id in session.execute(
                select(Account.id, Visit.target_id).join(CadrePost, CadrePost.account_id == Account.id)
                .join(CadreGrid, CadreGrid.cadre_post_id == CadrePost.id)
                .join(Household, Household.grid_id == CadreGrid.grid_id)
                .join(Visit, (Visit.target_id == Household.id) & (Visit.target_kind == "household")
                      & ((Visit.visitor_account_id == Account.id) | (Visit.visitor_person_id == Account.person_id)))
                .where(CadrePost.post == "group_leader", Visit.visited_at >= current.start,
                       Visit.visited_at < current.end)):
            seen.setdefault(account_id, set()).add(household_id)
        coverage = {row.account_id: row.seen for row in household_visits.cadre_coverage(session, current=current)
                    if row.post == "group_leader"}
        assert sum(coverage.values()) > 0
        assert coverage == {account_id: len(seen.get(account_id, ())) for account_id in coverage}


def _orm_write(session, model, rows, *, action, object_type, what, details, phase, show_progress):
    """The reference: every row through the ORM, one audit record for all (as the seeding wrote them before)."""
    session.add_all(model(**row) for row in rows)
    session.flush()
    record_change(session, system_actor("demo"), action, object_type=object_type, summary=f"{what} {len(rows)} 条",
                  details={"count": len(rows), "demo": True})


def _seeded(session) -> dict:
    """What the seeding wrote, without the ids the database numbers (a matter's)."""
    def rows(model, *order):
        table = model.__table__
        return [{key: value for key, value in row._mapping.items() if key != "id" or model is Visit}
                for row in session.execute(select(table).order_by(*order))]
    return {"visits": rows(Visit, Visit.id), "key_grids": rows(KeyGrid, KeyGrid.grid_id),
            "matters": rows(PracticalMatter, PracticalMatter.household_id, PracticalMatter.created_at),
            "households": session.execute(select(Household.id, Household.last_visit_at).order_by(Household.id)).all()}


def test_the_bulk_seeding_writes_what_the_orm_writes_and_audits_each_chunk(platform, small_city, monkeypatch):
    monkeypatch.setattr(grassroots, "CHUNK", 3)
    found = {}
    with monkeypatch.context() as patch, platform.db.session() as session:   # the reference, rolled back
        patch.setattr(grassroots, "write", _orm_write)
        grassroots.seed(session, 7, NOW, key_grids=1, matters=12)
        session.flush()
        found["orm"] = _seeded(session)
        session.rollback()
    with platform.db.session() as session:
        counts = grassroots.seed(session, 7, NOW, key_grids=1, matters=12)
        session.commit()
        found["bulk"] = _seeded(session)
        records = session.scalars(select(AuditRecord).where(AuditRecord.action.in_(("visit.record", "matter.promise")))
                                  .order_by(AuditRecord.seq)).all()
    assert found["bulk"] == found["orm"]
    assert found["bulk"]["visits"] and len(found["bulk"]["matters"]) == counts.matters >= 12
    # a record per chunk of 3 rows, which counts them
    for action, total in (("visit.record", counts.visits), ("matter.promise", counts.matters)):
        assert [record.details["count"] for record in records if record.action == action] == [
            min(3, total - start) for start in range(0, total, 3)], action
    visits = [record.details for record in records if record.action == "visit.record"]
    assert visits[0]["first_id"] == found["bulk"]["visits"][0]["id"] and visits[-1]["last_id"] == counts.visits
    visited = {}
    for visit in found["bulk"]["visits"]:
        visited[visit["target_id"]] = max(visit["visited_at"], visited.get(visit["target_id"], visit["visited_at"]))
    assert dict(found["bulk"]["households"]) == {household: visited.get(household)
                                                 for household, _at in found["bulk"]["households"]}
