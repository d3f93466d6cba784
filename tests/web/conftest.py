"""A small signed-in world for page tests: one chain of regions, nested grids, every department, the published
themes, and an account with a password for every role."""
from __future__ import annotations

import dataclasses

import pytest
from shapely.geometry import box, mapping

from minqing import themes
from minqing.core.actors import system_actor
from minqing.core.departments import sync_departments
from minqing.core.models import Account, Department, Grid, Region, RoleGrant
from minqing.core.passwords import hash_password
from minqing.web import create_app

PASSWORD = "Test#Pass2026"
INSIDE = (103.83, 36.05)     # in the small grid
OTHER = (103.95, 36.05)      # in the other township's grid

REGIONS = [("620100000000", "兰州市", "city", None), ("620102000000", "城关区", "county", "620100000000"),
           ("620102001000", "张掖路街道", "township", "620102000000"),
           ("620102001001", "永昌路社区", "village", "620102001000"),
           ("620102002000", "酒泉路街道", "township", "620102000000")]


@dataclasses.dataclass
class World:
    ids: dict[str, int]
    grids: dict[str, int]
    departments: dict[str, int]
    inside: tuple[float, float] = INSIDE


@pytest.fixture(scope="session")
def password_hash() -> str:
    return hash_password(PASSWORD)


@pytest.fixture
def world(platform, password_hash) -> World:
    with platform.db.session() as session:
        ids = {}
        for code, name, level, parent in REGIONS:
            region = Region(code=code, name=name, level=level, parent_id=ids.get(parent), urban=True)
            session.add(region)
            session.flush()
            ids[code] = region.id
        grids = {}
        for code, name, level, parent, region, shape in [
            ("G620102001", "张掖路大网格", "large", None, "620102001000", box(103.80, 36.00, 103.90, 36.10)),
            ("G620102001001", "永昌路中网格", "medium", "G620102001", "620102001001", box(103.80, 36.00, 103.85, 36.10)),
            ("G620102001001001", "永昌路第1网格", "small", "G620102001001", "620102001001", box(103.80, 36.00, 103.85, 36.10)),
            ("G620102002", "酒泉路大网格", "large", None, "620102002000", box(103.90, 36.00, 104.00, 36.10)),
        ]:
            grid = Grid(code=code, name=name, level=level, parent_id=grids.get(parent), region_id=ids[region],
                        region_code=region, geometry=mapping(shape), min_lon=shape.bounds[0],
                        min_lat=shape.bounds[1], max_lon=shape.bounds[2], max_lat=shape.bounds[3])
            session.add(grid)
            session.flush()
            grids[code] = grid.id
        sync_departments(session, platform.plugins, system_actor("test"), region_id=ids["620100000000"])
        departments = {d.key: d.id for d in session.query(Department)}
        themes.sync_themes(platform, session, system_actor("test"))
        accounts = [
            ("admin", "admin", {}), ("centre", "operator", {"region_id": ids["620100000000"]}),
            ("station", "operator", {"region_id": ids["620102001000"]}),
            ("jiuquan", "operator", {"region_id": ids["620102002000"]}),
            ("chengguan", "department_staff", {"department_id": departments["urban_management"]}),
            ("water", "department_staff", {"department_id": departments["water_affairs"]}),
            ("worker", "grid_worker", {"grid_id": grids["G620102001001001"]}),
            ("other_worker", "grid_worker", {"grid_id": grids["G620102002"]}),
            ("leader", "leader", {"region_id": ids["620100000000"]}),
            ("auditor", "auditor", {}), ("citizen", "citizen", {}),
        ]
        for username, role, scope in accounts:
            account = Account(username=username, display_name=username, password_hash=password_hash)
            account.grants.append(RoleGrant(role=role, **scope))
            session.add(account)
    return World(ids=ids, grids=grids, departments=departments)


@pytest.fixture
def app(platform):
    return create_app({"TESTING": True, "WTF_CSRF_ENABLED": False}, platform=platform)


@pytest.fixture
def client(app):
    return app.test_client()


def login(client, username: str, password: str = PASSWORD):
    return client.post("/login", data={"username": username, "password": password})


@pytest.fixture
def as_user(app, world):
    """as_user("worker") → a test client signed in as that demo account."""
    def signed_in(username: str):
        client = app.test_client()
        response = login(client, username)
        assert response.status_code == 302, response.get_data(as_text=True)
        return client
    return signed_in
