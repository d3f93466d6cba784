"""A small piece of Lanzhou for the department plugin tests: two districts, three grids, a few residents, key
persons and key places, committed so that tasks opening their own sessions see them."""
from __future__ import annotations

import dataclasses
import datetime as dt

import pytest
from shapely.geometry import box, mapping

from minqing.core import idcard
from minqing.core.masking import id_digest
from minqing.core.models import Department, Grid, KeyPerson, KeyPlace, Region, Resident
from minqing.core.settings import lookup_key


@dataclasses.dataclass
class City:
    regions: dict[str, str]      # name → code
    grids: dict[str, int]        # code → id
    residents: dict[str, str]    # name → ID number
    resident_ids: dict[str, int]


def _grid(session, code, name, level, region, bounds, parent=None):
    min_lon, min_lat, max_lon, max_lat = bounds
    grid = Grid(code=code, name=name, level=level, region_id=region.id, region_code=region.code,
                parent_id=parent.id if parent else None, geometry=mapping(box(*bounds)),
                min_lon=min_lon, min_lat=min_lat, max_lon=max_lon, max_lat=max_lat)
    session.add(grid)
    session.flush()
    return grid


@pytest.fixture
def city(platform) -> City:
    with platform.db.session() as session:
        def region(code, name, level, parent=None):
            row = Region(code=code, name=name, level=level, parent_id=parent.id if parent else None)
            session.add(row)
            session.flush()
            return row

        lanzhou = region("620100000000", "兰州市", "city")
        chengguan = region("620102000000", "城关区", "county", lanzhou)
        zhangye = region("620102001000", "张掖路街道", "township", chengguan)
        community = region("620102001001", "南关社区", "village", zhangye)
        qilihe = region("620103000000", "七里河区", "county", lanzhou)
        xiyuan = region("620103001000", "西园街道", "township", qilihe)
        large = _grid(session, "G620102001", "张掖路大网格", "large", zhangye, (103.80, 36.05, 103.84, 36.07))
        small = _grid(session, "G620102001001", "南关社区1号网格", "small", community,
                      (103.80, 36.05, 103.82, 36.07), large)
        west = _grid(session, "G620103001", "西园大网格", "large", xiyuan, (103.70, 36.05, 103.74, 36.07))
        for key, name, short in (("urban_management", "兰州市城市管理局", "城管"), ("police", "兰州市公安局", "公安"),
                                 ("emergency", "兰州市应急管理局", "应急管理")):
            session.add(Department(key=key, name=name, short_name=short))
        key = lookup_key(session)
        residents, resident_ids = {}, {}
        for sequence, (name, grid, birth) in enumerate((("张桂兰", small, dt.date(1941, 3, 2)),
                                                       ("李建国", small, dt.date(1985, 7, 9)),
                                                       ("王秀英", west, dt.date(1939, 11, 20)))):
            number = idcard.make(grid.region_code, birth, 100 + sequence)
            row = Resident(name=name, id_number=number, id_digest=id_digest(key, number),
                           gender=idcard.sex(number), birth_date=birth, grid_id=grid.id, region_code=grid.region_code)
            session.add(row)
            session.flush()
            residents[name], resident_ids[name] = number, row.id
        session.flush()
        return City(regions={r.name: r.code for r in (lanzhou, chengguan, zhangye, community, qilihe, xiyuan)},
                    grids={g.code: g.id for g in (large, small, west)}, residents=residents,
                    resident_ids=resident_ids)


@pytest.fixture
def add_key_person(platform, city):
    def add(name, category, risk="low", due=None, grid="G620102001001"):
        with platform.db.session() as session:
            grid_row = session.get(Grid, city.grids[grid])
            row = KeyPerson(resident_id=city.resident_ids[name], category=category, risk_level=risk,
                            next_visit_due=due, grid_id=grid_row.id, region_code=grid_row.region_code)
            session.add(row)
            session.flush()
            return row.id
    return add


@pytest.fixture
def add_key_place(platform, city):
    def add(name, category, department, due=None, grid="G620102001001"):
        with platform.db.session() as session:
            grid_row = session.get(Grid, city.grids[grid])
            row = KeyPlace(name=name, category=category, department_key=department, next_visit_due=due,
                           grid_id=grid_row.id, region_code=grid_row.region_code,
                           lon=grid_row.min_lon + 0.001, lat=grid_row.min_lat + 0.001)
            session.add(row)
            session.flush()
            return row.id
    return add
