"""What a brief says: every figure of a period, computed within the viewer's scope, as one JSON-ready dict.

Reproducible: open cases are judged as of the period's end (`as_of`; as of now while the period runs, which the
brief then calls provisional), the previous period and the same period a year before as of their own ends, and
every list is sorted on its values and then on ids — the same data and period give the same dict. The numbers'
definitions are `DEFINITIONS`, printed in every brief (docs/briefs.md says the same).
"""
from __future__ import annotations

import dataclasses
import datetime as dt
import logging

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from minqing.core import scope, warning_rules
from minqing.core.actors import Actor
from minqing.core.geo.regions import LEVELS, level_of
from minqing.core.models import Case, CaseMilestone, Department, Region, WarningAction, utcnow

from .. import rankings, schemes
from ..evaluation import Indicators, evaluate, total
from . import hotspots as hotspot_module
from . import places
from .periods import Period

log = logging.getLogger(__name__)
TOP_CATEGORIES = 10
TREND_PERIODS = 6
ROWS = 30
DEFINITIONS = [
    ("统计范围", "本期（按城市时间的自然月或 ISO 周）内上报的事件，不含作废件；重复件（已合并到其他事件）只计主件；"
                "仅含生成者权限范围（本行政区划）内的事件。未办结事件按本期末的状态判断（本期未结束时按生成时刻，简报注明“临时”）。"),
    ("上报事件", "本期上报的事件数。"),
    ("办结事件", "本期上报、且已办结的事件数。"),
    ("超期件数", "本期上报的事件中，晚于办理时限办结的，以及期末仍未办结且已过办理时限的。"),
    ("按期办结率", "按期办结件数 ÷ 应办结件数（已办结，或期末已过办理时限）。"),
    ("及时受理率", "在受理时限内受理的件数 ÷ 应受理件数。"),
    ("满意率", "最近一次回访评价为满意或基本满意的件数 ÷ 有回访评价的件数。"),
    ("退回件数", "分拨后被部门退回（退回）过至少一次的件数，按事件当前所属部门统计。"),
    ("考核排名", "按全市现行考核方案（docs/evaluation.md）计分：月度简报采用当月职能部门考核排名（已发布则为发布时的"
                "结果，含申诉调整；全市口径）；周简报以同一方案对本周事件计分排名。"),
    ("高发类别", "本期事件数最多的事件类别；趋势为最近六个周期每期的事件数。"),
    ("热点", "同一类别事件在空间上的聚集：将事件坐标投影为米制坐标后用 DBSCAN 聚类，"
            "半径 {eps_m} 米内（含自身）至少 {min_cases} 件事件的为核心点，相连的核心点及其邻近事件构成一个热点；"
            "与上期同类热点按中心距离匹配，判定新出现、扩大、缩小、持平或消失。"),
    ("重复地点", "最近 {place_days} 天内地址相同或相距不超过 {place_radius_m} 米的事件相互关联，"
                "关联事件不少于 {place_min_cases} 件且分布在至少 {place_min_months} 个月、并有本期事件的地点。地址已脱敏。"),
    ("重复反映人", "本期反映事件不少于 {reporter_min} 件的同一人（按账号，无账号按电话）；姓名、电话已脱敏。"),
    ("预警", "期末各预警规则计算出的预警（含已处理；以各规则“最多条数”设置为上限）为“期末预警”；"
            "本期内确认或转为事件的预警分别计入“本期确认”“本期转为事件”。"),
    ("数据鲜活度", "期末各业务主题记录中，在主题巡查周期内（未设周期按 365 天）新增、更新或巡查过的比例。"),
    ("户户见干部", "本期内有干部走访过的户数 ÷ 户数。"),
]
PLACE_SETTINGS = {"days": 180, "radius_m": 30, "min_cases": 3, "min_months": 2}
REPORTER_MIN = 3


def _rate(value: float | None) -> float | None:
    return None if value is None else round(value, 4)


def _summary(rows: list[Indicators]) -> dict:
    whole = total(rows)
    return {"reported": whole.reported, "closed": whole.closed, "overdue": whole.overdue,
            "on_time_closure_rate": _rate(whole.on_time_closure_rate),
            "timely_acceptance_rate": _rate(whole.timely_acceptance_rate),
            "satisfaction_rate": _rate(whole.satisfaction_rate), "returned": whole.returned}


def as_of_for(period: Period, now: dt.datetime) -> dt.datetime:
    return min(period.end, now)


def scheme_ranking(session: Session, period: Period, as_of: dt.datetime) -> list[dict]:
    """The ranking the brief prints, scored by the city's assessment scheme (workflows.schemes): for a month the
    department ranking (the published one when it is, with its appeals), for a week the scheme applied to the
    week's cases."""
    if period.kind == "month":
        standings = [(s.rank, s.name, s.indicators, s.score)
                     for s in rankings.ranking(session, period.key, now=as_of).standings]
    else:
        scheme = schemes.current(session)
        standings = [(row.place, row.name, row.indicators, row.score)
                     for row in schemes.rank(session, scheme, unit="department", start=period.start, end=period.end,
                                             now=as_of) if row.indicators.reported]
    return [{"rank": rank, "name": name, "reported": row.reported,
             "score": round(score.total, 1) if score is not None else None,
             "on_time_closure_rate": _rate(row.on_time_closure_rate),
             "timely_acceptance_rate": _rate(row.timely_acceptance_rate), "overdue": row.overdue,
             "satisfaction_rate": _rate(row.satisfaction_rate)} for rank, name, row, score in standings]


def _by_category(session: Session, viewer: Actor, period: Period) -> dict[str, int]:
    category = func.coalesce(func.nullif(Case.category, ""), "未分类").label("category")
    statement = (select(category, func.count()).outerjoin(CaseMilestone, CaseMilestone.case_id == Case.id)
                 .where(Case.created_at >= period.start, Case.created_at < period.end,
                        Case.merged_into_id.is_(None), Case.status != "voided",
                        func.coalesce(CaseMilestone.voided, False).is_(False))
                 .group_by(category))
    return {name: count for name, count in session.execute(scope.restrict(statement, Case, viewer))}


def categories(session: Session, viewer: Actor, period: Period) -> tuple[list[str], list[dict]]:
    """(the trend's period titles, the top categories with their counts now, before, a year before, and trend)."""
    trend_periods = period.back(TREND_PERIODS)
    counts = [_by_category(session, viewer, each) for each in trend_periods]
    current, previous = counts[-1], counts[-2]
    last_year = _by_category(session, viewer, period.a_year_before())
    top = sorted(current, key=lambda name: (-current[name], name))[:TOP_CATEGORIES]
    return ([each.short_title for each in trend_periods],
            [{"category": name, "current": current[name], "previous": previous.get(name, 0),
              "last_year": last_year.get(name, 0), "trend": [each.get(name, 0) for each in counts]}
             for name in top])


def departments(session: Session, rows: list[Indicators]) -> list[dict]:
    """Overdue and returned cases by department (the case's current department), the most first."""
    names = dict(session.execute(select(Department.id, Department.short_name)).all())
    shown = [{"name": names.get(row.key, "未知部门") if row.key is not None else "未分拨", "reported": row.reported,
              "overdue": row.overdue, "dispatched": row.dispatched, "returned": row.returned}
             for row in rows if row.overdue or row.returned]
    return sorted(shown, key=lambda row: (-row["overdue"], -row["returned"], row["name"]))[:ROWS]


def early_warnings(platform, session: Session, viewer: Actor, period: Period, as_of: dt.datetime) -> list[dict]:
    """Per rule: the warnings standing at the period's end (handled ones included) and those handled in it."""
    handled: dict[tuple[str, str], int] = {}
    statement = (select(WarningAction.rule_key, WarningAction.action, func.count())
                 .where(WarningAction.at >= period.start, WarningAction.at < period.end)
                 .group_by(WarningAction.rule_key, WarningAction.action))
    for rule_key, action, count in session.execute(scope.restrict(statement, WarningAction, viewer)):
        handled[(rule_key, action)] = count
    shown = []
    for key, rule in sorted(warning_rules.rules(platform, session).items()):
        try:
            raised = len(warning_rules.evaluate(session, viewer, rule, as_of, include_handled=True))
        except Exception:   # one broken rule plugin must not stop the brief: it says so instead
            log.exception("warning rule %s failed in a brief", key)
            raised = None
        shown.append({"rule": key, "title": rule["title"], "raised": raised,
                      "acknowledged": handled.get((key, "acknowledge"), 0), "cases": handled.get((key, "case"), 0)})
    return shown


def freshness(session: Session, viewer: Actor, as_of: dt.datetime) -> dict:
    from minqing.themes import freshness as ledgers   # themes sits beside workflows; imported when used

    rows = ledgers.freshness(session, viewer, as_of)
    names = dict(session.execute(select(Department.key, Department.short_name)).all())
    per_department = ledgers.by_department(rows)
    records = sum(row.records for row in rows)
    fresh = sum(row.fresh for row in rows)
    table = [{"name": names.get(key, key), "records": counts[0], "fresh": counts[1], "untouched": counts[2],
              "rate": _rate(counts[1] / counts[0] if counts[0] else None)} for key, counts in per_department.items()]
    table.sort(key=lambda row: (row["rate"] if row["rate"] is not None else 2, row["name"]))
    return {"records": records, "fresh": fresh, "rate": _rate(fresh / records if records else None),
            "departments": table[:ROWS]}


def coverage(session: Session, viewer: Actor, period: Period, level: str) -> dict:
    from minqing.core.grassroots import household_visits

    window = household_visits.Period("brief", period.start, period.end, period.title)
    rows = household_visits.coverage(session, by=level, viewer=viewer, current=window)
    names = dict(session.execute(select(Region.code, Region.name).where(
        Region.code.in_([row.key for row in rows]))).all())
    households = sum(row.households for row in rows)
    seen = sum(row.seen for row in rows)
    table = sorted(({"name": names.get(row.key, row.key), "households": row.households, "seen": row.seen,
                     "rate": _rate(row.rate)} for row in rows),
                   key=lambda row: (row["rate"] if row["rate"] is not None else 2, row["name"]))
    return {"households": households, "seen": seen, "rate": _rate(seen / households if households else None),
            "regions": table[:ROWS]}


def coverage_level(region_code: str) -> str:
    """The level the coverage table breaks a region into: counties for a city, then townships, then villages."""
    level = level_of(region_code) if region_code else "city"
    below = LEVELS[min(LEVELS.index(level) + 1, len(LEVELS) - 1)]
    return below if below in ("county", "township", "village") else "village"


def _hotspot_row(change: hotspot_module.Change) -> dict:
    spot = change.hotspot
    return {"status": change.status, "status_title": change.title, "category": change.category,
            "cases": change.current.cases if change.current else 0,
            "previous": change.previous.cases if change.previous else 0, "lon": spot.lon, "lat": spot.lat,
            "radius_m": spot.radius_m, "case_ids": list(spot.case_ids)}


def definitions(hotspot_settings: dict) -> list[list[str]]:
    """The definitions with this brief's parameters filled in."""
    values = {**hotspot_settings, **{f"place_{key}": value for key, value in PLACE_SETTINGS.items()},
              "reporter_min": REPORTER_MIN}
    return [[term, text.format(**values)] for term, text in DEFINITIONS]


def build(platform, session: Session, viewer: Actor, period: Period, *, region_code: str = "",
          now: dt.datetime | None = None, hotspot_settings: dict | None = None) -> dict:
    """The brief of `period` as `viewer` sees it (its scope decides every count) for `region_code` (the region it
    is titled for: the viewer's)."""
    now = now or utcnow()
    as_of = as_of_for(period, now)
    before, year_ago = period.previous(), period.a_year_before()
    window = dict(by="department", viewer=viewer)
    current_rows = evaluate(session, start=period.start, end=period.end, as_of=as_of, **window)
    previous_rows = evaluate(session, start=before.start, end=before.end, as_of=as_of_for(before, now), **window)
    year_rows = evaluate(session, start=year_ago.start, end=year_ago.end, as_of=as_of_for(year_ago, now), **window)
    settings = hotspot_module.validate_settings(hotspot_settings or hotspot_module.settings_of(session))
    spots_now = hotspot_module.hotspots(session, viewer, period.start, period.end, **settings)
    spots_before = hotspot_module.hotspots(session, viewer, before.start, before.end, **settings)
    changed = hotspot_module.changes(spots_now, spots_before, eps_m=settings["eps_m"])
    trend_titles, top = categories(session, viewer, period)
    region_name = session.scalar(select(Region.name).where(Region.code == region_code)) if region_code else None
    repeat = places.repeat_places(session, viewer, end=period.end, touching=(period.start, period.end),
                                  **PLACE_SETTINGS)
    return {
        "period": period.key, "period_title": period.title, "kind": period.kind,
        "previous_title": before.short_title, "last_year_title": year_ago.short_title,
        "region_code": region_code, "region_name": region_name or "全市",
        "as_of": as_of.isoformat(), "provisional": as_of < period.end,
        "totals": {"current": _summary(current_rows), "previous": _summary(previous_rows),
                   "last_year": _summary(year_rows)},
        "ranking": scheme_ranking(session, period, as_of),
        "trend_titles": trend_titles, "categories": top,
        "hotspot_settings": settings, "hotspots": [_hotspot_row(change) for change in changed],
        "repeat_places": [{"cases": place.cases, "months": list(place.months), "categories": list(place.categories),
                           "address": place.address, "first": place.first_at.date().isoformat(),
                           "last": place.last_at.date().isoformat(), "case_ids": list(place.case_ids)}
                          for place in repeat],
        "repeat_reporters": [dataclasses.asdict(person) | {"categories": list(person.categories)}
                             for person in places.repeat_reporters(session, viewer, period.start, period.end,
                                                                   min_cases=REPORTER_MIN)],
        "departments": departments(session, current_rows),
        "warnings": early_warnings(platform, session, viewer, period, as_of),
        "freshness": freshness(session, viewer, as_of),
        "coverage": coverage(session, viewer, period, coverage_level(region_code)),
        "definitions": definitions(settings),
    }


__all__ = ["DEFINITIONS", "as_of_for", "build", "categories", "coverage_level", "definitions", "scheme_ranking"]
