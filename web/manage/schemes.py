"""考核方案 in 小兰民情: the city's assessment scheme and counties' own — read by leaders and command centres,
edited (a JSON document in a text box) by administrators, the city centre and a county's centre for its county,
with a preview of the ranking the edited scheme would produce for last month before it is saved. The rules are
`workflows.schemes`; this page only parses the form and shapes the answer."""
from __future__ import annotations

import json

from flask import abort, flash, redirect, render_template, request, url_for

from minqing import workflows
from minqing.core.models import Role
from minqing.workflows import months, schemes

from .. import charts
from ..context import db, viewer
from ..permissions import roles_required
from . import blueprint
from .rankings import score_columns, score_row

READERS = (Role.ADMIN, Role.OPERATOR, Role.LEADER)


def _scope() -> str:
    """The city ("") or a county the viewer's regions touch; 404 for any other text."""
    scope = request.values.get("scope", "")
    if scope != schemes.CITY and scope not in dict(schemes.counties(db(), viewer())):
        abort(404)
    return scope


def _shown(scheme: schemes.Scheme | None) -> str:
    return json.dumps(scheme.document, ensure_ascii=False, indent=2) if scheme else ""


def _render(scope: str, text: str, *, errors=None, preview=None, unit: str | None = None, status: int = 200):
    current = schemes.current(db(), scope)
    applies = current or schemes.current(db())
    return render_template(
        "manage/schemes.html", scope=scope, scope_title=schemes.scope_title(db(), scope), current=current,
        applies=applies, history=schemes.history(db(), scope), text=text, errors=errors or {}, preview=preview,
        unit=unit, units=schemes.UNITS, counties=schemes.counties(db(), viewer()),
        can_edit=schemes.may_edit(viewer(), scope),
        indicators=schemes.INDICATORS, deductions=schemes.DEDUCTIONS, period_title=months.title(schemes.last_month()),
    ), status


@blueprint.get("/schemes")
@roles_required(*READERS)
def schemes_page():
    scope = _scope()
    version = request.args.get("version", type=int)
    shown = schemes.version(db(), scope, version) if version is not None else None
    current = schemes.current(db(), scope) or (schemes.current(db()) if scope else None)
    return _render(scope, _shown(shown or current))


def _preview(scope: str, document: dict, unit: str):
    draft = schemes.Scheme(scope=scope, version=-1, document=document)
    unit = unit if unit in draft.units else draft.units[0]
    rows = schemes.rank(db(), draft, schemes.last_month(), unit=unit)
    table = charts.ranking_table(score_columns(draft, unit), [score_row(row.name, row.score) for row in rows],
                                 caption=f"预览：{months.title(schemes.last_month())}{schemes.UNITS[unit]}排名")
    return table, unit


@blueprint.post("/schemes")
@roles_required(Role.ADMIN, Role.OPERATOR)
def save_scheme():
    scope = _scope()
    if not schemes.may_edit(viewer(), scope):
        abort(403)
    text = request.form.get("document", "")
    unit = request.form.get("unit", "")
    try:
        document = schemes.check(schemes.parse(text), scope=scope)
        if request.form.get("action") == "preview":
            preview, unit = _preview(scope, document, unit)
            return _render(scope, text, preview=preview, unit=unit)
        scheme, added = schemes.save(db(), viewer(), document, scope=scope)
        db().commit()
    except workflows.FormInvalid as error:
        db().rollback()
        return _render(scope, text, errors=error.errors, status=400)
    except workflows.WorkflowError as error:
        db().rollback()
        flash(error.message, "error")
        return redirect(url_for("manage.schemes_page", scope=scope))
    flash(f"已保存为第 {scheme.version} 版" if added else "内容没有变化，未生成新版本", "info")
    return redirect(url_for("manage.schemes_page", scope=scope))
