"""The staff roster with cadres' posts (`post`) and responsible grids (`grids`): stored as keys, checked per row
with the field named, re-imports change nothing, and a post leaves with the cadre grant."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from minqing.core.grassroots import cadres
from minqing.core.importing.structure import import_city_file
from minqing.core.models import Account, AuditRecord, CadreGrid, CadrePost, Grid

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
