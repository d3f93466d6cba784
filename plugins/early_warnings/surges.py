"""同类事件激增: one category of cases in one grid (or village) surging against the area's own recent baseline.

The query (`event_surges`): a category of cases in one grid (or village) whose count in the last `recent_days`
days is at least `minimum` and exceeds `factor` times what its own daily rate over the `baseline_days` days
before would predict for those days (recent × baseline_days > factor × baseline × recent_days). An area with no
such cases in the baseline fires as soon as it reaches `minimum`.

A warning's key names the grid, theme, category code and ISO week, so an acknowledged surge comes back if it is
still going on the next week. The dashboard panel lists the surges per grid, and per village where the cases
spread over several grids."""
from __future__ import annotations

import collections
import dataclasses
import datetime as dt

from sqlalchemy import func, literal, select
from sqlalchemy.orm import Session

from minqing import themes
from minqing.core import scope, warning_rules as warnings
from minqing.core.actors import Actor
from minqing.core.hooks import hookimpl
from minqing.core.models import Case, Grid, Region, utcnow
from minqing.core.geo.regions import SIGNIFICANT
from minqing.core.warning_rules import EarlyWarning, settings_of

from . import WARNINGS_SECTION, count_where, hooks, integer, schema

MINQING_TITLE = "预警 · 同类事件激增"  # what the admin page and `minqing plugins list` show
MINQING_DESCRIPTION = "同一网格或村同类事件激增时预警。"

KEY = "surges"
SETTINGS = {"recent_days": 7, "baseline_days": 30, "factor": 3.0, "minimum": 5, "limit": 20}
SCHEMA = schema(recent_days=integer("近期天数", 1, 90), baseline_days=integer("基线天数", 1, 365),
                factor={"type": "number", "title": "倍数", "exclusiveMinimum": 0, "maximum": 100},
                minimum=integer("最少件数", 1, 10000), limit=integer("最多条数", 1, 500))
AREAS = ("grid", "village")
VOID = "voided"
PANEL_ROWS = 10   # per kind of area on the dashboard


@dataclasses.dataclass(frozen=True)
class Surge:
    area: str                 # "grid" or "village"
    area_key: int | str       # a grid id, or a 12-digit village code
    theme_key: str
    category: str             # the category's group title (Case.category, e.g. "市容环境")
    subcategory: str          # the category code of the theme (Case.subcategory, e.g. "1001")
    recent: int               # cases in the last `recent_days` days
    baseline: int             # cases in the `baseline_days` days before
    recent_days: int
    baseline_days: int

    @property
    def baseline_daily(self) -> float:
        return self.baseline / self.baseline_days

    @property
    def expected(self) -> float:
        """Cases the baseline rate predicts for the recent window."""
        return self.baseline_daily * self.recent_days

    @property
    def ratio(self) -> float | None:
        """How many times the expected count the recent count is; None when the baseline is empty."""
        return self.recent / self.expected if self.baseline else None


def event_surges(session: Session, viewer: Actor, *, area: str = "grid", now: dt.datetime | None = None,
                 recent_days: int = 7, baseline_days: int = 30, factor: float = 3.0, minimum: int = 5,
                 limit: int | None = 20) -> list[Surge]:
    """Categories (theme, category and category code) whose recent count in one grid or village surged;
    the largest recent counts first."""
    if area not in AREAS:
        raise ValueError(f"unknown area {area!r}; use one of {AREAS}")
    if recent_days < 1 or baseline_days < 1 or factor <= 0 or minimum < 1:
        raise ValueError("recent_days, baseline_days and minimum must be positive, factor greater than 0")
    now = now or utcnow()
    recent_start, baseline_start = _window(now, recent_days, baseline_days)
    key = (Case.grid_id if area == "grid" else func.substr(Case.region_code, 1, SIGNIFICANT["village"])).label("area")
    recent = count_where(Case.created_at >= recent_start)
    baseline = count_where(Case.created_at < recent_start)
    statement = (
        select(key, Case.theme_key, Case.category, Case.subcategory, recent.label("recent"),
               baseline.label("baseline"))
        .where(Case.created_at >= baseline_start, Case.created_at < now, Case.status != VOID,
               (Case.grid_id.is_not(None) if area == "grid" else Case.region_code != ""))
        .group_by(key, Case.theme_key, Case.category, Case.subcategory)
        # Integers on both sides: recent / recent_days > factor × baseline / baseline_days
        .having(recent >= minimum, recent * literal(baseline_days) > baseline * literal(factor * recent_days))
        .order_by(recent.desc(), key, Case.theme_key, Case.category, Case.subcategory))
    if limit:
        statement = statement.limit(limit)
    rows = session.execute(scope.restrict(statement, Case, viewer))
    return [Surge(area=area, area_key=row.area, theme_key=row.theme_key, category=row.category or "",
                  subcategory=row.subcategory or "", recent=int(row.recent), baseline=int(row.baseline),
                  recent_days=recent_days, baseline_days=baseline_days) for row in rows]


def evaluate(session, viewer, settings, now) -> list[EarlyWarning]:
    surges = event_surges(session, viewer, area="grid", now=now, recent_days=settings["recent_days"],
                          baseline_days=settings["baseline_days"], factor=settings["factor"],
                          minimum=settings["minimum"], limit=settings["limit"])
    grids = {grid.id: grid for grid in session.scalars(select(Grid).where(
        Grid.id.in_([surge.area_key for surge in surges])))} if surges else {}
    year, week, _ = warnings.city_today(now).isocalendar()
    found = []
    for surge in surges:
        grid = grids.get(surge.area_key)
        baseline = (f"此前 {surge.baseline_days} 天共 {surge.baseline} 件，按此应有约 {surge.expected:.1f} 件"
                    if surge.baseline else f"此前 {surge.baseline_days} 天没有此类事件")
        name = grid.name if grid else "网格"
        found.append(EarlyWarning(
            rule=KEY, key=f"grid:{surge.area_key}:{surge.theme_key}:{surge.subcategory}:{year}-W{week:02d}",
            title=f"{name}「{surge.category or surge.subcategory or '未分类'}」事件激增",
            reason=f"近 {surge.recent_days} 天上报 {surge.recent} 件；{baseline}。",
            severity="red" if surge.ratio is None or surge.ratio >= 2 * settings["factor"] else "yellow",
            grid_id=surge.area_key, region_code=grid.region_code if grid else "",
            lon=(grid.min_lon + grid.max_lon) / 2 if grid and grid.min_lon is not None else None,
            lat=(grid.min_lat + grid.max_lat) / 2 if grid and grid.min_lat is not None else None,
            objects=(("grid", surge.area_key),), theme_key=surge.theme_key, category=surge.category,
            subcategory=surge.subcategory))
    return found


def figures(session, viewer, settings, now) -> list[dict]:
    """The recent and baseline cases per grid, region code and category (theme, category, category code): stored
    with the rule's warnings at each city-wide refresh, so the dashboard panel adds them up within its viewer's
    scope (`stored_surges`) instead of reading 37 days of cases twice. A row is kept only when its grid's or its
    village's cases of the category reach `minimum` in the recent window: no part of a smaller group can surge."""
    recent_start, baseline_start = _window(now, settings["recent_days"], settings["baseline_days"])
    recent, baseline = count_where(Case.created_at >= recent_start), count_where(Case.created_at < recent_start)
    statement = (select(Case.grid_id, Case.region_code, Case.theme_key, Case.category, Case.subcategory,
                        recent.label("recent"), baseline.label("baseline"))
                 .where(Case.created_at >= baseline_start, Case.created_at < now, Case.status != VOID)
                 .group_by(Case.grid_id, Case.region_code, Case.theme_key, Case.category, Case.subcategory))
    rows = session.execute(scope.restrict(statement, Case, viewer)).all()
    totals = collections.Counter()
    for row in rows:
        for area in AREAS:
            if (key := _area_key(area, row.grid_id, row.region_code)) is not None:
                totals[(area, key, row.theme_key, row.category, row.subcategory)] += int(row.recent)
    return [{"grid_id": row.grid_id, "region_code": row.region_code, "theme_key": row.theme_key,
             "category": row.category, "subcategory": row.subcategory, "recent": int(row.recent),
             "baseline": int(row.baseline)}
            for row in rows
            if any(totals[(area, key, row.theme_key, row.category, row.subcategory)] >= settings["minimum"]
                   for area in AREAS if (key := _area_key(area, row.grid_id, row.region_code)) is not None)]


def _window(now: dt.datetime, recent_days: int, baseline_days: int) -> tuple[dt.datetime, dt.datetime]:
    recent_start = now - dt.timedelta(days=recent_days)
    return recent_start, recent_start - dt.timedelta(days=baseline_days)


def _area_key(area: str, grid_id, region_code):
    """A case's grid, or its village (its region code's first 12 digits); None when it has none."""
    if area == "grid":
        return grid_id
    return region_code[:SIGNIFICANT["village"]] if region_code else None


def stored_surges(stored: list[dict], *, area: str, recent_days: int, baseline_days: int, factor: float,
                  minimum: int, limit: int | None) -> list[Surge]:
    """`event_surges` from the stored figures (`figures`) a viewer may see: the same groups, condition and order."""
    groups: dict[tuple, list[int]] = {}
    for row in stored:
        key = _area_key(area, row["grid_id"], row["region_code"])
        if key is not None:
            counts = groups.setdefault((key, row["theme_key"], row["category"], row["subcategory"]), [0, 0])
            counts[0] += row["recent"]
            counts[1] += row["baseline"]
    found = sorted(((-recent, group, recent, baseline) for group, (recent, baseline) in groups.items()
                    if recent >= minimum and recent * baseline_days > baseline * (factor * recent_days)),
                   key=lambda item: item[:2])
    return [Surge(area=area, area_key=key, theme_key=theme_key, category=category or "",
                  subcategory=subcategory or "", recent=recent, baseline=baseline, recent_days=recent_days,
                  baseline_days=baseline_days)
            for _, (key, theme_key, category, subcategory), recent, baseline in found[:limit or None]]


RULE = {"key": KEY, "title": "同类事件激增", "settings": SETTINGS, "schema": SCHEMA, "evaluate": evaluate,
        "figures": figures}


warning_rules, map_layers = hooks(RULE, "#c62828")


# -- the dashboard panel ---------------------------------------------------------------------------------------

def dashboard_surges(session: Session, viewer: Actor, now: dt.datetime, settings: dict,
                     stored: list[dict] | None = None) -> list[Surge]:
    """Surges per grid, and per village where the cases spread over several grids (a village surge that a grid
    surge of the same category already shows is left out), by the rule's settings: added up from the `stored`
    figures of the last refresh when given, else counted in the cases as of `now`."""
    tuning = {name: settings[name] for name in ("recent_days", "baseline_days", "factor", "minimum")}

    def surges(area: str) -> list[Surge]:
        if stored is not None:
            return stored_surges(stored, area=area, limit=PANEL_ROWS, **tuning)
        return event_surges(session, viewer, area=area, now=now, limit=PANEL_ROWS, **tuning)

    in_grids = surges("grid")
    ids = [surge.area_key for surge in in_grids]
    villages_of = dict(session.execute(select(Grid.id, Grid.region_code).where(Grid.id.in_(ids))).all()) \
        if ids else {}
    shown = {(villages_of.get(s.area_key, "")[:12], s.theme_key, s.category, s.subcategory) for s in in_grids}
    in_villages = [surge for surge in surges("village")
                   if (surge.area_key, surge.theme_key, surge.category, surge.subcategory) not in shown]
    return in_grids + in_villages


def _area_names(session: Session, surges: list[Surge]) -> dict:
    grid_ids = [s.area_key for s in surges if s.area == "grid"]
    codes = [s.area_key for s in surges if s.area == "village"]
    names: dict = {}
    if grid_ids:
        names.update(session.execute(select(Grid.id, Grid.name).where(Grid.id.in_(grid_ids))).all())
    if codes:
        names.update(session.execute(select(Region.code, Region.name).where(Region.code.in_(codes))).all())
    return names


def _catalogue(platform, session: Session) -> tuple[dict, dict]:
    """Theme titles, and category titles by (theme, code)."""
    titles, categories = {}, {}
    for theme in themes.themes(platform, session):
        titles[theme.key] = theme.title
        for category in theme.categories:
            categories[(theme.key, category.get("code"))] = category.get("title", category.get("code"))
    return titles, categories


def _row(surge: Surge, names: dict, titles: dict, categories: dict) -> list:
    area = names.get(surge.area_key, "网格" if surge.area == "grid" else surge.area_key)
    category = categories.get((surge.theme_key, surge.subcategory),
                              surge.subcategory or surge.category or "未分类")
    ratio = f"{surge.ratio:.1f}" if surge.ratio is not None else "新增"
    return [area, f"{titles.get(surge.theme_key, surge.theme_key)} · {category}", surge.recent, surge.baseline,
            ratio]


@hookimpl
def dashboard_panels(platform, viewer, session, now):
    settings = settings_of(session, RULE)
    stored = warnings.figures(session, viewer, RULE, now, reported_within=dt.timedelta(
        days=settings["recent_days"] + settings["baseline_days"]))
    surges = dashboard_surges(session, viewer, now, settings, stored)
    recent, baseline = settings["recent_days"], settings["baseline_days"]
    blocks = [{"note": f"近{recent}天同一网格（或村、社区）同一类别事件不少于{settings['minimum']}件，"
                       f"且超过前{baseline}天日均水平的{settings['factor']}倍。"}]
    if surges:
        names, (titles, categories) = _area_names(session, surges), _catalogue(platform, session)
        blocks.append({"table": {"id": "surges",
                                 "columns": ["区域", {"title": "类别", "wrap": True}, f"近{recent}天",
                                             f"前{baseline}天", "倍数"],
                                 "rows": [_row(surge, names, titles, categories) for surge in surges]}})
    else:
        blocks.append({"text": "暂无激增的事件类别。"})
    return [{"key": "surge", "title": RULE["title"], "count": len(surges), "section": WARNINGS_SECTION,
             "order": 10, "blocks": blocks}]
