"""Build the Lanzhou-scale demo city into an empty database, deterministically from a seed, through the doors a
real city uses (README, "Run your own city"), so the demo and a real city cannot drift apart:

1. the city's settings as `minqing init` stores them: its root region, time zone and default map view;
2. its regions, grids and staff roster written as files (`city_files.py`, the formats of docs/setup.md) into a
   temporary folder and loaded by the importers of `minqing import regions|grids|accounts`
   (`minqing.core.importing`), with every check they make;
3. the departments the enabled plugins declare, as `minqing upgrade` creates them.

What no importer covers is written in bulk through `minqing.core.models`: the grid workforce that has no
accounts (1+4+X: 14,218 grid members, not users; the 3,745 village group leaders among the full-time workers
are roster cadres), the demo citizen (citizens are not on a staff roster) and the demo password (a roster
carries none), and the base data 一标三实 (`base_data.py`). Bulk inserts with ids assigned
here are what make 200,000 residents fit in well under a minute on SQLite.
"""
from __future__ import annotations

import dataclasses
import random
import tempfile
from collections.abc import Callable
from pathlib import Path

from sqlalchemy import func, select, text
from sqlalchemy.orm import Session
from tqdm import tqdm

from minqing.core import city, importing
from minqing.core.accounts.passwords import hash_password, verify_password
from minqing.core.actors import system_actor
from minqing.core.changes import record_change
from minqing.core.departments import sync_departments
from minqing.core.models import Account, Department, Grid, GridMember, Person, Region, RoleGrant, utcnow

from . import cadre_roster, city_files, people, spec
from .base_data import BaseData, bulk
from .geography import TOTAL_STEPS, build_geography

DEMO_PASSWORD = "Minqing#2026"
MAP_CENTRE, MAP_ZOOM = (103.83, 36.06), 9   # the map opens on 城关, the city proper, not the outline's middle
CITIZEN = ("citizen", "市民张三", "13800000000", "群众：小兰帮办")   # username, name, phone, purpose


@dataclasses.dataclass
class DemoSummary:
    seed: int
    residents: int
    accounts: list[tuple[str, str, str]]  # username, password, what the account is for
    imports: dict[str, dict[str, int]] = dataclasses.field(default_factory=dict)  # kind → the importer's counts


class DemoAlreadyBuilt(RuntimeError):
    pass


class DemoFileRefused(RuntimeError):
    """The importers refused a file the generator wrote: the demo city broke one of a real city's rules."""


def is_built(session: Session) -> bool:
    return bool(session.scalar(select(func.count()).select_from(Region)))


def roster(geography) -> list[tuple[tuple[str, str, str, str, str, str], str]]:
    """The demo's staff accounts as roster rows (username, name, phone, role, scope, grid_code), with what each
    is for: one account per role, with scopes that make each role's view meaningful (the cadres, with their post
    and grids, are `cadre_roster.py`'s)."""
    regions = geography.regions
    top = regions[0]
    county = next(area for area in regions if area.level == "county")
    township = next(area for area in regions if area.level == "township" and area.parent_code == county.code)
    small = next(cell for cell in geography.grids if cell.level == "small")
    large = next(cell for cell in geography.grids if cell.level == "large")
    return [
        (("admin", "系统管理员", "", "admin", "", ""), "系统管理员：插件、用户与部门"),
        (("city", "市指挥中心值班员", "", "operator", top.code, ""), "市社会治理中心：全市受理分拨与督办"),
        (("county", f"{county.name}分中心值班员", "", "operator", county.code, ""), f"{county.name}分中心"),
        (("township", f"{township.name}指挥所值班员", "", "operator", township.code, ""), f"{township.name}指挥所"),
        (("chengguan", "城管局处置员", "", "department_staff", "urban_management", ""), "职能部门：兰州市城市管理局"),
        (("shichang", "市场监管局处置员", "", "department_staff", "market_regulation", ""),
         "职能部门：兰州市市场监督管理局"),
        (("gongshui", "供水企业处置员", "", "department_staff", "water_supply", ""), "职能部门：兰州威立雅水务集团（供水）"),
        (("gridworker", "网格员", "", "grid_worker", "", small.code), f"专职网格员：{small.name}"),
        (("gridleader", "网格长", "", "grid_worker", "", large.code), f"网格长：{large.name}"),
        (("leader", "市领导", "", "leader", top.code, ""), "领导：小兰民情总览"),
        (("auditor", "安全审计员", "", "auditor", "", ""), "审计员：只读审计日志"),
    ]


def build_demo(platform, *, seed: int = spec.DEFAULT_SEED, residents: int = spec.DEFAULT_RESIDENTS,
               show_progress: bool = True) -> DemoSummary:
    rng = random.Random(seed)
    actor = system_actor("demo")
    with platform.db.session() as session:
        if is_built(session):
            raise DemoAlreadyBuilt("数据库中已有区划数据，演示城市只能建在空数据库中")
    # a percentage has no rate worth showing ("%/s"): the bar, the share done and the time left
    with tqdm(total=100, desc="演示城市", disable=not show_progress, leave=True,
              bar_format="{desc}: {percentage:3.0f}%|{bar}| 已用 {elapsed}，约剩 {remaining}") as bar:
        geography = build_geography(seed, progress=_scaled(bar, 30, TOTAL_STEPS))
        staff = roster(geography)
        cadre_staff = cadre_roster.cadre_rows(geography, seed)
        imports: dict[str, dict[str, int]] = {}
        with tempfile.TemporaryDirectory(prefix="minqing-demo-") as folder:
            folder = Path(folder)
            with platform.db.session() as session:   # `minqing init`
                top = geography.regions[0]
                city.initialise(session, actor, code=top.code, name=top.name, centre=MAP_CENTRE, zoom=MAP_ZOOM)
            imports["regions"] = _load(platform, "regions", city_files.write_regions(geography, folder), actor)
            _move(bar, 36)
            with platform.db.session() as session:   # `minqing upgrade`: the departments the plugins declare
                sync_departments(session, platform.plugins, actor)
            grids = city_files.write_grids(geography, folder)
            _move(bar, 45)
            imports["grids"] = _load(platform, "grids", grids, actor)
            _move(bar, 58)
            accounts = city_files.write_roster([row for row, _purpose in staff + cadre_staff], folder)
            imports["accounts"] = _load(platform, "accounts", accounts, actor)
        with platform.db.session() as session:
            builder = Builder(session, geography, rng, bar)
            builder.grid_people(staff + cadre_staff)
            BaseData(builder).build(residents)
            printed = builder.accounts(staff + cadre_staff[:1])   # the named demo cadre first among the cadres
            _reset_sequences(session)
            record_change(session, actor, "demo.build", summary="生成演示城市",
                          details={"seed": seed, "residents": residents, "imports": imports})
        _move(bar, 100)
    return DemoSummary(seed=seed, residents=residents, accounts=printed, imports=imports)


def _load(platform, kind: str, path: Path, actor) -> dict[str, int]:
    """One file through the importer `minqing import KIND FILE` uses; the demo stops at the first refusal."""
    summary = importing.import_city_file(platform, kind, path, actor=actor)
    if summary.problems:
        shown = "；".join(f"{problem.where} {problem.code} {problem.field}：{problem.message}"
                         for problem in summary.problems[:5])
        raise DemoFileRefused(f"演示城市的{kind}文件未通过导入检查（{len(summary.problems)} 个问题）：{shown}")
    return dict(summary.counts)


def _move(bar: tqdm, to: int) -> None:
    if to != bar.n:  # redraw only when the bar moves: a log file gets a line per redraw
        bar.n = to
        bar.refresh()


def _scaled(bar: tqdm, share: int, total: int) -> Callable[[int], None]:
    done = [0]

    def advance(step: int = 1) -> None:
        done[0] += step
        _move(bar, min(share, int(share * done[0] / total)) if total else 0)
    return advance


class Builder:
    """The imported city's ids by code, for the rows written in bulk after the imports."""

    def __init__(self, session: Session, geography, rng: random.Random, bar: tqdm):
        self.session, self.geography, self.rng, self.bar = session, geography, rng, bar
        self.region_ids = dict(session.execute(select(Region.code, Region.id)).all())
        self.region_names = dict(session.execute(select(Region.code, Region.name)).all())
        self.grid_ids = dict(session.execute(select(Grid.code, Grid.id)).all())
        self.department_ids = dict(session.execute(select(Department.key, Department.id)).all())
        self.small_grids = [cell for cell in geography.grids if cell.level == "small"]
        self.person_id = session.scalar(select(func.max(Person.id))) or 0
        self.workers_by_grid: dict[int, int] = {}

    def advance(self, to: int) -> None:
        _move(self.bar, to)

    def _person(self, rows: list[dict], region_code: str, title: str) -> int:
        self.person_id += 1
        rows.append({"id": self.person_id, "name": people.name(self.rng), "phone": people.mobile(self.rng),
                     "gender": self.rng.choice(("male", "female")), "title": title,
                     "region_id": self.region_ids.get(region_code), "department_id": None})
        return self.person_id

    def grid_people(self, staff) -> None:
        """1+4+X: a leader for every large and medium grid, full-time and part-time workers for small grids. The
        roster's grid workers (the village group leaders among them) are grid members already (the account import
        made them so): the workforce without accounts is the seed numbers less them, on the grids they leave."""
        persons, members = [], []
        levels = {cell.code: cell.level for cell in self.geography.grids}
        rostered = {row[5] for row, _purpose in staff if row[5]}
        on_roster = [levels[row[5]] for row, _purpose in staff if row[5]]

        def member(grid_code: str, person_id: int, role: str) -> None:
            members.append({"grid_id": self.grid_ids[grid_code], "person_id": person_id, "role": role})

        led = [cell for cell in self.geography.grids if cell.level in ("large", "medium")]
        leaders = spec.GRID_MEMBERS["leader"] - sum(level != "small" for level in on_roster)
        for index in range(leaders):  # the first grids get a deputy leader when there are more leaders than grids
            cell = led[index % len(led)]
            member(cell.code, self._person(persons, cell.region_code, "网格长"), "leader")

        ordinary = [cell for cell in self.small_grids if not cell.dedicated]
        rural = [cell for cell in ordinary if not cell.urban]
        urban = [cell for cell in ordinary if cell.urban]
        # Rural small grids first (3,823 of the full-time workers serve them; the first 3,745 are the roster's
        # village group leaders), then urban ones; where there are more workers than ordinary small grids, the
        # busiest urban grids get a second full-time worker.
        full_time_rural = min(spec.RURAL_FULL_TIME, len(rural))
        rural_staffed = [cell for cell in rural[:full_time_rural] if cell.code not in rostered]
        others = urban + rural[full_time_rural:]
        wanted = spec.GRID_MEMBERS["full_time"] - sum(level == "small" for level in on_roster) - len(rural_staffed)
        for cell in rural_staffed + [others[index % len(others)] for index in range(wanted)]:
            member(cell.code, self._person(persons, cell.region_code, "专职网格员"), "full_time")

        part_time_titles = ("社区工作者", "辅警", "物业服务人员", "快递员", "网约车司机", "楼栋长", "志愿者")
        for index in range(spec.GRID_MEMBERS["part_time"]):
            cell = self.small_grids[(index * 7919) % len(self.small_grids)]
            member(cell.code, self._person(persons, cell.region_code, "兼职网格员·" + self.rng.choice(part_time_titles)),
                   "part_time")

        dedicated = [cell for cell in self.small_grids if cell.dedicated] or self.small_grids
        for index in range(spec.GRID_MEMBERS["dedicated"]):
            cell = dedicated[index % len(dedicated)]
            member(cell.code, self._person(persons, cell.region_code, "专属网格员"), "dedicated")

        bulk(self.session, Person, persons)
        bulk(self.session, GridMember, members)
        for row in members:
            self.workers_by_grid.setdefault(row["grid_id"], row["person_id"])
        self.advance(65)

    def accounts(self, staff) -> list[tuple[str, str, str]]:
        """The demo password for the imported staff accounts (a roster carries none) and the demo citizen, who in
        a real city registers with an SMS code; returned for printing."""
        session = self.session
        username, name, phone, purpose = CITIZEN
        citizen = Account(username=username, display_name=name, phone=phone)
        citizen.grants.append(RoleGrant(role="citizen"))
        session.add(citizen)
        password_hash, now = hash_password(DEMO_PASSWORD), utcnow()
        usernames = [row[0] for row, _purpose in staff] + [username]
        for account in session.scalars(select(Account).where(Account.username.in_(usernames))):
            account.password_hash, account.password_changed_at = password_hash, now
            account.password_must_change = False
        session.flush()
        record_change(session, system_actor("demo"), "demo.accounts", object_type="account",
                      summary=f"演示账号设置演示密码 {len(usernames)} 个（含群众账号 {username}）",
                      details={"accounts": usernames})
        return [(row[0], DEMO_PASSWORD, purpose) for row, purpose in staff] + [(username, DEMO_PASSWORD, purpose)]


def demo_accounts(session: Session) -> list[tuple[str, str, str]]:
    """The demo accounts that still have the demo password: (username, password, display name)."""
    rows = session.execute(select(Account.username, Account.display_name, Account.password_hash)
                           .where(Account.password_hash.is_not(None)).order_by(Account.id)).all()
    return [(username, DEMO_PASSWORD, name) for username, name, password_hash in rows
            if verify_password(password_hash, DEMO_PASSWORD)]


def _reset_sequences(session: Session) -> None:
    """PostgreSQL: move id sequences past the ids the bulk inserts assigned."""
    if session.get_bind().dialect.name != "postgresql":
        return
    for table in ("persons", "addresses", "houses", "households", "residents"):
        session.execute(text(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                             f"coalesce((SELECT max(id) FROM {table}), 1))"))
