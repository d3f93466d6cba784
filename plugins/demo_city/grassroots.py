"""The demo's grassroots work (走村不漏户、户户见干部): household visits by cadres and grid workers over this month
and the one before, the key grids its village party secretaries hold (党组织书记包抓重点网格, 1,158 in the seed) and
the 帮办实事 ledger (1.57万 in the seed), written in bulk (`base_data.bulk`: COPY on PostgreSQL, executemany
elsewhere) `CHUNK` rows at a time, with one audit record per chunk, each phase with its progress bar: at the city's
4.4 million residents that is ~1.2 million visits and ~345,000 matters.

It runs after the grids are coloured (`plugin.build_city`): a key grid is a small grid that was red or yellow when
its secretary took it on; most still are, some have since turned blue (好转). A few matters name residents whose
phone is the demo citizen's, so 小兰帮办 shows them.
"""
from __future__ import annotations

import dataclasses
import datetime as dt
import random

from sqlalchemy import func, select, text, update
from tqdm import tqdm

from minqing.core import city
from minqing.core.actors import system_actor
from minqing.core.changes import record_change
from minqing.core.models import (Account, CadreGrid, CadrePost, Grid, GridMember, Household, KeyGrid,
                                 PracticalMatter, Region, Resident, Visit, utcnow)

from . import matter_texts
from .base_data import bulk
from .build import CITIZEN

KEY_GRIDS, SMALL_GRIDS = 1158, 7507          # the seed's key grids among its small grids
MATTERS, RESIDENTS = 15_700, 200_000         # 1.57万 帮办实事 for the default 200,000 residents
IMPROVED = 0.12                              # key grids now blue (assigned red or yellow)
MONTHS = 2                                   # this month and the one before
CHUNK = 20_000
PARTY_SECRETARY, GROUP_LEADER = "party_secretary", "group_leader"


@dataclasses.dataclass
class Counts:
    visits: int = 0
    key_grids: int = 0
    matters: int = 0


class Village:
    """One village's households and the people who visit them."""

    def __init__(self):
        self.households: list[tuple[int, int | None, str]] = []   # id, grid id, region code
        self.cadres: list[tuple[int, str]] = []                    # account id, post
        self.secretary: int | None = None


def seed(session, seed: int, now: dt.datetime | None = None, *, key_grids: int | None = None,
         matters: int | None = None, show_progress: bool = False) -> Counts:
    """Visits, key grids and matters; `key_grids` and `matters` default to the seed's, in proportion to the
    city's small grids and residents."""
    rng = random.Random(seed * 17 + 11)
    now = (now or utcnow()).replace(microsecond=0)
    villages = _villages(session)
    if not any(village.households for village in villages.values()):
        return Counts()
    counts = Counts()
    promised = _visits(session, rng, villages, now, counts, show_progress)
    counts.key_grids = _key_grids(session, rng, villages, now, key_grids)
    counts.matters = _matters(session, rng, villages, promised, now, matters, show_progress)
    session.flush()
    if session.get_bind().dialect.name == "postgresql":   # the visits were numbered here: move their sequence on
        session.execute(text("SELECT setval(pg_get_serial_sequence('visits', 'id'), "
                             "coalesce((SELECT max(id) FROM visits), 1))"))
        # the planner's statistics of what grew here: without them PostgreSQL plans a city's million visits as a
        # few dozen (a nested loop of a million index probes: the rankings' coverage took 16 s instead of 1.7)
        for table in ("visits", "practical_matters", "households", "key_grids"):
            session.execute(text(f"ANALYZE {table}"))
    return counts


def _villages(session) -> dict[str, Village]:
    villages: dict[str, Village] = {}
    for household_id, grid_id, region_code in session.execute(
            select(Household.id, Household.grid_id, Household.region_code).order_by(Household.id)):
        villages.setdefault(region_code[:12], Village()).households.append((household_id, grid_id, region_code))
    rows = session.execute(select(CadrePost.account_id, CadrePost.post, Region.code, Region.level)
                           .join(Region, Region.id == CadrePost.region_id).order_by(CadrePost.id))
    grids: dict[int, set[str]] = {}
    for account_id, grid_region in session.execute(
            select(CadrePost.account_id, Grid.region_code).join(CadreGrid, CadreGrid.cadre_post_id == CadrePost.id)
            .join(Grid, Grid.id == CadreGrid.grid_id)):
        grids.setdefault(account_id, set()).add(grid_region[:12])
    for account_id, post, code, level in rows:   # a township cadre visits the villages of their grids
        for village_code in sorted({code[:12]} if level == "village" else grids.get(account_id, set())):
            village = villages.setdefault(village_code, Village())
            village.cadres.append((account_id, post))
            if post == PARTY_SECRETARY:
                village.secretary = account_id
    return villages


def _workers(session) -> dict[int, tuple[int, int | None, str | None]]:
    """small grid id → (its full-time worker's person id, their account id, their cadre post): a village group
    leader is their grid's worker, and every visit they make counts for their post, as `cadres.visitor_post`
    records a visit made in the work end."""
    accounts = dict(session.execute(select(Account.person_id, Account.id).where(Account.person_id.is_not(None))).all())
    posts = dict(session.execute(select(CadrePost.account_id, CadrePost.post)).all())
    found = {}
    for grid_id, person_id in session.execute(select(GridMember.grid_id, GridMember.person_id)
                                              .where(GridMember.role == "full_time").order_by(GridMember.person_id)):
        account_id = accounts.get(person_id)
        found.setdefault(grid_id, (person_id, account_id, posts.get(account_id)))
    return found


def _month_starts(now: dt.datetime) -> list[dt.datetime]:
    local = city.local(now).replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    starts = [local]
    for _ in range(MONTHS - 1):
        local = (local - dt.timedelta(days=1)).replace(day=1)
        starts.append(local)
    return [start.astimezone(dt.UTC) for start in starts]


def write(session, model, rows: list[dict], *, action: str, object_type: str, what: str, details, phase: str,
          show_progress: bool) -> None:
    """`rows` of `model` a chunk at a time, each chunk with its audit record (`what`: the words of its summary;
    `details(chunk)`: what it records of the chunk), under a progress bar named for the phase."""
    with tqdm(total=len(rows), desc=phase, unit="条", disable=not show_progress, leave=True) as bar:
        for number, start in enumerate(range(0, len(rows), CHUNK), 1):
            chunk = rows[start:start + CHUNK]
            bulk(session, model, chunk, chunk=len(chunk))
            record_change(session, system_actor("demo"), action, object_type=object_type,
                          summary=f"{what}第 {number} 批 {len(chunk)} 条",
                          details={"chunk": number, "count": len(chunk), **details(chunk), "demo": True})
            bar.update(len(chunk))


def _visits(session, rng, villages, now, counts, show_progress) -> list[tuple[int, int, int, str, dt.datetime]]:
    """Visits for this month and the one before; returns the cadre visits that promised a 帮办实事 (visit id,
    household id, account id, village code, when)."""
    workers = _workers(session)
    next_id = (session.scalar(select(func.max(Visit.id))) or 0) + 1
    rows, promised = [], []
    starts = _month_starts(now)
    for month, start in enumerate(starts):
        end = now if month == 0 else starts[month - 1]
        for code, village in villages.items():
            # how much of the village its cadres saw that month: a wide spread, this month not yet over
            rate = rng.choice((0.0, 0.2, 0.4, 0.55, 0.7, 0.85, 0.95, 1.0)) if month else rng.uniform(0.0, 0.8)
            for household_id, grid_id, region_code in village.households:
                roll = rng.random()
                if roll >= rate + 0.1:   # grid workers see some of the rest
                    continue
                worker = workers.get(grid_id)
                cadre = roll < rate
                person_id, account_id, post = None, None, None
                if cadre and worker and worker[2] == GROUP_LEADER and rng.random() < 0.5:
                    person_id, account_id, post = worker
                elif cadre and village.cadres:
                    account_id, post = rng.choice(village.cadres)
                elif worker:   # a group leader's visits as the grid's worker count for them too
                    person_id, account_id, post = worker
                else:
                    continue
                when = start + dt.timedelta(seconds=rng.uniform(0, (end - start).total_seconds()))
                promise = post is not None and account_id is not None and rng.random() < 0.09
                text = matter_texts.title(rng) if promise else ""
                met, needs = rng.choice(matter_texts.MET), rng.choice(matter_texts.NEEDS)
                summary = f"见到{met}；" + (f"诉求：{needs}" if needs else "无诉求") + (f"；承诺帮办：{text}" if promise else "")
                rows.append({"id": next_id, "target_kind": "household", "target_id": household_id,
                             "visitor_person_id": person_id, "visitor_account_id": account_id, "grid_id": grid_id,
                             "region_code": region_code, "visited_at": when, "summary": summary,
                             "form_data": {"met": met, "needs": needs, "promised": promise, "promise_text": text},
                             "schema_version": "", "visitor_post": post,
                             # the household's place now (the visits' triggers keep it; given, nothing is rewritten)
                             "household_grid_id": grid_id, "household_region_code": region_code,
                             # its month and day in the city's time, which the kept 户户见干部 counts go by
                             # (migrations 0040 and 0043)
                             "visit_month": city.month_of(when), "visit_day": city.day_of(when)})
                if promise:
                    promised.append((next_id, household_id, account_id, code, when, text))
                next_id += 1
    write(session, Visit, rows, action="visit.record", object_type="household",
          what=f"演示数据：本月及前 {MONTHS - 1} 个月干部与网格员的入户走访记录", phase="入户走访",
          show_progress=show_progress,
          details=lambda chunk: {"first_id": chunk[0]["id"], "last_id": chunk[-1]["id"],
                                 "cadre_visits": sum(row["visitor_post"] is not None for row in chunk)})
    _last_visits(session)
    counts.visits = len(rows)
    return promised


def _last_visits(session) -> None:
    """Every household's last visit is its latest in `visits` (none: NULL), as a correlated UPDATE of every
    household would set it, in two set-based statements (that one looked up each of 1.5 million households)."""
    household = Visit.target_kind == "household"
    visited = select(Visit.id).where(household, Visit.target_id == Household.id).exists()
    session.execute(update(Household).where(Household.last_visit_at.is_not(None), ~visited)
                    .values(last_visit_at=None))
    latest = (select(Visit.target_id, func.max(Visit.visited_at).label("at")).where(household)
              .group_by(Visit.target_id).subquery())
    session.execute(update(Household).where(Household.id == latest.c.target_id).values(last_visit_at=latest.c.at),
                    execution_options={"synchronize_session": False})


def _key_grids(session, rng, villages, now, wanted) -> int:
    """Small red and yellow grids held by their village's party secretary; some have turned blue since."""
    small = session.execute(select(Grid.id, Grid.region_code, Grid.colour).where(Grid.level == "small")
                            .order_by(Grid.id)).all()
    held = [row for row in small if (villages.get(row.region_code[:12]) or Village()).secretary is not None]
    target = min(round(KEY_GRIDS * len(small) / SMALL_GRIDS) if wanted is None else wanted, len(held))
    risky = [row for row in held if row.colour in ("red", "yellow")]
    blue = [row for row in held if row.colour == "blue"]
    improved = min(len(blue), max(target - len(risky), round(target * IMPROVED)))
    chosen = rng.sample(blue, improved) + rng.sample(risky, min(len(risky), target - improved))
    rows = []
    for grid_id, region_code, colour in sorted(chosen):
        if colour == "blue":
            before = rng.choices(("red", "yellow"), (3, 7))[0]
        else:   # most as they were; a few worse or better since
            before = colour if rng.random() < 0.82 else ("yellow" if colour == "red" else "red")
        rows.append({"grid_id": grid_id, "region_code": region_code, "colour_at_assignment": before,
                     "holder_account_id": villages[region_code[:12]].secretary, "active": True,
                     "assigned_at": now - dt.timedelta(days=rng.uniform(20, 330)), "note": "",
                     "removal_reason": ""})
    if rows:
        bulk(session, KeyGrid, rows)
        record_change(session, system_actor("demo"), "key_grid.assign", object_type="grid",
                      summary=f"演示数据：党组织书记包抓重点网格 {len(rows)} 个（其中已转蓝 {improved} 个）",
                      details={"count": len(rows), "improved": improved, "demo": True})
    return len(rows)


def _matters(session, rng, villages, promised, now, wanted, show_progress) -> int:
    """帮办实事: those promised during the demo's visits, and earlier ones of the past year, to the target."""
    today = city.today(session)
    residents = session.scalar(select(func.count()).select_from(Resident)) or 0
    target = round(MATTERS * residents / RESIDENTS) if wanted is None else wanted
    members: dict[int, list[int]] = {}
    for resident_id, household_id in session.execute(select(Resident.id, Resident.household_id)
                                                     .where(Resident.household_id.is_not(None))):
        members.setdefault(household_id, []).append(resident_id)
    where = {household[0]: household for village in villages.values() for household in village.households}
    rows = [_matter(rng, today, where[household_id], account_id, when, title, visit_id, members)
            for visit_id, household_id, account_id, _code, when, title in promised[:target]]
    owned = [(code, village) for code, village in villages.items() if village.cadres and village.households]
    while owned and len(rows) < target:
        _code, village = rng.choice(owned)
        account_id = rng.choice(village.cadres)[0]
        when = now - dt.timedelta(days=rng.uniform(5, 365))
        rows.append(_matter(rng, today, rng.choice(village.households), account_id, when, matter_texts.title(rng),
                            None, members))
    rows += _for_citizen(session, rng, villages, today, now, members)
    write(session, PracticalMatter, rows, action="matter.promise", object_type="practical_matter",
          what="演示数据：帮办实事", phase="帮办实事", show_progress=show_progress,
          details=lambda chunk: {"from_visits": sum(row["visit_id"] is not None for row in chunk)})
    return len(rows)


def _matter(rng, today, household, account_id, when, title, visit_id, members, *, status=None,
            resident_id=None) -> dict:
    """One matter in a state that fits its age: mostly done, some in progress or overdue, a few cannot be done."""
    created, (household_id, grid_id, region_code) = when, household
    deadline = city.local(created).date() + dt.timedelta(days=rng.choice((7, 15, 30, 30, 60)))
    if status is None:
        late = deadline < today
        status = rng.choices(("done", "in_progress", "promised", "cannot"), (86, 7, 4, 3) if late else (45, 30, 25, 0))[0]
    row = {"title": title, "detail": "", "household_id": household_id, "visit_id": visit_id, "case_id": None,
           "resident_id": resident_id if resident_id else
           (rng.choice(members[household_id]) if members.get(household_id) and rng.random() < 0.6 else None),
           "region_code": region_code, "owner_account_id": account_id, "deadline": deadline, "status": status,
           "result": "", "created_by_account_id": account_id, "created_at": created, "started_at": None,
           "finished_at": None, "client_id": None, "grid_id": grid_id}
    if status != "promised":
        row["started_at"] = created + dt.timedelta(days=rng.uniform(0.2, 3))
    if status in ("done", "cannot"):
        row["finished_at"] = min(row["started_at"] + dt.timedelta(days=rng.uniform(1, 20)), utcnow())
        row["result"] = rng.choice(matter_texts.RESULTS if status == "done" else matter_texts.REASONS)
    return row


def _for_citizen(session, rng, villages, today, now, members) -> list[dict]:
    """Two matters naming residents whose phone becomes the demo citizen's, in the named cadre's village (else the
    first village with a party secretary)."""
    _username, _name, phone, _purpose = CITIZEN
    named = session.scalar(select(CadrePost.account_id).join(Account, Account.id == CadrePost.account_id)
                           .where(Account.username == "cadre"))
    held = [item for item in villages.values() if item.secretary is not None and item.households]
    village = next((item for item in held if item.secretary == named), held[0] if held else None)
    if village is None:
        return []
    named = village.secretary
    rows = []
    for index, status in enumerate(("done", "in_progress")):
        household = village.households[index % len(village.households)]
        household_id = household[0]
        resident_id = (members.get(household_id) or [None])[0]
        if resident_id is None:
            continue
        session.execute(update(Resident).where(Resident.id == resident_id).values(phone=phone))
        rows.append(_matter(rng, today, household, named, now - dt.timedelta(days=3 + 20 * index),
                            matter_texts.CITIZEN_TITLES[index], None, members, status=status,
                            resident_id=resident_id))
    return rows
