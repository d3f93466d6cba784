"""A small piece of Lanzhou for the department plugin tests: two districts, three grids, a few residents, key
persons and key places, committed so that tasks opening their own sessions see them."""
from __future__ import annotations

import dataclasses
import datetime as dt

import pytest

from minqing.core.privacy import idcard
from minqing.core.privacy.masking import id_digest
from minqing.core.models import Department, Grid, KeyPerson, KeyPlace, Resident
from minqing.core.settings import lookup_key

from tests.fixtures.city import build_places


@dataclasses.dataclass
class City:
    regions: dict[str, str]      # name → code
    grids: dict[str, int]        # code → id
    residents: dict[str, str]    # name → ID number
    resident_ids: dict[str, int]


REGIONS = [("620100000000", "兰州市", "city", None), ("620102000000", "城关区", "county", "620100000000"),
           ("620102001000", "张掖路街道", "township", "620102000000"),
           ("620102001001", "南关社区", "village", "620102001000"), ("620103000000", "七里河区", "county", "620100000000"),
           ("620103001000", "西园街道", "township", "620103000000")]
GRIDS = [("G620102001", "张掖路大网格", "large", None, "620102001000", (103.80, 36.05, 103.84, 36.07)),
         ("G620102001001", "南关社区1号网格", "small", "G620102001", "620102001001", (103.80, 36.05, 103.82, 36.07)),
         ("G620103001", "西园大网格", "large", None, "620103001000", (103.70, 36.05, 103.74, 36.07))]
DEPARTMENTS = (("urban_management", "兰州市城市管理局", "城管"), ("police", "兰州市公安局", "公安"),
               ("emergency", "兰州市应急管理局", "应急管理"))
RESIDENTS = (("张桂兰", "G620102001001", dt.date(1941, 3, 2)), ("李建国", "G620102001001", dt.date(1985, 7, 9)),
             ("王秀英", "G620103001", dt.date(1939, 11, 20)))


@pytest.fixture
def city(platform) -> City:
    with platform.db.session() as session:
        places = build_places(session, REGIONS, GRIDS)
        for key, name, short in DEPARTMENTS:
            session.add(Department(key=key, name=name, short_name=short))
        key = lookup_key(session)
        residents, resident_ids = {}, {}
        for sequence, (name, grid_code, birth) in enumerate(RESIDENTS):
            grid = session.get(Grid, places.grids[grid_code])
            number = idcard.make(grid.region_code, birth, 100 + sequence)
            row = Resident(name=name, id_number=number, id_digest=id_digest(key, number),
                           gender=idcard.sex(number), birth_date=birth, grid_id=grid.id, region_code=grid.region_code)
            session.add(row)
            session.flush()
            residents[name], resident_ids[name] = number, row.id
        session.flush()
        return City(regions={name: code for code, name, _level, _parent in REGIONS}, grids=places.grids,
                    residents=residents, resident_ids=resident_ids)


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
