"""The dashboard page: figures, trends, breakdowns, indicators and rankings for a period, grid colours, early
warnings and the plugins' panels (`dashboard_panels`: the warning rules' summaries among them), all within the
viewer's scope."""
from __future__ import annotations

from flask import render_template, request, url_for

from minqing import themes
from minqing.core import warning_rules, warning_rules as warnings
from minqing.core.models import utcnow
from minqing.core.geo.regions import LEVEL_NAMES
from minqing.workflows import channel_figures, channels, evaluate_many, months, rankings

from .. import charts
from ..context import db, platform, viewer
from ..permissions import roles_required
from . import blueprint, figures, panels, periods
from .briefs import form_context as brief_form_context
from .warnings import ActionForm

COLOUR_TITLES = {"red": "红色网格", "yellow": "黄色网格", "blue": "蓝色网格"}
GRID_LEVEL_TITLES = {"large": "大网格", "medium": "中网格", "small": "小网格"}
RANKING_COLUMNS = [("name", "名称"), ("reported", "上报"), ("timely", "及时受理率"), ("on_time", "按期办结率"),
                   ("overdue", "超期件数"), ("rework", "返工率"), ("satisfaction", "满意率"),
                   ("hours", "平均处置时长")]
REGION_COLUMNS = [*RANKING_COLUMNS, ("coverage", "户户见干部")]   # households a cadre visited (core.grassroots.household_visits)
CHANNEL_COLUMNS = [("channel", "受理渠道"), ("reported", "件数"), ("response", "首次响应（中位）"),
                   ("on_time", "按期办结率"), ("satisfaction", "满意率")]
BARS = 12
WARNINGS_SECTION = "warnings"


def indicator_row(name: str, row) -> dict:
    return {"name": name, "reported": row.reported, "timely": charts.percent(row.timely_acceptance_rate),
            "on_time": charts.percent(row.on_time_closure_rate), "overdue": row.overdue,
            "rework": charts.percent(row.rework_rate), "satisfaction": charts.percent(row.satisfaction_rate),
            "hours": charts.hours(row.average_handling_hours), "coverage": charts.percent(row.cadre_coverage_rate)}


def channel_rows(rows, titles: dict[str, str]) -> list[dict]:
    """The per-channel figures as the table shows them (docs/channels.md, "Figures")."""
    return [{"channel": titles.get(row.channel, row.channel or "未记录"), "reported": row.reported,
             "response": charts.hours(row.median_response_hours), "on_time": charts.percent(row.on_time_closure_rate),
             "satisfaction": charts.percent(row.satisfaction_rate)} for row in rows]


def overdue_by(deadline, now) -> str:
    """How long past a deadline, in days (or hours within the first day)."""
    hours = int((now - deadline).total_seconds() // 3600)
    return f"{hours // 24} 天" if hours >= 24 else f"{max(hours, 0)} 小时"


def _theme_titles() -> dict[str, str]:
    return {theme.key: theme.title for theme in themes.themes(platform(), db())}


def _plugin_figures():
    shown = []
    for plugin, figure in platform().plugins.collect("dashboard_figures", viewer=viewer(), session=db()):
        if isinstance(figure, dict) and figure.get("title") is not None:
            shown.append({"plugin": plugin, "title": figure["title"], "value": figure.get("value", "—"),
                          "unit": figure.get("unit", ""), "detail": figure.get("detail", "")})
    return shown


@blueprint.get("/")
@roles_required("admin", "operator", "leader")
def dashboard():
    session, who, now = db(), viewer(), utcnow()
    today = warnings.city_today(now)
    period, errors = periods.parse(request.args, today)
    region = figures.viewer_region(session, who)
    level = figures.child_level(region)
    theme_titles = _theme_titles()

    # Indicators and breakdowns of the period: evaluation's GROUP BY (one reading of the period's cases for the
    # departments, the regions and the channels), reused for the bars.
    evaluated = evaluate_many(session, {"department": ("department", "county"), "region": ("region", level),
                                        "channel": ("channel", "county")},
                              start=period.start, end=period.end, as_of=now, viewer=who)
    by_department, by_region = evaluated["department"], evaluated["region"]
    total = figures.total_of(by_department)
    departments = figures.department_names(session)
    names = figures.region_names(session, [row.key for row in by_region])

    def department_name(key):
        return departments.get(key, "未知部门") if key is not None else "未分拨"

    theme_counts = figures.by_theme(session, who, period.start, period.end)
    department_counts = sorted(by_department, key=lambda row: -row.reported)
    region_counts = sorted(by_region, key=lambda row: -row.reported)
    days, reported, closed = figures.daily_trend(session, who, today=today)
    open_total, open_overdue = figures.open_counts(session, who, now)
    overdue = figures.overdue_cases(session, who, now)

    charts_ = {
        "trend": charts.line_chart(days, [("上报", reported), ("办结", closed)], title="近30天事件上报与办结趋势"),
        "themes": charts.bar_chart([(theme_titles.get(key, key), n) for key, n in theme_counts[:BARS]],
                                   title="按业务主题", href=lambda i: url_for(
                                       "work.inbox", theme=theme_counts[i][0])),
        "departments": charts.bar_chart([(department_name(row.key), row.reported)
                                         for row in department_counts[:BARS]], title="按职能部门",
                                        colour=charts.PALETTE[1]),
        "regions": charts.bar_chart([(figures.region_label(row.key, names, level), row.reported)
                                     for row in region_counts[:BARS]],
                                    title=f"按{LEVEL_NAMES[level]}", colour=charts.PALETTE[2]),
        "department_ranking": charts.ranking_table(
            RANKING_COLUMNS, [indicator_row(department_name(row.key), row) for row in figures.ranked(by_department)],
            caption="职能部门排名（按期办结率优先）"),
        "channels": charts.ranking_table(
            CHANNEL_COLUMNS, channel_rows(channel_figures.by_channel(session, start=period.start, end=period.end,
                                                                     as_of=now, viewer=who,
                                                                     evaluated=evaluated["channel"]),
                                          channels.titles(platform())),
            caption="按受理渠道", numbered=False),
        "region_ranking": charts.ranking_table(
            REGION_COLUMNS, [indicator_row(figures.region_label(row.key, names, level), row)
                              for row in figures.ranked(by_region)],
            caption=f"{LEVEL_NAMES[level]}排名（按期办结率优先）"),
    }

    # Early warnings and panels come from the plugins: a disabled plugin's rule and panel are not shown. The
    # warnings are the stored ones (a refresh evaluates the rules), a few per rule: the warnings page lists them all.
    active_warnings = warning_rules.overview(platform(), session, who, now)
    # before the commit: the panel of 户户见干部 reuses the seen households the evaluation counted in this
    # transaction (core.grassroots.household_visits), a second pass over a month's visits otherwise
    shown_panels = panels.collect(platform(), who, session, now)
    session.commit()   # an on-demand evaluation (a rule never evaluated, or too long ago) is stored

    return render_template(
        "manage/dashboard.html", period=period, choices=periods.CHOICES, errors=errors, args=request.args,
        region=region, level_title=LEVEL_NAMES[level], total=total, open_total=open_total,
        open_overdue=open_overdue, closed_in_period=total.closed, charts=charts_, overdue=overdue,
        theme_titles=theme_titles, departments=departments, now=now, colours=figures.grid_colours(session, who),
        colour_titles=COLOUR_TITLES, grid_level_titles=GRID_LEVEL_TITLES, plugin_figures=_plugin_figures(),
        active_warnings=active_warnings, active_total=sum(item.total for item in active_warnings),
        warnings_evaluated_at=warning_rules.last_evaluated(active_warnings),
        warning_panels=[panel for panel in shown_panels if panel["section"] == WARNINGS_SECTION],
        other_panels=[panel for panel in shown_panels if panel["section"] != WARNINGS_SECTION],
        warning_form=ActionForm(), severity_titles=warning_rules.SEVERITY_TITLES,
        percent=charts.percent, latest_ranking=rankings.latest_publication(session), month_title=months.title,
        hours=charts.hours, overdue_by=overdue_by, department_rows=len(by_department),
        brief_form=brief_form_context()), 400 if errors else 200
