"""What each role sees: the one scope filter, applied to cases, residents, grids and people."""
import datetime as dt

import pytest
from sqlalchemy import select

from minqing.core import scope
from minqing.core.actors import Actor, Grant
from minqing.core.models import Case, Department, Grid, Person, Region, Resident

from tests.fixtures.city import add_accounts, add_departments, build_places


REGIONS = [("620100000000", "兰州市", "city", None), ("620102000000", "城关区", "county", "620100000000"),
           ("620102001000", "张掖路街道", "township", "620102000000"),
           ("620102002000", "酒泉路街道", "township", "620102000000")]
GRIDS = [("G620102001", "张掖路街道网格", "large", None, "620102001000", (0, 0, 1, 1)),
         ("G620102002", "酒泉路街道网格", "large", None, "620102002000", (1, 0, 2, 1)),
         ("G620102001001", "小网格", "small", "G620102001", "620102001000", (0, 0, 0.5, 1))]
DEPARTMENTS = {"water_affairs": ("兰州市水务局", "水务"), "police": ("兰州市公安局", "公安")}
REPORTERS = {f"citizen{n}": ("citizen", None, f"市民{n}") for n in (1, 2)}


@pytest.fixture
def city(session):
    """Two townships of one county, one grid in each, a department, a case and a resident in each grid."""
    places = build_places(session, REGIONS, GRIDS)
    departments = add_departments(session, DEPARTMENTS)
    reporters = list(add_accounts(session, REPORTERS, places).values())
    zhangye, jiuquan = (session.get(Region, places.regions[code]) for code in ("620102001000", "620102002000"))
    small, jiuquan_grid = (session.get(Grid, places.grids[code]) for code in ("G620102001001", "G620102002"))
    water, police = departments["water_affairs"], departments["police"]
    cases = {
        "zhangye": Case(theme_key="t", title="张掖路积水", source="grid_worker", status="reported",
                        region_code=zhangye.code, grid_id=small.id, department_id=water,
                        reporter_account_id=reporters[0].id),
        "jiuquan": Case(theme_key="t", title="酒泉路噪音", source="citizen", status="reported",
                        region_code=jiuquan.code, grid_id=jiuquan_grid.id, department_id=police,
                        reporter_account_id=reporters[1].id),
    }
    session.add_all(cases.values())
    for name, grid, code in (("甲", small, zhangye.code), ("乙", jiuquan_grid, jiuquan.code)):
        session.add(Resident(name=name, id_number="620102199001011234", id_digest=name, gender="male",
                             birth_date=dt.date(1990, 1, 1), grid_id=grid.id, region_code=code))
    session.add(Person(name="王员", region_id=zhangye.id, department_id=water))
    session.flush()
    return {"reporters": reporters, "zhangye": zhangye, "jiuquan": jiuquan, "small": small,
            "water": session.get(Department, water), "cases": cases}


def titles(session, viewer):
    return sorted(session.scalars(scope.restrict(select(Case.title), Case, viewer)))


def residents(session, viewer):
    return sorted(session.scalars(scope.restrict(select(Resident.name), Resident, viewer)))


def test_operator_sees_only_their_region_subtree(session, city):
    township = Actor(1, "指挥所", (Grant("operator", region_code=city["zhangye"].code),))
    county = Actor(2, "分中心", (Grant("operator", region_code="620102000000"),))
    assert titles(session, township) == ["张掖路积水"]
    assert titles(session, county) == ["张掖路积水", "酒泉路噪音"]
    assert residents(session, township) == ["甲"]
    assert scope.can_see(session, Case, city["cases"]["zhangye"].id, township)
    assert not scope.can_see(session, Case, city["cases"]["jiuquan"].id, township)


def test_department_sees_its_cases_and_no_residents(session, city):
    staff = Actor(3, "水务", (Grant("department_staff", department_id=city["water"].id),))
    assert titles(session, staff) == ["张掖路积水"]
    assert residents(session, staff) == []
    assert session.scalars(scope.restrict(select(Person.name), Person, staff)).all() == ["王员"]


@pytest.mark.parametrize("task_status, sees", [("open", True), ("answered", True), ("overruled", False),
                                               ("withdrawn", False)])
def test_a_co_handling_department_sees_the_case_while_it_takes_part(session, city, task_status, sees):
    from minqing.core.models.cohandling import CoHandlingTask

    police = Actor(7, "公安", (Grant("department_staff", department_id=city["cases"]["jiuquan"].department_id),))
    case = city["cases"]["zhangye"]  # 水务's case
    assert titles(session, police) == ["酒泉路噪音"]
    session.add(CoHandlingTask(case_id=case.id, department_id=police.grants[0].department_id, status=task_status,
                               deadline_at=dt.datetime(2026, 3, 2, tzinfo=dt.UTC), photos=[]))
    session.flush()
    assert titles(session, police) == (["张掖路积水", "酒泉路噪音"] if sees else ["酒泉路噪音"])
    assert scope.can_see(session, Case, case.id, police) is sees
    water = Actor(3, "水务", (Grant("department_staff", department_id=city["water"].id),))
    assert titles(session, water) == ["张掖路积水"]  # the lead's view is unchanged


def test_grid_worker_sees_their_grid_and_those_below(session, city):
    leader = Actor(4, "网格长", (Grant("grid_worker", grid_code="G620102001"),))
    worker = Actor(5, "网格员", (Grant("grid_worker", grid_code="G620102001001"),))
    other = Actor(6, "网格员", (Grant("grid_worker", grid_code="G620102002"),))
    assert titles(session, leader) == ["张掖路积水"] == titles(session, worker)
    assert titles(session, other) == ["酒泉路噪音"]
    assert residents(session, worker) == ["甲"]
    grids = session.scalars(scope.restrict(select(Grid.code), Grid, leader)).all()
    assert sorted(grids) == ["G620102001", "G620102001001"]


def test_citizen_sees_only_own_reports(session, city):
    citizen = Actor(city["reporters"][1].id, "市民", (Grant("citizen"),))
    assert titles(session, citizen) == ["酒泉路噪音"]
    assert residents(session, citizen) == []


def test_no_grant_sees_nothing_and_admin_everything(session, city):
    assert titles(session, Actor(9, "无角色")) == []
    assert residents(session, Actor(10, "审计", (Grant("auditor"),))) == []
    assert len(titles(session, Actor(11, "管理员", (Grant("admin"),)))) == 2
