"""考核排名 in 小兰民情: a month's department ranking — published (with when and by whom) or live while its
appeals are open (未发布 · 申诉期) — and the appeals that changed it; the city centre publishes it here. Each
unit's score under the assessment scheme (考核方案) is broken down per indicator and deduction; the other units
(counties, townships, grids, grid workers, cadres) are ranked live by the scheme that applies to them."""
from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for

from minqing import workflows
from minqing.core.models import Role
from minqing.workflows import months, rankings, schemes

from .. import charts
from ..context import db, viewer
from ..permissions import roles_required
from . import blueprint

VIEWERS = (Role.ADMIN, Role.OPERATOR, Role.LEADER, Role.DEPARTMENT_STAFF)
SCHEME_VIEWERS = (Role.ADMIN, Role.OPERATOR, Role.LEADER)
PAGE_SIZE = 100   # units of a live ranking shown per page
COLUMNS = [("name", "部门"), ("reported", "上报"), ("timely", "及时受理率"),
           ("on_time", "按期办结率"), ("overdue", "超期件数"), ("rework", "返工率"),
           ("satisfaction", "满意率"), ("hours", "平均处置时长"), ("freshness", "数据鲜活度"), ("note", "申诉调整")]


def _row(standing: rankings.Standing) -> dict:
    row = standing.indicators
    note = ""
    if standing.appeal_ids:
        note = f"剔除申诉 {len(standing.appeal_ids)} 件"
    if standing.moved:
        note += ("，" if note else "") + f"原第 {standing.baseline_rank} 名"
    return {"name": standing.name, "reported": row.reported,
            "timely": charts.percent(row.timely_acceptance_rate), "on_time": charts.percent(row.on_time_closure_rate),
            "overdue": row.overdue, "rework": charts.percent(row.rework_rate),
            "satisfaction": charts.percent(row.satisfaction_rate), "hours": charts.hours(row.average_handling_hours),
            "freshness": charts.percent(row.freshness_rate), "note": note}


def score_columns(scheme: schemes.Scheme, unit: str) -> list[tuple[str, str]]:
    """名称, 得分, one column per indicator (value · points) and the deductions: why a unit ranks where it does."""
    columns = [("name", schemes.UNITS.get(unit, "")), ("score", "得分")]
    columns += [(f"part:{item['indicator']}", f"{schemes.INDICATORS[item['indicator']][0]}（{item['weight']:g} 分）")
                for item in scheme.document["indicators"]]
    if scheme.document.get("deductions"):
        columns.append(("deductions", "扣分"))
    return columns


def score_row(name: str, score: schemes.Score) -> dict:
    row = {"name": name, "score": f"{score.total:.1f}"}
    for part in score.parts:
        row[f"part:{part.indicator}"] = f"{schemes.shown(part.indicator, part.value)} · {part.points:.1f}"
    row["deductions"] = "；".join(f"{d.title} {d.cases} 件 −{d.points:g}" for d in score.deductions if d.points) \
        or "无"
    return row


def _choices(current: str) -> list[str]:
    keys = {months.current(), months.previous(months.current()), current, *rankings.published_keys(db())}
    return sorted(keys, reverse=True)


def _units_table(key: str, unit: str, county: str, page: int) -> tuple:
    """The live ranking of counties, townships, grids, grid workers or cadres under the scheme that applies: every
    unit scored and placed, one page of them shown (a city has 7,505 grids)."""
    scheme = schemes.for_region(db(), county or None)
    rows = schemes.rank(db(), scheme, key, unit=unit, county=county or None)
    where = schemes.scope_title(db(), county) if county else "全市"
    pages = max(1, -(-len(rows) // PAGE_SIZE))
    page = min(page, pages)
    shown = rows[(page - 1) * PAGE_SIZE:page * PAGE_SIZE]
    caption = f"{months.title(key)}{where}{schemes.UNITS[unit]}排名（{scheme.label}）"
    if pages > 1:
        caption += f"，第 {shown[0].place}–{shown[-1].place} 名，共 {len(rows)} 个"
    table = charts.ranking_table(score_columns(scheme, unit), [score_row(r.name, r.score) for r in shown],
                                 caption=caption, first=shown[0].place if shown else 1)
    return scheme, table, (page, pages)


@blueprint.get("/rankings")
@roles_required(*VIEWERS)
def rankings_page():
    errors = []
    key = request.args.get("period") or months.previous(months.current())
    unit = request.args.get("unit") or "department"
    county = request.args.get("county") or ""
    page = max(1, request.args.get("page", 1, type=int))
    try:
        key = months.parse(key)
    except workflows.FormInvalid as error:
        errors = error.errors["period"]
        key = months.previous(months.current())
    if unit not in schemes.UNITS:
        errors, unit = errors + ["考核对象无效，已改为显示职能部门"], "department"
    try:
        county = schemes.check_scope(db(), county)
    except workflows.FormInvalid as error:
        errors, county = errors + error.errors["scope"], ""
    ranking, scheme, scores, table, pager = None, None, None, None, None
    if unit == "department":   # the departments' ranking (live: two evaluations) only where it is shown
        ranking = rankings.ranking(db(), key)
        scheme = ranking.scheme
        table = charts.ranking_table(COLUMNS, [_row(standing) for standing in ranking.standings],
                                     caption=f"{ranking.title}职能部门各项指标")
        if scheme is not None and all(standing.score for standing in ranking.standings):
            scores = charts.ranking_table(score_columns(scheme, unit),
                                          [score_row(s.name, s.score) for s in ranking.standings],
                                          caption=f"{ranking.title}职能部门排名（{scheme.label}）")
    else:
        try:
            scheme, scores, pager = _units_table(key, unit, county, page)
        except workflows.FormInvalid as error:
            errors = errors + [m for messages in error.errors.values() for m in messages]
    ended = ranking is not None and ranking.ends_at <= ranking.as_of
    return render_template("manage/rankings.html", ranking=ranking, key=key, table=table, scores=scores,
                           scheme=scheme, pager=pager, errors=errors, choices=_choices(key),
                           month_title=months.title, ended=ended, unit=unit,
                           units=schemes.UNITS, county=county, counties=schemes.counties(db(), viewer()),
                           can_view_schemes=viewer().has_role(*SCHEME_VIEWERS),
                           can_publish=ended and rankings.may_publish(viewer()) and not ranking.published,
                           percent=charts.percent), 400 if errors else 200


@blueprint.post("/rankings/publish")
@roles_required(Role.ADMIN, Role.OPERATOR)
def publish_ranking():
    if not rankings.may_publish(viewer()):
        abort(403)  # the city's command centre publishes, not a township's
    key = request.form.get("period", "")
    try:
        rankings.publish(db(), viewer(), key)
        db().commit()
    except workflows.FormInvalid as error:
        db().rollback()
        flash("；".join(m for messages in error.errors.values() for m in messages), "error")
        return redirect(url_for("manage.rankings_page"))
    except workflows.WorkflowError as error:
        db().rollback()
        flash(error.message, "error")
    else:
        flash(f"{months.title(key)}的考核排名已发布", "info")
    return redirect(url_for("manage.rankings_page", period=key))
