"""A small city for the workflow tests: a region chain down to one village, one grid, two departments and an
account for every role that takes part in the loop."""
from __future__ import annotations

import dataclasses
import datetime as dt

import pytest
from shapely.geometry import box, mapping

from minqing.core import counters
from minqing.core.actors import Actor, actor_for
from minqing.core.models import Account, Department, Grid, Region, RoleGrant
from minqing.core.platform import GRIDS_COUNTER
from minqing.workflows import report_case

CST = dt.timezone(dt.timedelta(hours=8))
MONDAY_10AM = dt.datetime(2026, 3, 2, 10, 0, tzinfo=CST)   # an ordinary working Monday
INSIDE = (103.80, 36.05)                                    # a point in the village's grid

REGIONS = [("620100000000", "兰州市", "city", None), ("620102000000", "城关区", "county", "620100000000"),
           ("620102001000", "酒泉路街道", "township", "620102000000"),
           ("620102001001", "曹家巷社区", "village", "620102001000"), ("620103000000", "七里河区", "county", "620100000000")]


@dataclasses.dataclass
class City:
    grid_id: int
    village: str
    actors: dict[str, Actor]

    def __getattr__(self, name: str) -> Actor:
        try:
            return self.actors[name]
        except KeyError:
            raise AttributeError(name) from None


def _account(session, username: str, role: str, **scope) -> Actor:
    account = Account(username=username, display_name=username)
    account.grants.append(RoleGrant(role=role, **scope))
    session.add(account)
    session.flush()
    return actor_for(session, account, origin="test")


@pytest.fixture
def city(platform) -> City:
    with platform.db.session() as session:
        ids = {}
        for code, name, level, parent in REGIONS:
            region = Region(code=code, name=name, level=level, parent_id=ids.get(parent))
            session.add(region)
            session.flush()
            ids[code] = region.id
        grid = Grid(code="G620102001001001", name="曹家巷一网格", level="small", region_id=ids["620102001001"],
                    region_code="620102001001", geometry=mapping(box(103.7, 36.0, 103.9, 36.1)))
        water = Department(key="water_affairs", name="兰州市水务局", short_name="水务")
        urban = Department(key="urban_management", name="兰州市城市管理局", short_name="城管")
        session.add_all([grid, water, urban])
        session.flush()
        counters.bump(session, GRIDS_COUNTER)
        actors = {
            "station": _account(session, "station", "operator", region_id=ids["620102001001"]),
            "township": _account(session, "township", "operator", region_id=ids["620102001000"]),
            "centre": _account(session, "centre", "operator", region_id=ids["620100000000"]),
            "elsewhere": _account(session, "elsewhere", "operator", region_id=ids["620103000000"]),
            "water": _account(session, "water", "department_staff", department_id=water.id),
            "urban": _account(session, "urban", "department_staff", department_id=urban.id),
            "worker": _account(session, "worker", "grid_worker", grid_id=grid.id),
            "citizen": _account(session, "citizen", "citizen"),
            "leader": _account(session, "leader", "leader", region_id=ids["620100000000"]),
        }
        return City(grid_id=grid.id, village="620102001001", actors=actors)


def report(platform, actor, *, now=MONDAY_10AM, **overrides):
    """Report a case in its own transaction; return its id."""
    fields = dict(theme_key="water", title="井盖缺失", description="路口井盖缺失，存在安全隐患", lon=INSIDE[0],
                  lat=INSIDE[1], category="市政设施", urgency="normal", source="grid_worker")
    fields.update(overrides)
    with platform.db.session() as session:
        case = report_case(platform, session, actor, now=now, **fields)
        return case.id


def step(platform, case_id, name, actor, data=None, *, now=MONDAY_10AM):
    """Take one step in its own transaction; return the case as it is afterwards."""
    from minqing.core.models import Case
    from minqing.workflows import transition

    with platform.db.session() as session:
        case = session.get(Case, case_id)
        return transition(platform, session, case, name, actor, data or {}, now=now)
