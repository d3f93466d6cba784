"""巡查任务: records of the departments' themes due for patrol in a grid worker's grids, and the patrol itself —
the record (masked by role), the theme's visit form with the worker's location and photos. The page only reads
the submission; `themes.record_patrol` checks and stores it (its photos linked to the visit). A department's
staff find here their records overdue for patrol, the latest patrols with their photos, the patrols flagged for
distance and their data freshness (数据鲜活度: the themes' own figure, shown here whether or not the
`data_freshness` plugin puts it on the dashboard).
"""
from __future__ import annotations

import uuid

from flask import abort, flash, redirect, render_template, request, url_for
from flask_wtf.csrf import generate_csrf
from sqlalchemy import select

from minqing import forms, themes
from minqing.core.models import Department, Grid, ThemeRecord, utcnow
from minqing.core.privacy import masking

from ..context import db, platform, viewer
from ..permissions import roles_required
from . import blueprint
from .common import theme_titles
from .report import read_submission

LOCATION = {"type": "object", "format": "geo-point", "title": "巡查位置",
            "description": "在现场点“使用我的位置”，或在地图上选点"}


def page_schema(theme: themes.Theme) -> dict:
    """The patrol page's form: where the worker stands, then the theme's visit form as a group."""
    visit = themes.patrols.patrol_form(theme)
    return {"type": "object", "title": f"巡查：{theme.title}",
            "properties": {"location": LOCATION, "details": {**visit, "title": visit.get("title") or "巡查记录"}},
            "required": ["location", "details"]}


@blueprint.get("/patrols")
@roles_required("grid_worker", "department_staff")
def patrols():
    me = viewer()
    if me.has_role("grid_worker"):
        tasks = themes.patrol_tasks(platform(), db(), me)
        return render_template("work/patrols.html", tasks=tasks)
    return _department_view()


def _department_view():
    me, now = viewer(), utcnow()
    counts = themes.overdue_counts(db(), me, now)
    grid_ids = {grid_id for _, grid_id, _, _ in counts if grid_id}
    grids = dict(db().execute(select(Grid.id, Grid.name).where(Grid.id.in_(grid_ids))).all()) if grid_ids else {}
    departments = dict(db().execute(select(Department.key, Department.short_name)).all())
    _records, freshness_blocks = themes.freshness.panel_blocks(db(), me, now)
    return render_template("work/patrols_department.html", counts=counts, grids=grids, departments=departments,
                           flagged=themes.patrols.flagged_patrols(db(), me), freshness_blocks=freshness_blocks,
                           recent=themes.patrols.recent_patrols(db(), me),
                           titles=theme_titles())


def record_in_scope(record_id: int) -> ThemeRecord | None:
    """The record, if this viewer may see it (its scope) and it is not retired; None otherwise."""
    return db().scalar(themes.records.records_query(viewer()).where(ThemeRecord.id == record_id))


def _record_or_404(record_id: int) -> tuple[ThemeRecord, themes.Theme]:
    record = record_in_scope(record_id)
    if record is None:    # out of scope, or retired
        abort(404)
    try:
        return record, themes.get_theme(platform(), record.theme_key, db())
    except themes.UnknownTheme:
        abort(404)


def _fields(record: ThemeRecord) -> list[tuple[str, str]]:
    schema = themes.record_schema(db(), record)
    if not schema:
        return []
    return [(row.label, row.value if row.kind.startswith("attachment") else masking.text_for(viewer(), row.value))
            for row in forms.display(schema, record.form_data or {})]


def _render(record, theme, form, client_id: str, status: int = 200):
    html = forms.render(form, action=url_for("work.patrol_record", record_id=record.id, client_id=client_id),
                        submit_label="提交巡查", csrf_token=generate_csrf())
    max_m, policy = themes.patrols.patrol_distance(theme)
    history = themes.patrols.patrols_of(db(), viewer(), record.id)
    return render_template("work/patrol_form.html", record=record, theme=theme, form_html=html,
                           title=themes.layers.record_title(viewer(), record, theme.form("record")), fields=_fields(record), max_m=max_m,
                           policy=policy, history=history, form_version=themes.form_version(db(), theme),
                           photos=themes.patrols.photos_of(db(), [visit.id for visit in history])), status


@blueprint.route("/patrols/<int:record_id>", methods=["GET", "POST"])
@roles_required("grid_worker")
def patrol_record(record_id: int):
    record, theme = _record_or_404(record_id)
    schema = page_schema(theme)
    visit_ui = theme.ui("visit")
    form_class = forms.build_form(schema, {"details": visit_ui} if visit_ui else None)
    if request.method == "GET":
        return _render(record, theme, form_class(), uuid.uuid4().hex)
    client_id = (request.args.get("client_id") or "")[:64] or uuid.uuid4().hex
    form, document, answer = read_submission(schema, form_class,
                                             lambda form, status: _render(record, theme, form, client_id, status))
    if answer is not None:
        return answer
    location = document.get("location") or {}
    try:
        visit = themes.record_patrol(platform(), db(), viewer(), record.id, document.get("details") or {},
                                     location.get("lon"), location.get("lat"), client_id=client_id)
        db().commit()
    except themes.PatrolRefused as error:
        db().rollback()
        for messages in error.errors.values():
            for message in messages:
                flash(message, "error")
        record, theme = _record_or_404(record_id)
        return _render(record, theme, form, client_id, 400)
    if visit.distance_flagged:
        flash(f"巡查已记录。注意：提交位置距记录约 {visit.distance_m:.0f} 米，已标记供部门核查", "info")
    else:
        flash("巡查已记录", "info")
    return redirect(url_for("work.patrols"))
