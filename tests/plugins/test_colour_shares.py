"""The 公安 and 消防救援 colour rules inform at every level the way the default rule does: a small grid by what is
in it, a medium or large grid by the share of its small grids that are red or yellow (`MINQING_GRID_RED_SHARE`,
`MINQING_GRID_YELLOW_SHARE`), never by adding up counts so that every large grid of a city turns red."""
from __future__ import annotations

import datetime as dt

import pytest

from minqing.core.geo import grid_tree
from minqing.core.models import Case, Grid, KeyPerson, Resident, utcnow
from minqing.core.privacy import idcard
from minqing.plugins import visit_reminders

from tests.fixtures.city import build_places

LONG_AGO = visit_reminders.today() - dt.timedelta(days=10)
COUNTY = "620102000000"
REGIONS = [("620100000000", "兰州市", "city", None), (COUNTY, "城关区", "county", "620100000000")]
# One large grid over two medium grids of five small grids each; a second large grid with no grid under it
BOX = (103.80, 36.05, 103.84, 36.07)
GRIDS = [("L", "大网格", "large", None, COUNTY, BOX)]
for m in (1, 2):
    GRIDS.append((f"M{m}", f"中网格{m}", "medium", "L", COUNTY, BOX))
    GRIDS += [(f"S{m}{n}", f"小网格{m}{n}", "small", f"M{m}", COUNTY, BOX) for n in range(1, 6)]
GRIDS.append(("LONE", "独立大网格", "large", None, COUNTY, BOX))


@pytest.fixture
def tree(platform):
    with platform.db.session() as session:
        return build_places(session, REGIONS, GRIDS).grids


def answers(platform, plugin: str) -> dict[str, tuple[str, str]]:
    """The plugin's `grid_colours` answer by grid code."""
    with platform.db.session() as session:
        codes = dict(session.query(Grid.id, Grid.code))
        found = dict(platform.plugins.call("grid_colours", parents=grid_tree.parents(session), session=session))
    return {codes[grid_id]: answer for grid_id, answer in (found.get(plugin) or {}).items()}


def overdue_person(platform, tree, code: str, risk: str, n: int = 0) -> None:
    with platform.db.session() as session:
        number = idcard.make("620102", dt.date(1960, 1, 1) + dt.timedelta(days=n), 101)
        resident = Resident(name=f"居民{n}", id_number=number, id_digest=f"d{code}{n}", gender="male",
                            birth_date=dt.date(1960, 1, 1), grid_id=tree[code], region_code=COUNTY)
        session.add(resident)
        session.flush()
        session.add(KeyPerson(resident_id=resident.id, category="社区矫正对象", risk_level=risk,
                              next_visit_due=LONG_AGO, grid_id=tree[code], region_code=COUNTY))


def blocked_lane(platform, tree, code: str, times: int) -> None:
    with platform.db.session() as session:
        session.add_all([Case(theme_key="fire_rescue.fire_lane", title="消防通道被占", source="grid_worker",
                              status="reported", region_code=COUNTY, grid_id=tree[code], created_at=utcnow())
                         for _ in range(times)])


def test_one_overdue_visit_colours_its_small_grid_not_the_large_grid(platform, tree):
    overdue_person(platform, tree, "S11", "high")
    police = answers(platform, "dept_police")
    assert police["S11"] == ("red", "高风险重点人员走访逾期 1 人")
    # M1: 1 of its 5 small grids red (20 %); L: 1 of 10 (10 %), where adding up the counts made it red
    assert police["M1"] == ("red", "重点人员走访逾期：辖内小网格红色 20%（1/5），红黄合计 20%（1/5）；红色达到 20%")
    assert "L" not in police and "M2" not in police and "LONE" not in police
    overdue_person(platform, tree, "S21", "medium", 1)
    overdue_person(platform, tree, "S22", "medium", 2)
    police = answers(platform, "dept_police")
    assert police["M2"][0] == "yellow" and police["S22"] == ("yellow", "中风险重点人员走访逾期 1 人")
    assert police["L"] == ("yellow", "重点人员走访逾期：辖内小网格红色 10%（1/10），红黄合计 30%（3/10）；红黄合计达到 30%")
    overdue_person(platform, tree, "S12", "high", 3)
    assert answers(platform, "dept_police")["L"][0] == "red"           # 2 of 10 red


def test_key_persons_on_an_upper_grid_itself_do_not_colour_it(platform, tree):
    overdue_person(platform, tree, "L", "high")
    police = answers(platform, "dept_police")
    assert police == {}
    overdue_person(platform, tree, "LONE", "high", 1)                   # a large grid with no grid under it
    assert answers(platform, "dept_police") == {"LONE": ("red", "高风险重点人员走访逾期 1 人")}


def test_blocked_fire_lanes_colour_the_estate_and_a_share_of_estates_the_district(platform, tree):
    blocked_lane(platform, tree, "S11", 5)
    fire = answers(platform, "dept_fire_rescue")
    assert fire["S11"] == ("red", "近30日消防通道占用 5 起")
    assert fire["M1"][0] == "red" and fire["M1"][1].startswith("消防通道反复占用：辖内小网格红色 20%（1/5）")
    assert "L" not in fire                                              # 5 blockings in one of ten estates
    blocked_lane(platform, tree, "S21", 2)
    blocked_lane(platform, tree, "S22", 1)                              # once: an incident, not a pattern
    fire = answers(platform, "dept_fire_rescue")
    assert fire["S21"] == ("yellow", "近30日消防通道占用 2 起") and "S22" not in fire
    assert "L" not in fire and "M2" not in fire                          # red+yellow 2 of 10, 1 of 5: below 30 %


def test_the_plugins_follow_the_city_shares(platform, tree, monkeypatch):
    overdue_person(platform, tree, "S11", "high")
    blocked_lane(platform, tree, "S21", 5)
    monkeypatch.setenv("MINQING_GRID_RED_SHARE", "10")
    assert answers(platform, "dept_police")["L"][0] == "red"
    assert answers(platform, "dept_fire_rescue")["L"][1].endswith("红色达到 10%")
    monkeypatch.setenv("MINQING_GRID_RED_SHARE", "50%")
    monkeypatch.setenv("MINQING_GRID_YELLOW_SHARE", "40")
    police = answers(platform, "dept_police")
    assert "M1" not in police and "L" not in police                     # 20 % and 10 %: blue
    monkeypatch.setenv("MINQING_GRID_RED_SHARE", "很多")
    with pytest.raises(ValueError, match="MINQING_GRID_RED_SHARE 应为 0 到 100 之间的百分比数字"):
        grid_tree.shares()
