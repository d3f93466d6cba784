"""Build the Lanzhou-scale demo city into an empty database, deterministically from a seed.

Rows are written in bulk with ids assigned here (the database is empty), which is what makes 200,000 residents
and 8,703 grid polygons fit in well under a minute on SQLite.
"""
from __future__ import annotations

import dataclasses
import datetime as dt
import random
from collections.abc import Callable

import numpy as np
import shapely
from shapely.geometry import mapping
from sqlalchemy import func, insert, select, text
from sqlalchemy.orm import Session
from tqdm import tqdm

from minqing.core import city, counters
from minqing.core.privacy import idcard, uscc
from ..actors import system_actor
from ..changes import record_change
from ..departments import sync_departments
from minqing.core.privacy.masking import id_digest
from ..models import (Account, Address, Department, Grid, GridMember, House, Household, KeyPerson, KeyPlace,
                      Person, Region, Resident, RoleGrant, Unit)
from ..platform import GRIDS_COUNTER, Platform
from minqing.core.geo.regions import code_problem
from ..settings import lookup_key
from . import people, spec
from .geography import TOTAL_STEPS, build_geography

DEMO_PASSWORD = "Minqing#2026"
KEY_PERSON_CATEGORIES = (  # category, visit every N days, share of residents (per mille)
    ("独居老人", 7, 4.0), ("严重精神障碍患者", 14, 1.0), ("社区矫正对象", 7, 0.6), ("刑满释放人员", 30, 0.8),
    ("吸毒人员", 14, 0.5), ("留守儿童", 30, 1.5), ("困境儿童", 30, 0.6), ("特困供养人员", 30, 1.0),
    ("重点信访人员", 14, 0.3), ("残疾人", 30, 1.5),
)
KEY_PLACE_CATEGORIES = (  # category, responsible department, visit every N days, places per 100 grids
    ("加油加气站", "emergency", 30, 3), ("中小学校", "education", 30, 6), ("医院", "health", 30, 3),
    ("农贸市场", "market_regulation", 14, 4), ("养老机构", "civil_affairs", 14, 3), ("网吧", "culture_tourism", 30, 3),
    ("旅馆", "police", 30, 4), ("建筑工地", "housing_construction", 14, 5), ("危化品企业", "emergency", 7, 1),
    ("河道水库", "water_affairs", 14, 2), ("宗教活动场所", "ethnic_religious", 30, 2),
    ("地质灾害隐患点", "natural_resources", 14, 2), ("燃气调压站", "gas", 30, 2),
)
UNIT_KINDS = ("餐饮", "零售", "批发", "住宿", "物流", "制造", "建筑", "教育培训", "医疗", "物业", "社会组织", "机关事业单位")
ROOM_STRUCTURES = ("砖混", "框架", "钢混", "土木")
MAP_CENTRE, MAP_ZOOM = (103.83, 36.06), 9   # the map opens on 城关, the city proper, not the outline's middle


@dataclasses.dataclass
class DemoSummary:
    seed: int
    residents: int
    accounts: list[tuple[str, str, str]]  # username, password, what the account is for


class DemoAlreadyBuilt(RuntimeError):
    pass


def is_built(session: Session) -> bool:
    return bool(session.scalar(select(func.count()).select_from(Region)))


def build_demo(platform: Platform, *, seed: int = spec.DEFAULT_SEED, residents: int = spec.DEFAULT_RESIDENTS,
               show_progress: bool = True) -> DemoSummary:
    rng = random.Random(seed)
    with platform.db.session() as session:
        if is_built(session):
            raise DemoAlreadyBuilt("数据库中已有区划数据，演示城市只能建在空数据库中")
    # a percentage has no rate worth showing ("%/s"): the bar, the share done and the time left
    with tqdm(total=100, desc="演示城市", disable=not show_progress, leave=True,
              bar_format="{desc}: {percentage:3.0f}%|{bar}| 已用 {elapsed}，约剩 {remaining}") as bar:
        geography = build_geography(seed, progress=_scaled(bar, 40, TOTAL_STEPS))
        bar.n = 40
        bar.refresh()
        with platform.db.session() as session:
            builder = _Builder(session, platform, geography, rng, bar)
            builder.regions()
            builder.city()
            builder.departments()
            builder.grids()
            builder.grid_people()
            builder.base_data(residents)
            accounts = builder.accounts()
            counters.bump(session, GRIDS_COUNTER)
            record_change(session, system_actor("demo"), "demo.build", summary="生成演示城市",
                          details={"seed": seed, "residents": residents})
        bar.n = 100
        bar.refresh()
    return DemoSummary(seed=seed, residents=residents, accounts=accounts)


def _scaled(bar: tqdm, share: int, total: int) -> Callable[[int], None]:
    done = [0]

    def advance(step: int = 1) -> None:
        done[0] += step
        shown = min(share, int(share * done[0] / total)) if total else 0
        if shown != bar.n:  # redraw only when the bar moves: a log file gets a line per redraw
            bar.n = shown
            bar.refresh()
    return advance


def _bulk(session: Session, model, rows: list[dict], chunk: int = 5000) -> None:
    for start in range(0, len(rows), chunk):
        session.execute(insert(model), rows[start:start + chunk])


def _bbox(geometry) -> dict:
    min_lon, min_lat, max_lon, max_lat = geometry.bounds
    return {"min_lon": min_lon, "min_lat": min_lat, "max_lon": max_lon, "max_lat": max_lat}


def _sample_points(rng: random.Random, geometry, count: int) -> list[tuple[float, float]]:
    """`count` uniformly random points inside a polygon (rejection sampling in its bounding box)."""
    generator = np.random.default_rng(rng.randrange(2**32))
    min_lon, min_lat, max_lon, max_lat = geometry.bounds
    found: list[tuple[float, float]] = []
    shapely.prepare(geometry)
    while len(found) < count:
        lons = generator.uniform(min_lon, max_lon, count * 2 + 8)
        lats = generator.uniform(min_lat, max_lat, count * 2 + 8)
        inside = shapely.contains_xy(geometry, lons, lats)
        found.extend(zip(lons[inside].round(6).tolist(), lats[inside].round(6).tolist()))
    return found[:count]


class _Builder:
    def __init__(self, session: Session, platform: Platform, geography, rng: random.Random, bar: tqdm):
        self.session, self.platform, self.geography, self.rng, self.bar = session, platform, geography, rng, bar
        self.region_ids: dict[str, int] = {}
        self.region_names: dict[str, str] = {}
        self.grid_ids: dict[str, int] = {}
        self.small_grids: list = []
        self.person_id = 0
        self.department_ids: dict[str, int] = {}

    def _advance(self, to: int) -> None:
        if to != self.bar.n:
            self.bar.n = to
            self.bar.refresh()

    def regions(self) -> None:
        rows = []
        for index, area in enumerate(self.geography.regions, start=1):
            problem = code_problem(area.code, area.level, area.parent_code)
            if problem:  # bulk inserts skip the ORM's flush check, so the same rule is applied here
                raise ValueError(f"区划“{area.name}”：{problem}")
            self.region_ids[area.code] = index
            self.region_names[area.code] = area.name
            keep_geometry = area.geometry is not None and area.level != "group"
            rows.append({
                "id": index, "code": area.code, "name": area.name, "level": area.level,
                "parent_id": self.region_ids.get(area.parent_code), "urban": area.urban,
                "geometry": mapping(area.geometry) if keep_geometry else None,
                **(_bbox(area.geometry) if area.geometry is not None else {}),
            })
        _bulk(self.session, Region, rows)
        self._advance(45)

    def city(self) -> None:
        """Lanzhou initialised as any city is (`minqing init`): its root region, China Standard Time (the default
        zone, so not named here) and the map's default view."""
        root = self.geography.regions[0]
        city.initialise(self.session, system_actor("demo"), code=root.code, name=root.name, centre=MAP_CENTRE,
                        zoom=MAP_ZOOM)

    def departments(self) -> None:
        city_id = self.region_ids[self.geography.regions[0].code]
        sync_departments(self.session, self.platform.plugins, system_actor("demo"), region_id=city_id)
        self.department_ids = dict(self.session.execute(select(Department.key, Department.id)).all())

    def grids(self) -> None:
        rows = []
        for index, cell in enumerate(self.geography.grids, start=1):
            self.grid_ids[cell.code] = index
            rows.append({
                "id": index, "code": cell.code, "name": cell.name, "level": cell.level,
                "parent_id": self.grid_ids.get(cell.parent_code), "region_id": self.region_ids[cell.region_code],
                "region_code": cell.region_code, "dedicated": cell.dedicated, "colour": "blue",
                "colour_reason": "初始：暂无风险评估", "geometry": mapping(cell.geometry), **_bbox(cell.geometry),
            })
            if cell.level == "small":
                self.small_grids.append(cell)
        _bulk(self.session, Grid, rows)
        self._advance(50)

    def _person(self, rows: list[dict], region_code: str, title: str, department_key: str | None = None) -> int:
        self.person_id += 1
        rows.append({"id": self.person_id, "name": people.name(self.rng), "phone": people.mobile(self.rng),
                     "gender": self.rng.choice(("male", "female")), "title": title,
                     "region_id": self.region_ids.get(region_code),
                     "department_id": self.department_ids.get(department_key) if department_key else None})
        return self.person_id

    def grid_people(self) -> None:
        """1+4+X: a leader for every large and medium grid, full-time and part-time workers for small grids."""
        persons, members = [], []

        def member(grid_code: str, person_id: int, role: str) -> None:
            members.append({"grid_id": self.grid_ids[grid_code], "person_id": person_id, "role": role})

        led = [cell for cell in self.geography.grids if cell.level in ("large", "medium")]
        leaders = spec.GRID_MEMBERS["leader"]
        for index in range(leaders):  # the first grids get a deputy leader when there are more leaders than grids
            cell = led[index % len(led)]
            member(cell.code, self._person(persons, cell.region_code, "网格长"), "leader")

        ordinary = [cell for cell in self.small_grids if not cell.dedicated]
        rural = [cell for cell in ordinary if not cell.urban]
        urban = [cell for cell in ordinary if cell.urban]
        # Rural small grids first (3,823 of the full-time workers serve them), then urban ones; where there are
        # more workers than ordinary small grids, the busiest urban grids get a second full-time worker.
        full_time_rural = min(spec.RURAL_FULL_TIME, len(rural))
        others = urban + rural[full_time_rural:]
        wanted = spec.GRID_MEMBERS["full_time"] - full_time_rural
        staffed = rural[:full_time_rural] + [others[index % len(others)] for index in range(wanted)]
        for index, cell in enumerate(staffed):
            rural_group_leader = not cell.urban and index < spec.RURAL_GROUP_LEADERS
            member(cell.code, self._person(persons, cell.region_code,
                                           "村民小组长、专职网格员" if rural_group_leader else "专职网格员"), "full_time")

        part_time_titles = ("社区工作者", "辅警", "物业服务人员", "快递员", "网约车司机", "楼栋长", "志愿者")
        for index in range(spec.GRID_MEMBERS["part_time"]):
            cell = self.small_grids[(index * 7919) % len(self.small_grids)]
            member(cell.code, self._person(persons, cell.region_code, "兼职网格员·" + self.rng.choice(part_time_titles)),
                   "part_time")

        dedicated = [cell for cell in self.small_grids if cell.dedicated] or self.small_grids
        for index in range(spec.GRID_MEMBERS["dedicated"]):
            cell = dedicated[index % len(dedicated)]
            member(cell.code, self._person(persons, cell.region_code, "专属网格员"), "dedicated")

        _bulk(self.session, Person, persons)
        _bulk(self.session, GridMember, members)
        self.workers_by_grid: dict[int, int] = {}
        for row in members:
            self.workers_by_grid.setdefault(row["grid_id"], row["person_id"])
        self._advance(55)

    def base_data(self, resident_count: int) -> None:
        _BaseData(self).build(resident_count)

    def accounts(self) -> list[tuple[str, str, str]]:
        return _demo_accounts(self)


class _BaseData:
    """一标三实 for every small grid: addresses, houses, households and residents; units; key persons and places."""

    def __init__(self, builder: _Builder):
        self.b = builder
        self.rng = builder.rng
        self.key = lookup_key(builder.session)
        self.today = dt.date(2026, 11, 24)
        self.used_numbers: set[str] = set()

    def build(self, resident_count: int) -> None:
        weights = [4.0 if cell.urban else 1.0 for cell in self.b.small_grids]
        total = sum(weights)
        per_grid = [int(resident_count * w / total) for w in weights]
        for index in range(resident_count - sum(per_grid)):
            per_grid[index % len(per_grid)] += 1
        addresses, houses, households, residents = [], [], [], []
        for number, (cell, count) in enumerate(zip(self.b.small_grids, per_grid)):
            self._grid_population(cell, count, addresses, houses, households, residents)
            if number % 500 == 0:
                self.b._advance(55 + int(25 * number / len(self.b.small_grids)))
        session = self.b.session
        _bulk(session, Address, addresses)
        _bulk(session, House, houses)
        _bulk(session, Household, households)
        _bulk(session, Resident, residents)
        self.b._advance(85)
        self._key_persons(residents)
        self._units_and_places()
        self.b._advance(95)

    def _grid_population(self, cell, count: int, addresses, houses, households, residents) -> None:
        if count <= 0:
            return
        sizes = []
        remaining = count
        while remaining > 0:
            size = min(remaining, self.rng.choice((1, 2, 2, 3, 3, 3, 4, 4, 5)))
            sizes.append(size)
            remaining -= size
        points = _sample_points(self.rng, cell.geometry, len(sizes))
        county_code = cell.region_code[:6]
        place = self._place_name(cell.region_code)
        grid_id = self.b.grid_ids[cell.code]
        for size, (lon, lat) in zip(sizes, points):
            address_id = len(addresses) + 1
            if cell.urban:
                text_ = f"{place}{self.rng.randint(1, 40)}号楼{self.rng.randint(1, 6)}单元{self.rng.randint(1, 30)}0{self.rng.randint(1, 4)}室"
            else:
                text_ = f"{place}{self.rng.randint(1, 200)}号"
            located = {"grid_id": grid_id, "region_code": cell.region_code}
            addresses.append({"id": address_id, "code": f"{cell.region_code}{address_id:08d}", "text": text_,
                              "lon": lon, "lat": lat, **located})
            houses.append({"id": address_id, "address_id": address_id,
                           "kind": "residential" if cell.urban else "self_built",
                           "structure": self.rng.choice(ROOM_STRUCTURES[:3] if cell.urban else ROOM_STRUCTURES),
                           "floors": self.rng.randint(6, 33) if cell.urban else self.rng.randint(1, 3),
                           "area_m2": round(self.rng.uniform(45, 160), 1),
                           "built_year": self.rng.randint(1975, 2024), "owner_name": "", **located})
            household_id = len(households) + 1
            members = [self._resident(len(residents) + i + 1, county_code, household_id, i, located)
                       for i in range(size)]
            residents.extend(members)
            houses[-1]["owner_name"] = members[0]["name"]
            households.append({"id": household_id, "number": f"HH{household_id:09d}", "house_id": address_id,
                               "head_name": members[0]["name"], "size": size, **located,
                               "last_visit_at": None if self.rng.random() < 0.03 else
                               dt.datetime(2026, 1, 1, tzinfo=dt.UTC) + dt.timedelta(days=self.rng.randint(0, 320))})

    def _place_name(self, group_code: str) -> str:
        names = self.b.region_names
        county, township, village = group_code[:6] + "000000", group_code[:9] + "000", group_code[:12]
        return f"{names.get(county, '')}{names.get(township, '')}{names.get(village, '')}{names.get(group_code, '')}"

    def _resident(self, resident_id: int, county_code: str, household_id: int, position: int, located) -> dict:
        if position == 0:
            age, relation = self.rng.randint(25, 85), "户主"
        elif position == 1:
            age, relation = self.rng.randint(22, 85), "配偶"
        else:
            age, relation = self.rng.randint(0, 40), "子女"
        born = self.today - dt.timedelta(days=age * 365 + self.rng.randint(0, 364))
        sequence = self.rng.randrange(1000)
        number = idcard.make(county_code, born, sequence)
        while number in self.used_numbers:  # two people may not share a number: take the next sequence
            sequence = (sequence + 2) % 1000  # + 2 keeps the sex digit
            number = idcard.make(county_code, born, sequence)
        self.used_numbers.add(number)
        return {"id": resident_id, "name": people.name(self.rng), "id_number": number,
                "id_digest": id_digest(self.key, number), "gender": idcard.sex(number), "birth_date": born,
                "phone": people.mobile(self.rng) if age >= 16 else None, "household_id": household_id,
                "relation": relation, "residency": "floating" if self.rng.random() < 0.12 else "registered",
                **located}

    def _key_persons(self, residents: list[dict]) -> None:
        rows = []
        for category, every, per_mille in KEY_PERSON_CATEGORIES:
            for resident in self.rng.sample(residents, max(1, int(len(residents) * per_mille / 1000))):
                last = dt.datetime(2026, 11, 24, tzinfo=dt.UTC) - dt.timedelta(days=self.rng.randint(0, every * 2))
                rows.append({"resident_id": resident["id"], "category": category,
                             "risk_level": self.rng.choice(("low", "low", "medium", "high")),
                             "visit_every_days": every, "last_visit_at": last,
                             "next_visit_due": (last + dt.timedelta(days=every)).date(),
                             "responsible_person_id": self.b.workers_by_grid.get(resident["grid_id"]),
                             "grid_id": resident["grid_id"], "region_code": resident["region_code"]})
        _bulk(self.b.session, KeyPerson, rows)

    def _units_and_places(self) -> None:
        units, places = [], []
        grids = self.b.small_grids
        for serial, cell in enumerate(grids):
            located = {"grid_id": self.b.grid_ids[cell.code], "region_code": cell.region_code}
            unit_count = self.rng.randint(2, 5) if cell.urban else self.rng.randint(0, 2)
            for lon, lat in _sample_points(self.rng, cell.geometry, unit_count):
                kind = self.rng.choice(UNIT_KINDS)
                units.append({"name": f"{self._place_name(cell.region_code)[-8:]}{kind}{len(units) + 1}号",
                              "credit_code": uscc.make("91", cell.region_code, len(units) + 1),
                              "kind": kind, "lon": lon, "lat": lat, "contact_name": people.name(self.rng),
                              "contact_phone": people.mobile(self.rng), "employees": self.rng.randint(1, 200),
                              **located})
        for category, department, every, per_hundred in KEY_PLACE_CATEGORIES:
            for cell in self.rng.sample(grids, len(grids) * per_hundred // 100):
                (lon, lat), = _sample_points(self.rng, cell.geometry, 1)
                last = dt.datetime(2026, 11, 24, tzinfo=dt.UTC) - dt.timedelta(days=self.rng.randint(0, every * 2))
                places.append({"name": f"{self._place_name(cell.region_code)[-6:]}{category}",
                               "category": category, "department_key": department,
                               "address_text": self._place_name(cell.region_code), "lon": lon, "lat": lat,
                               "visit_every_days": every, "last_visit_at": last,
                               "next_visit_due": (last + dt.timedelta(days=every)).date(),
                               "responsible_person_id": self.b.workers_by_grid.get(self.b.grid_ids[cell.code]),
                               "grid_id": self.b.grid_ids[cell.code], "region_code": cell.region_code})
        _bulk(self.b.session, Unit, units)
        _bulk(self.b.session, KeyPlace, places)


def _demo_accounts(builder: _Builder) -> list[tuple[str, str, str]]:
    """One account per role, with scopes that make each role's view meaningful; returned for printing."""
    from minqing.core.accounts.passwords import hash_password

    session = builder.session
    regions = builder.geography.regions
    city = regions[0]
    county = next(area for area in regions if area.level == "county")
    township = next(area for area in regions if area.level == "township" and area.parent_code == county.code)
    small = builder.small_grids[0]
    large = next(cell for cell in builder.geography.grids if cell.level == "large")
    password_hash = hash_password(DEMO_PASSWORD)
    plans = [
        ("admin", "系统管理员", [("admin", None, None, None)], "系统管理员：插件、用户与部门"),
        ("city", "市指挥中心值班员", [("operator", city.code, None, None)], "市社会治理中心：全市受理分拨与督办"),
        ("county", f"{county.name}分中心值班员", [("operator", county.code, None, None)], f"{county.name}分中心"),
        ("township", f"{township.name}指挥所值班员", [("operator", township.code, None, None)],
         f"{township.name}指挥所"),
        ("chengguan", "城管局处置员", [("department_staff", None, "urban_management", None)], "职能部门：兰州市城市管理局"),
        ("gridworker", "网格员", [("grid_worker", None, None, small.code)], f"专职网格员：{small.name}"),
        ("gridleader", "网格长", [("grid_worker", None, None, large.code)], f"网格长：{large.name}"),
        ("leader", "市领导", [("leader", city.code, None, None)], "领导：小兰民情总览"),
        ("auditor", "安全审计员", [("auditor", None, None, None)], "审计员：只读审计日志"),
        ("citizen", "市民张三", [("citizen", None, None, None)], "群众：小兰帮办"),
    ]
    printed = []
    for username, display_name, grants, purpose in plans:
        account = Account(username=username, display_name=display_name, password_hash=password_hash,
                          phone="13800000000" if username == "citizen" else None)
        for role, region_code, department_key, grid_code in grants:
            account.grants.append(RoleGrant(
                role=role, region_id=builder.region_ids.get(region_code) if region_code else None,
                department_id=builder.department_ids.get(department_key) if department_key else None,
                grid_id=builder.grid_ids.get(grid_code) if grid_code else None))
        session.add(account)
        printed.append((username, DEMO_PASSWORD, purpose))
    session.flush()
    _reset_sequences(session)
    return printed


def demo_accounts(session: Session) -> list[tuple[str, str, str]]:
    """The demo accounts that still have the demo password: (username, password, display name)."""
    from minqing.core.accounts.passwords import verify_password

    rows = session.execute(select(Account.username, Account.display_name, Account.password_hash)
                           .order_by(Account.id)).all()
    return [(username, DEMO_PASSWORD, name) for username, name, password_hash in rows
            if verify_password(password_hash, DEMO_PASSWORD)]


def _reset_sequences(session: Session) -> None:
    """PostgreSQL: move id sequences past the ids the bulk inserts assigned."""
    if session.get_bind().dialect.name != "postgresql":
        return
    for table in ("regions", "grids", "persons", "addresses", "houses", "households", "residents"):
        session.execute(text(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                             f"coalesce((SELECT max(id) FROM {table}), 1))"))
