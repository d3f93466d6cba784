"""考核排名 in 小兰民情: a month's department ranking — published (with when and by whom) or live while its
appeals are open (未发布 · 申诉期) — and the appeals that changed it; the city centre publishes it here."""
from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for

from minqing import workflows
from minqing.core.models import Role
from minqing.workflows import months, rankings

from .. import charts
from ..context import db, viewer
from ..permissions import roles_required
from . import blueprint

VIEWERS = (Role.ADMIN, Role.OPERATOR, Role.LEADER, Role.DEPARTMENT_STAFF)
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


def _choices(current: str) -> list[str]:
    keys = {months.current(), months.previous(months.current()), current, *rankings.published_keys(db())}
    return sorted(keys, reverse=True)


@blueprint.get("/rankings")
@roles_required(*VIEWERS)
def rankings_page():
    errors = []
    key = request.args.get("period") or months.previous(months.current())
    try:
        key = months.parse(key)
    except workflows.FormInvalid as error:
        errors = error.errors["period"]
        key = months.previous(months.current())
    ranking = rankings.ranking(db(), key)
    table = charts.ranking_table(COLUMNS, [_row(standing) for standing in ranking.standings],
                                 caption=f"{ranking.title}职能部门排名（按期办结率优先）")
    ended = ranking.ends_at <= ranking.as_of
    return render_template("manage/rankings.html", ranking=ranking, table=table, errors=errors,
                           choices=_choices(key), month_title=months.title, ended=ended,
                           can_publish=rankings.may_publish(viewer()) and not ranking.published and ended,
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
