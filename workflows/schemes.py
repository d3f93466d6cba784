"""考核方案 assessment schemes: which indicators rank which units, with weights, targets, scoring and deductions.

A scheme is a JSON document checked against `scheme.schema.json` (published with the package) and a few rules the
meta-schema cannot say (weights add up to 100, a linear indicator's floor differs from its target, ...); every
problem comes back located by JSON pointer with a Chinese message. Saving a changed document adds a version
(rows are never changed: a published ranking keeps the version it used). The city's scheme applies everywhere;
a county may have its own, which applies to the units inside it. Until the city saves one, the shipped default
(`scheme_default.json`, version 0) is the city's.

    scheme = schemes.for_region(session, "620102000000")       # the county's own, else the city's
    rows = schemes.rank(session, scheme, "2026-11", unit="township")
    rows[0].place, rows[0].name, rows[0].score.total, rows[0].score.parts, rows[0].score.deductions

Scoring (docs/evaluation.md): an indicator earns `weight × fraction`, the fraction being linear between its
floor (0) and its target (1) — a target below the floor means lower is better — or the score of the first band
the value falls in; an indicator without a value (no denominator) earns nothing. Deductions take `points` per
counted case, at most `cap`. Units with the same score keep the order of the published rankings' tie rule.
"""
from __future__ import annotations

import dataclasses
import datetime as dt
import functools
import hashlib
import json
from collections.abc import Callable
from importlib import resources

from jsonschema import Draft202012Validator
from sqlalchemy import select
from sqlalchemy.orm import Session

from minqing.core.actors import Actor
from minqing.core.changes import record_change
from minqing.core.geo.regions import SIGNIFICANT, level_of
from minqing.core.models import (Account, AssessmentScheme, CadreGrid, CadrePost, Department, Grid, GridMember,
                                 Person, Region, Role, utcnow)

from . import months
from .errors import FormInvalid, PermissionDenied
from .evaluation import RESPONSE_HOURS, Indicators, evaluate

CITY = ""   # the city's scope; a county's scheme has the county's region code
UNITS = {"department": "职能部门", "county": "县(区)", "township": "乡镇(街道)", "grid": "网格",
         "grid_worker": "网格员", "cadre": "干部"}
# key: (title, kind); kind "rate" (0–1), "hours" or "count"
INDICATORS = {
    "timely_acceptance_rate": ("及时受理率", "rate"), "on_time_closure_rate": ("按期办结率", "rate"),
    "overdue": ("超期件数", "count"), "rework_rate": ("返工率", "rate"), "satisfaction_rate": ("满意率", "rate"),
    "average_handling_hours": ("平均处置时长", "hours"), "dispatch_accuracy": ("准确派遣率", "rate"),
    "return_rate": ("退回率", "rate"), "duplicates": ("重复件数", "count"), "duplicate_share": ("重复件占比", "rate"),
    "freshness_rate": ("数据鲜活度", "rate"), "cadre_coverage_rate": ("户户见干部", "rate"),
    "response_rate": ("响应率", "rate"), "resolution_rate": ("解决率", "rate"),
}
DEDUCTIONS = {"supervised": "督办件", "overdue_reworked": "超期重办件", "overdue": "超期件", "reworked": "重办件",
              "returned": "退回件", "duplicates": "重复件"}
COUNTY_UNITS = ("township", "grid", "grid_worker", "cadre")   # a county's scheme ranks units inside the county
TOTAL_WEIGHT = 100
MAX_DOCUMENT = 20_000   # characters of JSON: a scheme is a page of settings, not a data file


# -- the document -------------------------------------------------------------------------------------------------

@functools.cache
def meta_schema() -> dict:
    return json.loads(resources.files("minqing.workflows").joinpath("scheme.schema.json").read_text("utf-8"))


@functools.cache
def default_document() -> dict:
    return json.loads(resources.files("minqing.workflows").joinpath("scheme_default.json").read_text("utf-8"))


def problems(document, *, scope: str = CITY) -> dict[str, list[str]]:
    """{JSON pointer: [Chinese message, ...]} for everything wrong with `document`; {} when it can be saved."""
    from minqing.themes.document import schema_problems   # the themes' Chinese rendering of meta-schema errors

    found: dict[str, list[str]] = {}
    for problem in schema_problems(Draft202012Validator(meta_schema()), document):
        found.setdefault(problem.path or "/", []).append(problem.message)
    if found:
        return found
    for path, message in _rule_problems(document, scope):
        found.setdefault(path, []).append(message)
    return found


def _rule_problems(document: dict, scope: str):
    weights = sum(item["weight"] for item in document["indicators"])
    if abs(weights - TOTAL_WEIGHT) > 1e-6:
        yield "/indicators", f"各指标权重之和应为 {TOTAL_WEIGHT}，现为 {weights:g}"
    seen = {}
    for index, item in enumerate(document["indicators"]):
        at, key = f"/indicators/{index}", item["indicator"]
        title, kind = INDICATORS[key]
        if key in seen:
            yield f"{at}/indicator", f"指标“{title}”重复（与第 {seen[key] + 1} 项相同）"
        seen.setdefault(key, index)
        limit = 1 if kind == "rate" else None
        if item["scoring"] == "linear":
            for name in ("floor", "target"):
                if name not in item:
                    yield f"{at}/{name}", f"线性计分须填写{'下限' if name == 'floor' else '目标值'}"
            if "floor" in item and "target" in item and item["floor"] == item["target"]:
                yield f"{at}/target", "目标值不能等于下限"
            if "bands" in item:
                yield f"{at}/bands", "线性计分不使用分档（bands）"
            values = [(f"{at}/{name}", item[name]) for name in ("floor", "target") if name in item]
        else:
            if "bands" not in item:
                yield f"{at}/bands", "分档计分须填写分档（bands）"
            for name in ("floor", "target"):
                if name in item:
                    yield f"{at}/{name}", "分档计分不使用下限和目标值"
            bands = item.get("bands", [])
            values = [(f"{at}/bands/{n}/{name}", band[name]) for n, band in enumerate(bands)
                      for name in ("min", "max") if name in band]
            for n, band in enumerate(bands):
                if "min" in band and "max" in band and band["min"] > band["max"]:
                    yield f"{at}/bands/{n}/max", "分档上限不能小于下限"
        for path, value in values:
            if limit is not None and value > limit:
                yield path, f"“{title}”是比率，取值应在 0 到 1 之间（如 0.9 表示 90%）"
    caps = {}
    for index, item in enumerate(document.get("deductions", ())):
        if item["count"] in caps:
            yield f"/deductions/{index}/count", f"扣分项“{DEDUCTIONS[item['count']]}”重复"
        caps.setdefault(item["count"], index)
    if scope != CITY:
        for index, unit in enumerate(document["units"]):
            if unit not in COUNTY_UNITS:
                yield f"/units/{index}", (f"县(区)的考核方案只能考核本县(区)内的"
                                          f"{'、'.join(UNITS[u] for u in COUNTY_UNITS)}，不能考核{UNITS[unit]}")


def parse(text: str) -> dict:
    """A scheme document from JSON text; FormInvalid (field "document") when it is not a JSON object."""
    if not isinstance(text, str) or not text.strip():
        raise FormInvalid({"document": ["请填写考核方案（JSON）"]})
    if len(text) > MAX_DOCUMENT:
        raise FormInvalid({"document": [f"考核方案最多 {MAX_DOCUMENT} 个字符"]})
    try:
        document = json.loads(text)
    except ValueError as error:
        raise FormInvalid({"document": [f"不是有效的 JSON：第 {getattr(error, 'lineno', '?')} 行"
                                        f"第 {getattr(error, 'colno', '?')} 列附近有误"]}) from None
    if not isinstance(document, dict):
        raise FormInvalid({"document": ["考核方案应为一个 JSON 对象"]})
    return document


def check(document, *, scope: str = CITY) -> dict:
    """The document when it can be saved; FormInvalid with every problem (pointer → messages) otherwise."""
    found = problems(document, scope=scope)
    if found:
        raise FormInvalid(found, "考核方案有误")
    return document


# -- versions ---------------------------------------------------------------------------------------------------

@dataclasses.dataclass(frozen=True)
class Scheme:
    """One version of a scheme; version 0 is the shipped default, never stored."""
    scope: str
    version: int
    document: dict
    saved_at: dt.datetime | None = None
    saved_by: str = ""

    @property
    def title(self) -> str:
        return self.document.get("title", "")

    @property
    def units(self) -> tuple[str, ...]:
        return tuple(self.document.get("units", ()))

    @property
    def response_hours(self) -> float:
        return float(self.document.get("response_hours", RESPONSE_HOURS))

    @property
    def label(self) -> str:
        return f"{self.title}（{'内置默认' if self.version == 0 else f'第 {self.version} 版'}）"

    def as_dict(self) -> dict:
        return {"scope": self.scope, "version": self.version, "title": self.title, "document": self.document}

    @classmethod
    def from_dict(cls, value: dict) -> Scheme:
        return cls(scope=value.get("scope", CITY), version=value.get("version", 0), document=value["document"])


def _hash(document: dict) -> str:
    return hashlib.sha256(json.dumps(document, ensure_ascii=False, sort_keys=True).encode()).hexdigest()


def _from_row(row: AssessmentScheme) -> Scheme:
    return Scheme(scope=row.scope, version=row.version, document=row.document, saved_at=row.saved_at,
                  saved_by=row.saved_by_name)


def _latest_row(session: Session, scope: str) -> AssessmentScheme | None:
    return session.scalar(select(AssessmentScheme).where(AssessmentScheme.scope == scope)
                          .order_by(AssessmentScheme.version.desc()).limit(1))


def default() -> Scheme:
    return Scheme(scope=CITY, version=0, document=default_document())


def current(session: Session, scope: str = CITY) -> Scheme | None:
    """The newest version of the city's scheme (the default until one is saved), or of a county's (None if
    the county has none)."""
    row = _latest_row(session, scope)
    if row is not None:
        return _from_row(row)
    return default() if scope == CITY else None


def county_of(region_code: str | None) -> str:
    """The 12-digit code of the county holding `region_code`; "" for the city or no region."""
    if not region_code or level_of(region_code) == "city":
        return CITY
    return region_code[:SIGNIFICANT["county"]].ljust(12, "0")


def for_region(session: Session, region_code: str | None = None) -> Scheme:
    """The scheme that applies to units in `region_code`: its county's own, else the city's."""
    county = county_of(region_code)
    return (current(session, county) if county else None) or current(session, CITY)


def version(session: Session, scope: str, number: int) -> Scheme | None:
    if number == 0 and scope == CITY:
        return default()
    row = session.scalar(select(AssessmentScheme).where(AssessmentScheme.scope == scope,
                                                        AssessmentScheme.version == number))
    return _from_row(row) if row is not None else None


def history(session: Session, scope: str = CITY) -> list[Scheme]:
    """Every saved version of a scope's scheme, newest first."""
    return [_from_row(row) for row in session.scalars(
        select(AssessmentScheme).where(AssessmentScheme.scope == scope).order_by(AssessmentScheme.version.desc()))]


def scopes(session: Session) -> list[str]:
    """The scopes with a saved scheme, the city's first."""
    return sorted(set(session.scalars(select(AssessmentScheme.scope).distinct())))


def may_edit(actor: Actor, scope: str = CITY) -> bool:
    """Administrators and the city's command centre edit every scheme; a county's operators their county's."""
    if actor.has_role(Role.ADMIN):
        return True
    grants = [grant.region_code for grant in actor.grants_of(Role.OPERATOR) if grant.region_code]
    return any(level_of(code) == "city" for code in grants) or (
        scope != CITY and any(county_of(code) == scope and level_of(code) == "county" for code in grants))


def check_scope(session: Session, scope: str) -> str:
    """"" (the city) or the code of a county of the city; FormInvalid (field "scope") otherwise."""
    scope = (scope or "").strip()
    if scope == CITY:
        return CITY
    if session.scalar(select(Region.id).where(Region.code == scope, Region.level == "county")) is None:
        raise FormInvalid({"scope": [f"“{scope[:20]}”不是本市的县(区)代码"]})
    return scope


def save(session: Session, actor: Actor, document, *, scope: str = CITY,
         now: dt.datetime | None = None) -> tuple[Scheme, bool]:
    """Save `document` as the newest version of `scope`'s scheme: (the scheme, True) when a version was added,
    (the current one, False) when nothing changed. PermissionDenied, or FormInvalid with every problem, change
    nothing."""
    scope = check_scope(session, scope)
    if not may_edit(actor, scope):
        raise PermissionDenied("只有管理员、市级指挥中心或本县(区)指挥中心可以修改考核方案")
    check(document, scope=scope)
    latest = _latest_row(session, scope)
    digest = _hash(document)
    if latest is not None and latest.content_hash == digest:
        return _from_row(latest), False
    number = (latest.version if latest else 0) + 1
    row = AssessmentScheme(scope=scope, version=number, document=document, content_hash=digest,
                           saved_at=now or utcnow(), saved_by_account_id=actor.account_id,
                           saved_by_name=actor.name[:64])
    session.add(row)
    session.flush()
    where = "全市" if scope == CITY else scope
    record_change(session, actor, "scheme.save", object_type="assessment_scheme", object_id=f"{scope or 'city'}",
                  summary=f"保存{where}考核方案“{document['title']}”第 {number} 版",
                  details={"scope": scope, "version": number, "content_hash": digest}, at=row.saved_at)
    return _from_row(row), True


# -- scoring ----------------------------------------------------------------------------------------------------

@dataclasses.dataclass(frozen=True)
class Part:
    """One indicator's share of a unit's score."""
    indicator: str
    title: str
    value: float | None
    weight: float
    points: float

    def as_dict(self) -> dict:
        return dataclasses.asdict(self)


@dataclasses.dataclass(frozen=True)
class Deduction:
    count: str
    title: str
    cases: int
    points: float   # deducted (positive), capped

    def as_dict(self) -> dict:
        return dataclasses.asdict(self)


@dataclasses.dataclass(frozen=True)
class Score:
    total: float
    parts: tuple[Part, ...]
    deductions: tuple[Deduction, ...]

    def as_dict(self) -> dict:
        return {"total": self.total, "parts": [p.as_dict() for p in self.parts],
                "deductions": [d.as_dict() for d in self.deductions]}

    @classmethod
    def from_dict(cls, value: dict) -> Score:
        return cls(total=value["total"], parts=tuple(Part(**p) for p in value.get("parts", ())),
                   deductions=tuple(Deduction(**d) for d in value.get("deductions", ())))


def fraction(item: dict, value: float | None) -> float:
    """The share of its weight an indicator earns for `value` (0 without a value)."""
    if value is None:
        return 0.0
    if item["scoring"] == "linear":
        floor, target = item["floor"], item["target"]
        return min(1.0, max(0.0, (value - floor) / (target - floor)))
    for band in item["bands"]:
        if band.get("min", value) <= value <= band.get("max", value):
            return float(band["score"])
    return 0.0


def value_of(row: Indicators, indicator: str) -> float | None:
    value = getattr(row, indicator)
    return float(value) if value is not None else None


def score(document: dict, row: Indicators) -> Score:
    return scorer(document)(row)


def scorer(document: dict) -> Callable[[Indicators], Score]:
    """`score` by one document. Units with the same values share one Score (it is immutable): a city's 7,505
    grids have a few hundred, so a ranking builds a few hundred Scores, not 7,505 with their parts."""
    items = [(item["indicator"], INDICATORS[item["indicator"]][0], item["weight"], item)
             for item in document["indicators"]]
    counted = [(item["count"], DEDUCTIONS[item["count"]], item["points"], item)
               for item in document.get("deductions", ())]
    known: dict[tuple, Score] = {}

    def built(values: tuple) -> Score:
        parts, earned = [], 0
        for (indicator, title, weight, item), value in zip(items, values):
            points = round(weight * fraction(item, value), 4)
            parts.append(Part(indicator, title, value, weight, points))
            earned += points
        deductions, deducted = [], 0
        for (count, title, each, item), cases in zip(counted, values[len(items):]):
            points = cases * each
            if "cap" in item:
                points = min(points, item["cap"])
            points = round(points, 4)
            deductions.append(Deduction(count, title, cases, points))
            deducted += points
        return Score(round(earned - deducted, 4), tuple(parts), tuple(deductions))

    def scored(row: Indicators) -> Score:
        values = (*[value_of(row, item[0]) for item in items], *[int(getattr(row, item[0])) for item in counted])
        found = known.get(values)
        if found is None:
            found = known[values] = built(values)
        return found
    return scored


def shown(indicator: str, value: float | None) -> str:
    """An indicator's value as pages and the CLI print it: 95.3%, 12.5 小时, 3."""
    if value is None:
        return "—"
    kind = INDICATORS[indicator][1]
    if kind == "rate":
        return f"{value * 100:.1f}%"
    if kind == "hours":
        return f"{value:.1f} 小时"
    return f"{value:g}"


def tie_rule(row: Indicators):
    """The published rankings' rule, for units with the same score: 按期办结率, 及时受理率, fewer overdue."""
    return (row.on_time_closure_rate is None, -(row.on_time_closure_rate or 0), -(row.timely_acceptance_rate or 0),
            row.overdue, -row.reported)


# -- units --------------------------------------------------------------------------------------------------------

@dataclasses.dataclass(frozen=True)
class UnitRow:
    """A ranked unit: its key (department id, region code, grid id, the grid worker's person id or the cadre's
    account id), name, figures and score."""
    unit: str
    key: int | str
    name: str
    region_code: str
    indicators: Indicators
    score: Score
    place: int = 0

    def as_dict(self) -> dict:
        from .rankings import rates   # the API's rendering of indicators, one place

        return {"unit": self.unit, "key": self.key, "name": self.name, "place": self.place,
                "region_code": self.region_code, "score": self.score.as_dict(), "indicators": rates(self.indicators)}


def unit_indicators(session: Session, unit: str, *, start: dt.datetime, end: dt.datetime, as_of: dt.datetime,
                    response_hours: float = RESPONSE_HOURS, excluded_case_ids=None,
                    cadre_coverage: bool = True) -> list[tuple]:
    """[(key, name, region code, Indicators)] for every unit of the kind with cases or households in the
    period, each kind in a fixed number of set-based queries (one GROUP BY over the cases, one over the
    households; grid workers and cadres add up their grids' rows). `cadre_coverage=False` skips the cadres' own
    visit counts (the costliest query) when a scheme does not weigh 户户见干部."""
    window = dict(start=start, end=end, as_of=as_of, response_hours=response_hours,
                  excluded_case_ids=excluded_case_ids)
    if unit == "department":
        names = dict(session.execute(select(Department.id, Department.short_name)).all())
        return [(row.key, names.get(row.key, "未知部门"), "", row)
                for row in evaluate(session, by="department", **window) if row.key is not None and row.reported]
    if unit in ("county", "township"):
        names = dict(session.execute(select(Region.code, Region.name).where(Region.level == unit)).all())
        return [(row.key, names.get(row.key, row.key), row.key, row)
                for row in evaluate(session, by="region", region_level=unit, **window) if row.key in names]
    if unit not in UNITS:
        raise FormInvalid({"unit": [f"考核对象应为{'、'.join(UNITS.values())}之一"]})
    grids = {row.key: row for row in evaluate(session, by="grid", **window) if row.key is not None}
    if unit == "grid":
        # every grid's name (8,700 short rows) rather than an IN of thousands of ids, whose binding alone took
        # 0.3 s at a city's volume
        names = {gid: (name, code) for gid, name, code in session.execute(
            select(Grid.id, Grid.name, Grid.region_code)) if gid in grids}
        return [(key, names[key][0], names[key][1], row) for key, row in grids.items() if key in names]
    return _people(session, unit, grids, start=start, end=end, cadre_coverage=cadre_coverage)


def _grid_tree(session: Session) -> dict[int, list[int]]:
    """Each grid's children, from one query: a grid worker or cadre of a grid answers for the grids under it."""
    children: dict[int, list[int]] = {}
    for grid_id, parent_id in session.execute(select(Grid.id, Grid.parent_id).where(Grid.parent_id.is_not(None))):
        children.setdefault(parent_id, []).append(grid_id)
    return children


def _under(grid_id: int, children: dict[int, list[int]]) -> list[int]:
    found, todo = [], [grid_id]
    while todo:
        current = todo.pop()
        found.append(current)
        todo.extend(children.get(current, ()))
    return found


def _cadre_coverage(session: Session, start: dt.datetime, end: dt.datetime) -> dict:
    from minqing.core.grassroots import household_visits   # core beside workflows; imported when used

    window = household_visits.Period("evaluation", start, end, "")
    return {row.account_id: row for row in household_visits.cadre_coverage(session, current=window)}


def _people(session: Session, unit: str, grids: dict, *, start, end, cadre_coverage: bool = True) -> list[tuple]:
    """Grid workers (the roster, `grid_members`: a person of a grid answers for it and the grids under it) and
    cadres (the grids they answer for, `cadre_grids`): their grids' figures added up; a cadre's 户户见干部 is their
    own visits to the households they answer for."""
    if unit == "grid_worker":
        held = session.execute(select(GridMember.person_id, GridMember.grid_id, Person.name, Grid.region_code)
                               .join(Person, Person.id == GridMember.person_id)
                               .join(Grid, Grid.id == GridMember.grid_id))
        coverage = {}
    else:
        held = session.execute(select(CadrePost.account_id, CadreGrid.grid_id, Account.display_name, Region.code)
                               .join(Account, Account.id == CadrePost.account_id)
                               .join(Region, Region.id == CadrePost.region_id)
                               .outerjoin(CadreGrid, CadreGrid.cadre_post_id == CadrePost.id))
        coverage = _cadre_coverage(session, start, end) if cadre_coverage else {}
    children = _grid_tree(session)
    people: dict[int, dict] = {}
    for key, grid_id, name, code in held:
        person = people.setdefault(key, {"name": name, "code": code, "grids": set()})
        if grid_id is not None:
            person["grids"].update(_under(grid_id, children))
    found = []
    for key, person in people.items():
        row = Indicators.added(key, [grids[grid_id] for grid_id in person["grids"] if grid_id in grids])
        if key in coverage:
            row = dataclasses.replace(row, households=coverage[key].households, cadre_visited=coverage[key].seen)
        if row.reported or row.households:
            found.append((key, person["name"], person["code"] or "", row))
    return found


def _inside(region_code: str, county: str) -> bool:
    return bool(region_code) and region_code[:SIGNIFICANT["county"]] == county[:SIGNIFICANT["county"]]


def rank(session: Session, scheme: Scheme, period_key: str | None = None, *, unit: str,
         start: dt.datetime | None = None, end: dt.datetime | None = None, now: dt.datetime | None = None,
         excluded_case_ids=None, county: str | None = None) -> list[UnitRow]:
    """The scheme's ranking of `unit`s over a month (`period_key`, "YYYY-MM") or [start, end): best first, each
    with its place, figures and score broken down per indicator and deduction. A county's scheme ranks only the
    units inside the county, as does any scheme given `county` (a county's code). FormInvalid for a unit the
    scheme does not rank or a bad period."""
    if unit not in scheme.units:
        raise FormInvalid({"unit": [f"考核方案“{scheme.title}”不考核{UNITS.get(unit, unit)}"]})
    if start is None or end is None:
        start, end = months.bounds(months.parse(period_key or ""))
    now = now or utcnow()
    weighed = {item["indicator"] for item in scheme.document["indicators"]}
    found = unit_indicators(session, unit, start=start, end=end, as_of=now, response_hours=scheme.response_hours,
                            excluded_case_ids=excluded_case_ids, cadre_coverage="cadre_coverage_rate" in weighed)
    for within in {scheme.scope, county or CITY} - {CITY}:
        found = [item for item in found if _inside(item[2], within)]
    scoring = scorer(scheme.document)
    scored = [(scoring(row), key, name, code, row) for key, name, code, row in found]
    scored.sort(key=lambda item: (-item[0].total, *tie_rule(item[4]), str(item[1])))
    return [UnitRow(unit=unit, key=key, name=name, region_code=code, indicators=row, score=its, place=place)
            for place, (its, key, name, code, row) in enumerate(scored, start=1)]


def last_month(now: dt.datetime | None = None) -> str:
    return months.previous(months.current(now))


def scope_title(session: Session, scope: str) -> str:
    if scope == CITY:
        return "全市"
    return session.scalar(select(Region.name).where(Region.code == scope)) or scope


def counties(session: Session, viewer: Actor | None = None) -> list[tuple[str, str]]:
    """(code, name) of the counties; for a viewer, those their grants' regions lie in or hold (every county for
    an administrator or the city's staff), so a township's page names no other county."""
    rows = [(code, name) for code, name in session.execute(
        select(Region.code, Region.name).where(Region.level == "county").order_by(Region.code))]
    if viewer is None or viewer.has_role(Role.ADMIN):
        return rows
    regions = [grant.region_code for grant in viewer.grants if grant.region_code]
    return [(code, name) for code, name in rows
            if any(county_of(region) in (CITY, code) for region in regions)]


__all__ = ["CITY", "DEDUCTIONS", "Deduction", "INDICATORS", "Part", "Scheme", "Score", "UNITS", "UnitRow", "check",
           "check_scope", "counties", "county_of", "current", "default", "for_region", "fraction", "history",
           "last_month", "may_edit", "meta_schema", "parse", "problems", "rank", "save", "scope_title", "score",
           "scopes", "scorer", "shown", "tie_rule", "unit_indicators", "version"]
