"""The staff roster with cadres' posts (`post`) and responsible grids (`grids`): stored as keys, checked per row
with the field named, re-imports change nothing, and a post leaves with the cadre grant."""
from __future__ import annotations

import pytest
from sqlalchemy import event, select

from minqing.core.grassroots import cadres
from minqing.core.importing.structure import import_city_file
from minqing.core.models import Account, AuditRecord, CadreGrid, CadrePost, Grid, GridMember, Region, RoleGrant

from tests.fixtures.city_files import (TOWNSHIP, VILLAGE, count, grids_file, nested_grids, problems, regions_file,
                                      write_csv)


@pytest.fixture
def city_grids(platform, tmp_path) -> dict[str, int]:
    """The regions and nested grids of tests/fixtures/city_files.py, imported: grid code → id."""
    for kind, path in (("regions", regions_file(tmp_path)), ("grids", grids_file(tmp_path, nested_grids()))):
        summary = import_city_file(platform, kind, path)
        assert summary.ok, summary.problems
    with platform.db.session() as session:
        return dict(session.execute(select(Grid.code, Grid.id)).all())

ROSTER = ("username", "name", "phone", "role", "scope", "grid_code", "职务", "负责网格")


def _posts(platform) -> dict:
    with platform.db.session() as session:
        rows = session.execute(select(Account.username, CadrePost.post, CadrePost.id)
                               .join(CadrePost, CadrePost.account_id == Account.id)).all()
        return {username: (post, sorted(cadres.grid_ids_of(session, post_id))) for username, post, post_id in rows}


def test_cadres_come_with_their_post_and_grids(platform, city_grids, tmp_path):
    grids = city_grids
    rows = [("admin", "王建国", "", "admin", "", "", "", ""),
            ("cun1", "杨秀英", "", "cadre", VILLAGE, "", "村两委", "S1;S2"),
            ("shuji", "马玉兰", "", "村干部", VILLAGE, "", "党组织书记", "S1"),
            ("zhen1", "陈刚", "", "cadre", TOWNSHIP, "", "township_liaison", ""),
            ("zu1", "李四", "", "cadre", VILLAGE, "", "村民小组长", "S2")]
    roster = write_csv(tmp_path / "roster.csv", ROSTER, rows)
    first = import_city_file(platform, "accounts", roster)
    assert first.ok, first.problems
    assert first.counts["posts"] == 4
    assert _posts(platform) == {"cun1": ("village_committee", sorted([grids["S1"], grids["S2"]])),
                                "shuji": ("party_secretary", [grids["S1"]]), "zhen1": ("township_liaison", []),
                                "zu1": ("group_leader", [grids["S2"]])}
    audit = count(platform, AuditRecord)
    again = import_city_file(platform, "accounts", roster)
    assert again.ok and not again.written and again.counts["posts"] == 0 and count(platform, AuditRecord) == audit
    # the secretary takes S2 too; the group leader is a grid worker now: their post goes
    rows[2] = ("shuji", "马玉兰", "", "村干部", VILLAGE, "", "党组织书记", "S1；S2")
    rows[4] = ("zu1", "李四", "", "grid_worker", "", "S2", "", "")
    moved = import_city_file(platform, "accounts", write_csv(tmp_path / "moved.csv", ROSTER, rows))
    assert moved.ok and moved.counts["posts"] == 2
    posts = _posts(platform)
    assert posts["shuji"] == ("party_secretary", sorted([grids["S1"], grids["S2"]])) and "zu1" not in posts
    with platform.db.session() as session:
        record = session.scalars(select(AuditRecord).where(AuditRecord.object_type == "accounts")
                                 .order_by(AuditRecord.id.desc())).first()
        assert "干部职务变更2个" in record.summary


def test_bad_posts_and_grids_are_listed_and_nothing_is_written(platform, city_grids, tmp_path):
    rows = [("admin", "王建国", "", "admin", "", "", "", ""),                         # 2 fine
            ("cc1", "职务错", "", "cadre", VILLAGE, "", "村主任助理", ""),             # 3
            ("cc2", "网格外", "", "cadre", VILLAGE, "", "村两委", "L1"),               # 4 the township's grid
            ("cc3", "无网格", "", "cadre", VILLAGE, "", "村两委", "S1;G404"),          # 5
            ("cc4", "缺职务", "", "cadre", VILLAGE, "", "", "S1"),                     # 6
            ("ww1", "网格员", "", "grid_worker", "", "S1", "村两委", ""),              # 7 not a cadre
            ("cc5", "两职务", "", "cadre", VILLAGE, "", "村两委", ""),                 # 8
            ("cc5", "两职务", "", "cadre", TOWNSHIP, "", "党组织书记", "")]            # 9
    summary = import_city_file(platform, "accounts", write_csv(tmp_path / "roster.csv", ROSTER, rows))
    assert problems(summary) == {
        (3, "cc1", "post", f"职务“村主任助理”无效：应为{cadres.POST_CHOICES}"),
        (4, "cc2", "grids", f"网格 L1 不在干部的范围 {VILLAGE} 内"),
        (5, "cc3", "grids", "网格 G404 不存在：请先导入网格"),
        (6, "cc4", "post", f"填写负责网格时须填写职务：{cadres.POST_CHOICES}"),
        (7, "ww1", "post", "只有干部（cadre）填写职务和负责网格"),
        (9, "cc5", "post", "同一账号只能有一个干部职务"),
    }
    assert count(platform, Account) == 0 and count(platform, CadrePost) == 0 and count(platform, CadreGrid) == 0


def _statements(platform, run) -> int:
    """How many statements `run()` sends (an executemany or a multi-row insert is one)."""
    seen = []

    def count_statement(*_args):
        seen.append(1)

    event.listen(platform.db.engine, "before_execute", count_statement)
    try:
        run()
    finally:
        event.remove(platform.db.engine, "before_execute", count_statement)
    return len(seen)


def _cadre_rows(start: int, stop: int) -> list[tuple]:
    posts = ("村两委", "党组织书记", "村民小组长")
    return [(f"cc{n:04d}", f"干部{n}", f"139{n:08d}", "cadre", VILLAGE, "", posts[n % 3], ("S1", "S2", "S1;S2")[n % 3])
            for n in range(start, stop)]


def test_the_roster_is_written_in_sets_however_many_cadres_it_names(platform, city_grids, tmp_path):
    """A roster's cadres cost no statement each: 200 new cadres take as many statements as five."""
    assert import_city_file(platform, "accounts", write_csv(tmp_path / "one.csv", ROSTER, _cadre_rows(0, 1))).ok
    five, two_hundred = (write_csv(tmp_path / f"{size}.csv", ROSTER, _cadre_rows(0, size)) for size in (6, 206))
    for_five = _statements(platform, lambda: import_city_file(platform, "accounts", five))
    for_two_hundred = _statements(platform, lambda: import_city_file(platform, "accounts", two_hundred))
    assert for_two_hundred <= for_five
    with platform.db.session() as session:
        summaries = session.scalars(select(AuditRecord.summary).where(AuditRecord.object_type == "accounts")
                                    .order_by(AuditRecord.id)).all()
        assert [summary.split("，")[0] for summary in summaries] == ["导入账号：新增1个", "导入账号：新增5个",
                                                                   "导入账号：新增200个"]
        village = session.scalar(select(Region.id).where(Region.code == VILLAGE))
        grants = session.execute(select(Account.username, RoleGrant.role, RoleGrant.region_id)
                                 .join(RoleGrant, RoleGrant.account_id == Account.id)).all()
        accounts = session.scalars(select(Account)).all()
        assert sorted(grants) == [(f"cc{n:04d}", "cadre", village) for n in range(206)]
        assert all(account.person_id and account.password_hash is None and account.password_must_change
                   for account in accounts)
        assert {account.phone for account in accounts} == {f"139{n:08d}" for n in range(206)}
        assert session.scalar(select(GridMember.id)) is None   # cadres are no grid members
    wanted = {"村两委": "village_committee", "党组织书记": "party_secretary", "村民小组长": "group_leader"}
    grids = {"S1": [city_grids["S1"]], "S2": [city_grids["S2"]], "S1;S2": sorted([city_grids["S1"], city_grids["S2"]])}
    assert _posts(platform) == {row[0]: (wanted[row[6]], grids[row[7]]) for row in _cadre_rows(0, 206)}


def _group_leader_rows(start: int, stop: int) -> list[tuple]:
    """Group leaders who are their grid's full-time worker: the post on one row, the grid worker's grant on a
    second row with the same username (as the demo's roster gives them)."""
    return [row for n in range(start, stop) for row in (
        (f"zz{n:04d}", f"组长{n}", f"138{n:08d}", "cadre", VILLAGE, "", "村民小组长", "S1"),
        (f"zz{n:04d}", f"组长{n}", f"138{n:08d}", "grid_worker", "", "S1", "", ""))]


def test_group_leaders_are_their_grids_workers_as_one_person_written_in_sets(platform, city_grids, tmp_path):
    """A group leader with the grid worker's grant too is one account and one person, a cadre with their post and
    the grid's full-time member; however many, their mixed grants cost no statement each."""
    assert import_city_file(platform, "accounts", write_csv(tmp_path / "one.csv", ROSTER,
                                                            _group_leader_rows(0, 1))).ok
    five, two_hundred = (write_csv(tmp_path / f"{size}.csv", ROSTER, _group_leader_rows(0, size)) for size in (6, 206))
    for_five = _statements(platform, lambda: import_city_file(platform, "accounts", five))
    for_two_hundred = _statements(platform, lambda: import_city_file(platform, "accounts", two_hundred))
    assert for_two_hundred <= for_five
    with platform.db.session() as session:
        village = session.scalar(select(Region.id).where(Region.code == VILLAGE))
        persons = dict(session.execute(select(Account.username, Account.person_id)).all())
        grants = session.execute(select(Account.username, RoleGrant.role, RoleGrant.region_id, RoleGrant.grid_id)
                                 .join(RoleGrant, RoleGrant.account_id == Account.id)).all()
        members = session.execute(select(GridMember.person_id, GridMember.grid_id, GridMember.role)).all()
    usernames = [f"zz{n:04d}" for n in range(206)]
    assert sorted(persons) == usernames and len(set(persons.values())) == 206 and all(persons.values())
    assert sorted(grants) == sorted(row for username in usernames for row in (
        (username, "cadre", village, None), (username, "grid_worker", None, city_grids["S1"])))
    assert sorted(members) == sorted((persons[username], city_grids["S1"], "full_time") for username in usernames)
    assert _posts(platform) == {username: ("group_leader", [city_grids["S1"]]) for username in usernames}


def test_set_posts_writes_only_what_changed_and_refuses_what_assign_refuses(platform, city_grids):
    grids = city_grids
    with platform.db.session() as session:
        regions = dict(session.execute(select(Region.code, Region.id)).all())
        accounts = [Account(username=f"gb{n}", display_name=f"干部{n}") for n in range(3)]
        session.add_all(accounts)
        session.flush()
        one, two, three = (account.id for account in accounts)
        posts = {one: ("村两委", regions[VILLAGE], [grids["S2"], grids["S1"], grids["S1"]]),
                 two: ("township_liaison", regions[TOWNSHIP], [grids["L1"]]),
                 three: ("党组织书记", regions[VILLAGE], ())}
        assert cadres.set_posts(session, posts) == 3
        assert cadres.set_posts(session, posts) == 0                      # the same again writes nothing
        posts[two] = ("township_liaison", regions[TOWNSHIP], [grids["L1"], grids["S1"]])
        assert cadres.set_posts(session, posts, dismiss=[three]) == 1      # a post named in both is kept
        assert cadres.set_posts(session, {one: posts[one]}, dismiss=[three, 999]) == 1
        session.commit()
    with platform.db.session() as session:
        recorded = {post.account_id: (post.post, cadres.grid_ids_of(session, post.id))
                    for post in session.scalars(select(CadrePost))}
        assert recorded == {one: ("village_committee", sorted([grids["S1"], grids["S2"]])),
                            two: ("township_liaison", sorted([grids["L1"], grids["S1"]]))}
        assert count(platform, CadreGrid) == 4
        refused = [({one: ("村主任助理", regions[VILLAGE], [])}, "post"),
                   ({one: ("村两委", regions[VILLAGE], [grids["L1"]])}, "grids"),   # the township's grid
                   ({one: ("村两委", regions[VILLAGE], [grids["S1"]]), two: ("村两委", 999, [])}, "region"),
                   ({one: ("村两委", regions["620102000000"], [])}, "region")]      # a county
        for wanted, field in refused:
            with pytest.raises(cadres.CadreInvalid) as error:
                cadres.set_posts(session, wanted)
            assert error.value.field == field
        assert {post.account_id: (post.post, cadres.grid_ids_of(session, post.id))
                for post in session.scalars(select(CadrePost))} == recorded
