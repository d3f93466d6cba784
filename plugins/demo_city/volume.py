"""A city's year of cases at volume (`minqing demo --cases N`, issue #20): a year of Lanzhou is about a million
cases, far too many to send through the workflow engine one by one (~50 ms a case: half a day).

The cases are generated as a stream, `CHUNK` at a time, and each case's timeline is replayed here on the
standard workflow's own definition: every step's target state, effects (受理, 分拨, 退回, 转办, 反馈, 返工, 评价,
办结, 作废) and titles come from it, deadlines from its time limits on the platform's working calendar, so a case
ends with the status, department, deadlines, milestones, timeline and notifications the engine would have stored.
A timeline is cut at "now": the cases of the last days are still open, somewhere along the loop. A case a
department held for days may be supervised (督办, as `workflows.actions.supervise` records it), and every step
whose form requires a photo has one (`photos.py`). Writing the rows (COPY on PostgreSQL, executemany on SQLite,
one audit record per chunk) is `volume_write.py`'s.
"""
from __future__ import annotations

import dataclasses
import datetime as dt
import itertools
import random
from collections.abc import Iterator

from sqlalchemy import func, select

from minqing import themes, workflows
from minqing.core.models import Account, Case, Department, Grid, Region, Role, RoleGrant

from .working_time import WorkingTime

CHUNK = 10_000
DAYS = 365
# How a case goes, with weights: the usual loop, 退回 and 再分拨, 转办, 返工 once, 即报即办 by the grid worker, 作废
PATHS = (("closed", 70), ("returned", 5), ("transferred", 4), ("reworked", 7), ("on_the_spot", 10), ("voided", 4))
# Hours between steps (low, high), drawn uniformly
GAPS = {"accept": (0.1, 3), "dispatch": (0.2, 4), "take": (0.3, 8), "feedback": (4, 110), "confirm": (1, 24),
        "return": (0.5, 6), "transfer": (0.5, 8), "rework": (1, 24), "void": (0.2, 3), "close_on_the_spot": (0.1, 1)}
HOURS_OF_DAY = tuple(range(24))
HOUR_WEIGHTS = (1, 1, 1, 1, 1, 2, 4, 8, 12, 14, 14, 12, 9, 10, 12, 12, 11, 10, 8, 7, 5, 3, 2, 1)
RATINGS, RATING_WEIGHTS = (5, 4, 3, 2, 1), (60, 20, 10, 6, 4)
URGENCIES, URGENCY_WEIGHTS = ("normal", "urgent", "critical"), (85, 12, 3)
# `random.choices` adds the weights up on every call: given added up, it draws the same, faster
HOUR_SUMS, RATING_SUMS, URGENCY_SUMS, PATH_SUMS = (tuple(itertools.accumulate(weights)) for weights in (
    HOUR_WEIGHTS, RATING_WEIGHTS, URGENCY_WEIGHTS, [weight for _, weight in PATHS]))
PATH_NAMES = tuple(name for name, _ in PATHS)
RESULTS = ("已现场处置完毕", "已联系责任单位整改到位", "已清理恢复原状", "已调解，双方达成一致", "已核实并答复反映人")
ASKS = ("请尽快处理。", "影响居民出行，请相关部门处置。", "已持续多日，希望尽快解决。", "存在安全隐患，请及时处理。")
VOID_REASONS = ("不属于受理范围", "反映内容无法核实", "信息不全且无法联系反映人")
SOURCES = ("grid_worker", "grid_worker", "citizen", "hotline")
CHANNELS = {"grid_worker": "work", "citizen": "citizen", "hotline": "12345"}   # as reporting.CHANNEL_OF_SOURCE
DELIVERED_BY = "workflows"   # the in-app inbox's deliverer
# 督办 by the city centre (workflows.actions.supervise) of a case still unanswered SUPERVISE_AFTER hours after the
# department took it, for a share of them: about 4 % of the cases; its deadline is SUPERVISION_HOURS working hours
SUPERVISE_AFTER, SUPERVISE_SHARE, SUPERVISION_HOURS = 72, 0.12, 24
SUPERVISION_COMMENTS = ("超过办理时限仍未反馈，请限期办结", "群众多次反映，请加快处置并及时反馈", "请主要负责同志亲自协调，限期办结")
PHOTO_NAMES = {"feedback": "处置照片.jpg", "close_on_the_spot": "现场照片.jpg"}   # steps whose form requires a photo


@dataclasses.dataclass
class City:
    """What the stream draws from: the demo city's categories, departments, small grids and region names."""
    workflow: workflows.Workflow
    calendar: object            # the platform's working calendar as a table (`working_time.py`), or None: natural hours
    categories: list[tuple]     # (theme key, category dict, department key)
    departments: dict[str, tuple[int, str]]    # key → (id, short name)
    grids: list                 # rows of the small grids: id, bounds
    region_of_grid: dict[int, str]
    region_names: dict[str, str]
    locator: object
    actor: object
    now: dt.datetime
    supervisor: tuple | None = None   # (account id, name, region code) of the top operator, who 督办
    photos: list = dataclasses.field(default_factory=list)      # photos.Photo: the files the photo rows share


def city_of(platform, session, actor, now: dt.datetime, photos: list | None = None) -> City:
    registry = themes.registry(platform, session)
    departments = {key: (id_, short or key) for key, id_, short in
                   session.execute(select(Department.key, Department.id, Department.short_name)
                                   .where(Department.active.is_(True)))}
    categories = [(theme.key, category, category.get("department") or theme.department)
                  for theme in registry.themes.values() if theme.categories and theme.workflow == "standard"
                  for category in theme.categories
                  if (category.get("department") or theme.department) in departments]
    answer = platform.plugins.call_first("working_calendar")
    calendar = answer[1] if answer and hasattr(answer[1], "add_hours") else None
    if calendar is not None:   # the year generated, and the deadlines of the cases still open after it
        calendar = WorkingTime(calendar, now - dt.timedelta(days=DAYS + 1), now + dt.timedelta(days=DAYS // 3))
    return City(workflow=workflows.get_workflow(platform, "standard", session), calendar=calendar,
                categories=categories, departments=departments,
                grids=session.execute(select(Grid.id, Grid.min_lon, Grid.min_lat, Grid.max_lon, Grid.max_lat)
                                      .where(Grid.level == "small").order_by(Grid.id)).all(),
                region_of_grid=dict(session.execute(select(Grid.id, Grid.region_code)).all()),
                region_names=dict(session.execute(select(Region.code, Region.name)).all()),
                locator=platform.locator(session), actor=actor, now=now, supervisor=_supervisor(session),
                photos=photos or [])


def _supervisor(session) -> tuple | None:
    """The operator of the highest region (the city centre's, in the demo): 督办 comes from a higher level."""
    return session.execute(
        select(Account.id, Account.display_name, Region.code).join(RoleGrant, RoleGrant.account_id == Account.id)
        .join(Region, Region.id == RoleGrant.region_id).where(RoleGrant.role == Role.OPERATOR)
        .order_by(func.length(func.rtrim(Region.code, "0")), Account.id).limit(1)).first()


def first_case_id(session) -> int:
    return (session.scalar(select(func.max(Case.id))) or 0) + 1


@dataclasses.dataclass
class Chunk:
    cases: list[dict]
    events: list[dict]
    milestones: list[dict]
    notifications: list[dict]
    supervisions: list[dict] = dataclasses.field(default_factory=list)
    attachments: list[dict] = dataclasses.field(default_factory=list)


def chunks(city: City, count: int, seed: int, first_id: int, size: int = CHUNK, *, part: int = 0,
           parts: int = 1) -> Iterator[Chunk]:
    """The cases in chunks of `size`, with ids from `first_id`: only one chunk's rows are held at a time. Each
    chunk draws from a generator of its own (seeded by the seed and its place), so that `parts` processes can
    make every `parts`-th chunk, from the `part`-th, and together make the same cases as one."""
    for index, start in enumerate(range(0, count, size)):
        if index % parts == part:
            rng = random.Random(seed * 1_000_003 + index)
            yield _chunk(city, rng, first_id + start, min(size, count - start))


def _chunk(city: City, rng: random.Random, first_id: int, count: int) -> Chunk:
    chosen = [rng.choice(city.grids) for _ in range(count)]
    lons = [rng.uniform(grid.min_lon, grid.max_lon) for grid in chosen]
    lats = [rng.uniform(grid.min_lat, grid.max_lat) for grid in chosen]
    located = city.locator.locate_many(lons, lats)
    chunk = Chunk([], [], [], [])
    for offset in range(count):
        grid = chosen[offset]
        grid_id, lon, lat = int(located[offset]), lons[offset], lats[offset]
        if grid_id < 0:   # the grid's box reaches past its outline: the middle of the box, filed under the grid
            grid_id, lon, lat = grid.id, (grid.min_lon + grid.max_lon) / 2, (grid.min_lat + grid.max_lat) / 2
        _case(city, rng, chunk, first_id + offset, grid_id, lon, lat)
    return chunk


def _case(city: City, rng: random.Random, chunk: Chunk, case_id: int, grid_id: int, lon: float, lat: float) -> None:
    theme_key, category, department = rng.choice(city.categories)
    region_code = city.region_of_grid.get(grid_id, "")
    day = city.now - dt.timedelta(days=rng.randrange(DAYS))
    # reported in whole minutes, as a report form records them
    reported_at = day.replace(hour=rng.choices(HOURS_OF_DAY, cum_weights=HOUR_SUMS)[0], minute=rng.randrange(60), second=0)
    if reported_at >= city.now:
        reported_at -= dt.timedelta(days=1)
    source = rng.choice(SOURCES)
    urgency = rng.choices(URGENCIES, cum_weights=URGENCY_SUMS)[0]
    place = city.region_names.get(region_code, "")
    description = f"群众反映：{place}附近{category['title']}问题，{rng.choice(ASKS)}"
    case = {"id": case_id, "theme_key": theme_key, "theme_version": 1, "category": category.get("parent", ""),
            "subcategory": category["code"], "title": f"{place}{category['title']}"[:200],
            "description": description, "lon": round(lon, 6), "lat": round(lat, 6), "address": "",
            "grid_id": grid_id, "region_code": region_code, "source": source, "channel": CHANNELS[source],
            "reporter_name": "", "reporter_phone": "", "urgency": urgency, "workflow_key": city.workflow.key,
            "department_id": None, "form_data": {}, "schema_version": "", "client_id": f"demo-volume-{case_id}",
            "rework_count": 0, "created_at": reported_at, "closed_at": None}
    workflow = city.workflow
    case["due_at"] = _deadline(city, workflow.due, urgency, reported_at)
    accept_deadline = _deadline(city, workflow.states[workflow.initial].time_limit, urgency, reported_at)
    milestone = {"case_id": case_id, "case_created_at": reported_at, "accept_deadline_at": accept_deadline,
                 "accepted_at": None, "dispatched_at": None, "feedback_at": None, "rating": None, "satisfied": None,
                 "voided": False}
    replay = _Replay(city, chunk, case, milestone)
    replay.report(reported_at, source, description)
    at = reported_at
    for name, data in _steps(city, rng, source, department):
        before, at = at, at + dt.timedelta(hours=rng.uniform(*GAPS[name]))
        if name == "feedback" and at - before > dt.timedelta(hours=SUPERVISE_AFTER) and city.supervisor \
                and rng.random() < SUPERVISE_SHARE:
            supervised = before + dt.timedelta(hours=SUPERVISE_AFTER)
            if supervised < city.now:
                replay.supervise(supervised, rng.choice(SUPERVISION_COMMENTS))
        if at >= city.now:
            break   # the rest of this case's loop is still to come
        if name in PHOTO_NAMES and city.photos:
            data = {**data, "photos": [replay.photo(rng, name, at)]}
        replay.step(name, data, at)
    state = workflow.states[case["status"]]
    case["state_deadline_at"] = _deadline(city, state.time_limit, urgency, case["state_entered_at"])
    case["updated_at"] = case["state_entered_at"]
    case["version"] = replay.steps
    chunk.cases.append(case)
    chunk.milestones.append(milestone)


def _steps(city: City, rng: random.Random, source: str, department: str) -> list[tuple[str, dict]]:
    path = rng.choices(PATH_NAMES, cum_weights=PATH_SUMS)[0]
    if path == "on_the_spot" and source != "grid_worker":   # 即报即办 is the grid worker's alone
        path = "closed"
    if path == "on_the_spot":
        return [("close_on_the_spot", {"result": rng.choice(RESULTS)})]
    if path == "voided":
        return [("accept", {})] * rng.randrange(2) + [("void", {"kind": "invalid", "reason": rng.choice(VOID_REASONS)})]
    elsewhere = rng.choice([key for key in city.departments if key != department] or [department])
    feedback = ("feedback", {"result": rng.choice(RESULTS)})
    rating = rng.choices(RATINGS, cum_weights=RATING_SUMS)[0]
    head = [("accept", {}), ("dispatch", {"department": department})]
    if path == "returned":   # sent to the wrong department, which gives it back to be dispatched anew
        head = [("accept", {}), ("dispatch", {"department": elsewhere}), ("return", {"reason": "不属于本部门职责"}),
                ("dispatch", {"department": department})]
    elif path == "transferred":   # 转办 by the command centre
        head = [("accept", {}), ("dispatch", {"department": elsewhere}), ("transfer", {"department": department, "reason": "职责调整，转由主管部门办理"})]
    steps = head + [("take", {}), feedback]
    if path == "reworked":
        steps += [("rework", {"reason": "群众反映问题仍未解决", "rating": rng.choice((1, 2))}), feedback]
    return steps + [("confirm", {"rating": rating})]


def _deadline(city: City, limit, urgency: str, start: dt.datetime) -> dt.datetime | None:
    if limit is None:
        return None
    hours = limit.hours[urgency]
    if urgency not in limit.working:
        return start + dt.timedelta(hours=hours)
    return _working(city, start, hours)


def _working(city: City, start: dt.datetime, hours: float) -> dt.datetime:
    """`hours` working hours after `start` on the platform's calendar (natural hours without one)."""
    if city.calendar is None:
        return start + dt.timedelta(hours=hours)
    return city.calendar.add_hours(start, hours)


class _Replay:
    """One case's steps applied as the engine applies them (workflows/engine.py, effects.py, notices.py), driven
    by the definition's targets and effects."""

    def __init__(self, city: City, chunk: Chunk, case: dict, milestone: dict):
        self.city, self.chunk, self.case, self.milestone = city, chunk, case, milestone
        self.steps = 1
        day = case["created_at"]
        self.number = f"MQ{day.year:04d}{day.month:02d}{day.day:02d}{case['id']:07d}"   # Case.number
        self.department: str | None = None

    def report(self, at: dt.datetime, source: str, description: str) -> None:
        workflow = self.city.workflow
        self.case.update(status=workflow.initial, state_entered_at=at)
        self._event(at, "report", None, workflow.initial, description[:500],
                    {"title": workflow.report_title, "source": source})
        self._notice(at, "report", f"region:{self.case['region_code']}", "新上报事件")

    def step(self, name: str, data: dict, at: dt.datetime) -> None:
        case, milestone = self.case, self.milestone
        step = self.city.workflow.transitions[name]
        effects, before, note = step.effects, case["status"], {}
        if "accept" in effects and milestone["accepted_at"] is None:
            milestone["accepted_at"] = at
        if "assign_department" in effects:
            previous, self.department = self.department, data["department"]
            case["department_id"] = self.city.departments[self.department][0]
            milestone["dispatched_at"] = milestone["dispatched_at"] or at
            note["department"] = self.department
            if previous is not None:
                note["transferred_from"] = previous
        if "clear_department" in effects:
            case["department_id"], self.department = None, None
        if "feedback" in effects:
            milestone["feedback_at"] = at
        if "count_rework" in effects:
            case["rework_count"] += 1
        if "record_rating" in effects and data.get("rating") is not None:
            milestone["rating"], milestone["satisfied"] = data["rating"], data["rating"] >= 3
            note["rating"] = data["rating"]
        if "close" in effects:
            case["closed_at"] = at
        if "void" in effects:
            milestone["voided"] = True
        case.update(status=step.target, state_entered_at=at)
        self.steps += 1
        comment = next((data[key] for key in ("reason", "comment", "result") if data.get(key)), "")
        self._event(at, name, before, step.target, comment, {"title": step.title, "form": data, **note})
        self._notices(name, effects, note, at)

    def supervise(self, at: dt.datetime, comment: str) -> None:
        """督办 as `workflows.actions.supervise` records it: the order with its deadline, a timeline line by the
        supervisor, a notice to whoever holds the case; the case stays where it is."""
        account_id, name, region_code = self.city.supervisor
        deadline = _working(self.city, at, SUPERVISION_HOURS)
        self.chunk.supervisions.append({"case_id": self.case["id"], "actor_account_id": account_id,
                                        "actor_name": name, "region_code": region_code, "comment": comment,
                                        "created_at": at, "deadline_at": deadline})
        status = self.case["status"]
        self.chunk.events.append({"case_id": self.case["id"], "at": at, "actor_account_id": account_id,
                                  "actor_name": name, "action": "supervise", "from_status": status,
                                  "to_status": status, "comment": comment, "origin": "",
                                  "data": {"title": "督办", "deadline_at": deadline.isoformat()}})
        holder = f"department:{self.department}" if self.department else f"region:{self.case['region_code']}"
        self._notice(at, "supervise", holder, "督办", comment, {"deadline_at": deadline.isoformat()})

    def photo(self, rng: random.Random, step: str, at: dt.datetime) -> str:
        """A photo row of the case for a step whose form requires one (uploaded just before the step); its id."""
        photo = rng.choice(self.city.photos)
        attachment_id = f"{rng.getrandbits(128):032x}"   # as uploads are named: 32 hex digits
        self.chunk.attachments.append({
            "id": attachment_id, "case_id": self.case["id"], "visit_id": None, "owner_account_id": None,
            "filename": PHOTO_NAMES[step], "content_type": "image/jpeg", "size": photo.size, "sha256": photo.sha256,
            "dhash": photo.dhash, "storage_key": photo.storage_key, "created_at": at - dt.timedelta(minutes=2)})
        return attachment_id

    def _notices(self, name: str, effects, note: dict, at: dt.datetime) -> None:
        """notices.after_transition's messages (the demo's reporters have no account: no 办结 message to them)."""
        if "assign_department" in effects:
            self._notice(at, name, f"department:{note['department']}", "新交办事件")
            if note.get("transferred_from"):
                short = self.city.departments[note["department"]][1]
                self._notice(at, name, f"department:{note['transferred_from']}", "事件已转办", f"已转办至{short}")
        if "clear_department" in effects:
            self._notice(at, name, f"region:{self.case['region_code']}", "事件被退回，请重新分拨")
        if "count_rework" in effects:
            holder = f"department:{self.department}" if self.department else f"region:{self.case['region_code']}"
            self._notice(at, name, holder, "事件需重办")

    def _event(self, at, action, before, after, comment, data) -> None:
        actor = self.city.actor
        self.chunk.events.append({"case_id": self.case["id"], "at": at, "actor_account_id": actor.account_id,
                                  "actor_name": actor.name, "action": action, "from_status": before,
                                  "to_status": after, "comment": comment, "data": data,
                                  "origin": actor.origin or ""})

    def _notice(self, at, kind, recipient, subject, body="", data: dict | None = None) -> None:
        self.chunk.notifications.append({
            "case_id": self.case["id"], "kind": kind, "channel": "inbox", "recipient": recipient,
            "subject": f"{subject} {self.number}：{self.case['title']}"[:200], "body": body,
            "data": {"status": self.case["status"], **(data or {})}, "status": "delivered", "attempts": 1,
            "next_attempt_at": at,
            "claimed_at": None, "delivered_at": at, "delivered_by": DELIVERED_BY, "last_error": "",
            "created_at": at})

