"""A small world with two sides for the canary and authorization-matrix tests.

Side A (城关区 620102, 张掖路街道) holds the planted resident and key person, a case, an attachment, a key place, a
unit, a visit, a theme record and a theme draft of 城管; side B (七里河区 620103) holds the same kinds of object
for other people. Every role has an account scoped to side A (and a few to side B), so "in scope" is A and
"out of scope" is B for everyone but the administrator.
"""
from __future__ import annotations

import dataclasses
import datetime as dt
import io

from PIL import Image
from shapely.geometry import box, mapping

from minqing import themes, workflows
from minqing.core import apikeys, attachments, idcard
from minqing.core.actors import actor_for, system_actor
from minqing.core.departments import sync_departments
from minqing.core.masking import id_digest
from minqing.core.models import (Account, Address, Case, Department, Grid, House, Household, KeyPerson, KeyPlace,
                                 Publication, Region, Resident, RoleGrant, ThemeRecord, Unit, Visit)
from minqing.core.passwords import hash_password
from minqing.core.settings import lookup_key

PASSWORD = "Trust#Pass2026"
BIRTH = dt.date(1937, 8, 29)
CANARY_ID = idcard.make("620102001001", BIRTH, 517)
CANARY_BIRTH_DIGITS = BIRTH.strftime("%Y%m%d")
CANARY_PHONE = "15809317264"
CANARY_ADDRESS = "城关区张掖路街道永昌路社区幸福巷47号楼3单元1502室"
OTHER_ID = idcard.make("620103001001", dt.date(1968, 4, 11), 233)
OTHER_PHONE = "18693150842"
A_POINT, B_POINT = (103.82, 36.05), (103.72, 36.05)

REGIONS = [("620100000000", "兰州市", "city", None), ("620102000000", "城关区", "county", "620100000000"),
           ("620102001000", "张掖路街道", "township", "620102000000"),
           ("620102001001", "永昌路社区", "village", "620102001000"),
           ("620102002000", "酒泉路街道", "township", "620102000000"),
           ("620103000000", "七里河区", "county", "620100000000"),
           ("620103001000", "西园街道", "township", "620103000000"),
           ("620103001001", "西园社区", "village", "620103001000")]
GRIDS = [("G620102001", "张掖路大网格", "large", None, "620102001000", (103.80, 36.00, 103.90, 36.10)),
         ("G620102001001", "永昌路中网格", "medium", "G620102001", "620102001001", (103.80, 36.00, 103.85, 36.10)),
         ("G620102001001001", "永昌路第1网格", "small", "G620102001001", "620102001001", (103.80, 36.00, 103.85, 36.10)),
         ("G620102002", "酒泉路大网格", "large", None, "620102002000", (103.90, 36.00, 104.00, 36.10)),
         ("G620103001", "西园大网格", "large", None, "620103001001", (103.70, 36.00, 103.75, 36.10))]
# username → role, scope (a region code, a grid code or a department key)
ACCOUNTS = {
    "admin": ("admin", None), "auditor": ("auditor", None),
    "citizen": ("citizen", None), "citizen_b": ("citizen", None),
    "worker": ("grid_worker", "G620102001001001"), "worker_b": ("grid_worker", "G620103001"),
    "worker_jq": ("grid_worker", "G620102002"),
    "staff": ("department_staff", "urban_management"), "staff_b": ("department_staff", "water_affairs"),
    "operator": ("operator", "620102001000"), "operator_b": ("operator", "620103000000"),
    "leader": ("leader", "620102000000"), "leader_b": ("leader", "620103000000"),
}
THEME_A, THEME_B = "urban_management.street_vending", "water_affairs.river_patrol"


@dataclasses.dataclass
class TrustWorld:
    accounts: dict[str, int]
    keys: dict[str, str]                          # username → API key
    a: dict[str, object]                          # side A: object kind → id
    b: dict[str, object]                          # side B
    regions: dict[str, int]
    grids: dict[str, int]


def _jpeg() -> bytes:
    output = io.BytesIO()
    Image.new("RGB", (8, 8), (200, 30, 30)).save(output, format="JPEG")
    return output.getvalue()


def _geography(session) -> tuple[dict, dict]:
    regions, grids = {}, {}
    for code, name, level, parent in REGIONS:
        region = Region(code=code, name=name, level=level, parent_id=regions.get(parent), urban=True)
        session.add(region)
        session.flush()
        regions[code] = region.id
    for code, name, level, parent, region, bounds in GRIDS:
        shape = box(*bounds)
        grid = Grid(code=code, name=name, level=level, parent_id=grids.get(parent), region_id=regions[region],
                    region_code=region, geometry=mapping(shape), min_lon=bounds[0], min_lat=bounds[1],
                    max_lon=bounds[2], max_lat=bounds[3])
        session.add(grid)
        session.flush()
        grids[code] = grid.id
    return regions, grids


def _accounts(session, regions, grids, departments) -> dict[str, int]:
    password = hash_password(PASSWORD)
    ids = {}
    for username, (role, where) in ACCOUNTS.items():
        scope = {}
        if role in ("operator", "leader"):
            scope = {"region_id": regions[where]}
        elif role == "grid_worker":
            scope = {"grid_id": grids[where]}
        elif role == "department_staff":
            scope = {"department_id": departments[where]}
        account = Account(username=username, display_name=username, password_hash=password)
        account.grants.append(RoleGrant(role=role, **scope))
        session.add(account)
        session.flush()
        ids[username] = account.id
    return ids


def _people(session, side: str, grid_id: int, region_code: str, number: str, phone: str, address: str) -> dict:
    key = lookup_key(session)
    place = Address(code=f"ADDR-{side}", text=address, grid_id=grid_id, region_code=region_code,
                    lon=A_POINT[0] if side == "a" else B_POINT[0], lat=36.05)
    session.add(place)
    session.flush()
    house = House(address_id=place.id, kind="residential", grid_id=grid_id, region_code=region_code)
    session.add(house)
    session.flush()
    household = Household(number=f"HH-{side}", house_id=house.id, head_name=f"户主{side}", grid_id=grid_id,
                          region_code=region_code)
    session.add(household)
    session.flush()
    resident = Resident(name=f"居民{side.upper()}", id_number=number, id_digest=id_digest(key, number),
                        gender=idcard.sex(number), birth_date=idcard.birth_date(number), phone=phone,
                        household_id=household.id, relation="户主", grid_id=grid_id, region_code=region_code)
    session.add(resident)
    session.flush()
    key_person = KeyPerson(resident_id=resident.id, category="社区矫正", risk_level="high", grid_id=grid_id,
                           region_code=region_code, next_visit_due=dt.date.today(),
                           note=f"身份证 {number}，电话 {phone}，住 {address}")
    key_place = KeyPlace(name=f"重点场所{side}", category="加油站", address_text=address, grid_id=grid_id,
                         region_code=region_code, next_visit_due=dt.date.today(), lon=place.lon, lat=place.lat)
    unit = Unit(name=f"单位{side}", kind="企业", address_id=place.id, contact_name="联系人", contact_phone=phone,
                grid_id=grid_id, region_code=region_code)
    session.add_all([key_person, key_place, unit])
    session.flush()
    visit = Visit(target_kind="key_person", target_id=key_person.id, grid_id=grid_id, region_code=region_code,
                  summary=f"走访 {number}，电话 {phone}")
    session.add(visit)
    session.flush()
    return {"resident": resident.id, "key_person": key_person.id, "key_place": key_place.id, "unit": unit.id,
            "household": household.id, "visit": visit.id, "address": place.id}


def _case(platform, session, reporter: Account, theme: str, department_id: int, point, number: str,
          phone: str, address: str) -> tuple[Case, str]:
    actor = actor_for(session, reporter, "test")
    case = workflows.report_case(platform, session, actor, theme_key=theme, title="占道经营",
                                 description=f"反映人身份证 {number}，电话 {phone}，地址 {address}",
                                 lon=point[0], lat=point[1], source="citizen", reporter_name="反映人",
                                 reporter_phone=phone, address=address)
    case.department_id = department_id
    attachment = attachments.store(session, actor, _jpeg(), "现场.jpg", case_id=case.id)
    session.flush()
    return case, attachment.id


def build(platform, *, with_drafts: bool = True) -> TrustWorld:
    system = system_actor("test")
    with platform.db.session() as session:
        regions, grids = _geography(session)
        sync_departments(session, platform.plugins, system, region_id=regions["620100000000"])
        departments = {d.key: d.id for d in session.query(Department)}
        themes.sync_themes(platform, session, system)
        accounts = _accounts(session, regions, grids, departments)
        session.commit()
    platform.locator()  # the grids changed
    with platform.db.session() as session:
        a = _people(session, "a", grids["G620102001001001"], "620102001001", CANARY_ID, CANARY_PHONE, CANARY_ADDRESS)
        b = _people(session, "b", grids["G620103001"], "620103001001", OTHER_ID, OTHER_PHONE,
                    "七里河区西园街道西园社区建西东路12号楼2单元301室")
        case_a, a["attachment"] = _case(platform, session, session.get(Account, accounts["citizen"]), THEME_A,
                                        departments["urban_management"], A_POINT, CANARY_ID, CANARY_PHONE,
                                        CANARY_ADDRESS)
        case_b, b["attachment"] = _case(platform, session, session.get(Account, accounts["citizen_b"]), THEME_B,
                                        departments["water_affairs"], B_POINT, OTHER_ID, OTHER_PHONE, "西园社区")
        a["case"], b["case"] = case_a.id, case_b.id
        for side, theme, department, point, number in (("a", THEME_A, "urban_management", A_POINT, CANARY_ID),
                                                       ("b", THEME_B, "water_affairs", B_POINT, OTHER_ID)):
            record = ThemeRecord(theme_key=theme, theme_version=1, department_key=department,
                                 form_data={"note": f"联系人身份证 {number}"}, lon=point[0], lat=point[1],
                                 grid_id=grids["G620102001001001" if side == "a" else "G620103001"],
                                 region_code="620102001001" if side == "a" else "620103001001")
            session.add(record)
            session.flush()
            (a if side == "a" else b)["record"] = record.id
        publication = Publication(department_id=departments["urban_management"], kind="政策", title="便民政策",
                                  summary="政策摘要", body="正文")
        session.add(publication)
        session.flush()
        a["publication"], b["publication"] = publication.id, 999_999  # b: a guessed id
        keys = {username: apikeys.create(session, system, username, "trust test")[1] for username in ACCOUNTS}
        session.commit()
    if with_drafts:
        _drafts(platform, accounts, a, b)
    return TrustWorld(accounts=accounts, keys=keys, a=a, b=b, regions=regions, grids=grids)


def _drafts(platform, accounts, a, b) -> None:
    """Theme drafts of 城管 (side A's department) and of 水务 (side B's), when the theme builder is installed."""
    try:
        from minqing.core.models import ThemeDraft
    except ImportError:
        return
    with platform.db.session() as session:
        for side, department, key in (("a", "urban_management", "urban_management.trust_draft"),
                                      ("b", "water_affairs", "water_affairs.trust_draft")):
            draft = ThemeDraft(theme_key=key, department_key=department, document={"key": key, "title": "草稿"},
                               created_by="test")
            session.add(draft)
            session.flush()
            (a if side == "a" else b)["draft"] = draft.id
            (a if side == "a" else b)["draft_key"] = key
        session.commit()
