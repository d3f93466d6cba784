"""The editor page and its JSON endpoints: save a draft, publish it, draw its workflow, export it.

The page embeds the draft document as JSON for `builder.js`; without JavaScript it shows the document (editable
as JSON text) and its problems. Saving goes through `authoring.save_draft`, which keeps invalid drafts and
answers the problems as JSON pointers; publishing refuses an invalid draft.
"""
from __future__ import annotations

import json

from flask import Response, flash, jsonify, redirect, render_template, request, url_for
from flask_wtf.csrf import generate_csrf
from sqlalchemy import select

from minqing import workflows
from minqing.core import city
from minqing.core.models import Department
from minqing.themes import authoring
from minqing.workflows import workflow_svg

from ..context import db, platform, viewer
from . import blueprint
from .common import builder_required, draft_or_404, problems_json


@blueprint.get("/<key>/")
@builder_required
def edit(key: str):
    draft = draft_or_404(key)
    problems = authoring.draft_problems(platform(), db(), draft)
    return render_template(
        "builder/editor.html", draft=draft, problems=problems, csrf=generate_csrf(), centre=city.map_view(db())[0],
        document_json=json.dumps(draft.document, ensure_ascii=False, indent=2),
        problems_json=problems_json(problems), templates=_workflow_templates(),
        workflow_editing=authoring.workflow_for_editing(draft.document, platform()), departments=_departments())


def _workflow_templates() -> list[dict]:
    return [{"key": workflow.key, "title": workflow.title, "document": workflow.document}
            for workflow in sorted(workflows.all_workflows(platform()), key=lambda w: w.key)]


def _departments() -> list[dict]:
    rows = db().execute(select(Department.key, Department.short_name, Department.name).order_by(Department.name))
    return [{"key": key, "name": short or name} for key, short, name in rows]


@blueprint.post("/<key>/draft")
@builder_required
def save(key: str):
    """Save the document (JSON body {document, revision}, or the no-JS form); answers the problems found."""
    draft = draft_or_404(key)
    wants_json = request.is_json
    document, revision, error = _read_save_request()
    if error:
        return _answer(wants_json, key, {"message": error}, 400)
    try:
        saved = authoring.save_draft(platform(), db(), viewer(), draft.theme_key, document, revision=revision)
    except authoring.DraftConflict as conflict:
        db().rollback()
        return _answer(wants_json, key, {"message": str(conflict), "revision": conflict.current}, 409)
    except (authoring.AuthoringError, authoring.NotAllowed) as refused:
        db().rollback()
        return _answer(wants_json, key, {"message": str(refused)}, 403 if isinstance(refused, PermissionError) else 400)
    db().commit()
    answer = {"revision": saved.draft.revision, "problems": problems_json(saved.problems),
              "valid": not saved.problems, "message": "已保存草稿"}
    return _answer(wants_json, key, answer, 200)


def _read_save_request() -> tuple[dict | None, int | None, str | None]:
    if request.is_json:
        body = request.get_json(silent=True)
        if not isinstance(body, dict) or not isinstance(body.get("document"), dict):
            return None, None, "请求内容应为 {document: 主题文档, revision: 稿次}"
        revision = body.get("revision")
    else:
        try:
            body = {"document": json.loads(request.form.get("document", ""))}
        except json.JSONDecodeError as error:
            return None, None, f"主题文档不是有效的 JSON：第 {error.lineno} 行第 {error.colno} 列附近有错误"
        if not isinstance(body["document"], dict):
            return None, None, "主题文档应是一个 JSON 对象"
        revision = request.form.get("revision", type=int)
    if not isinstance(revision, int) or isinstance(revision, bool):
        return None, None, "缺少草稿稿次（revision）"
    return body["document"], revision, None


def _answer(wants_json: bool, key: str, answer: dict, status: int):
    """JSON for the editor; for the no-JS form, a message and back to the page (which lists the problems)."""
    if wants_json:
        return jsonify(answer), status
    flash(answer["message"] if status == 200 else answer["message"], "info" if status == 200 else "error")
    return redirect(url_for("builder.edit", key=key))


@blueprint.post("/<key>/publish")
@builder_required
def publish(key: str):
    draft = draft_or_404(key)
    wants_json = request.is_json or request.accept_mimetypes.best == "application/json"
    try:
        version = authoring.publish_draft(platform(), db(), viewer(), draft.theme_key)
    except authoring.DraftInvalid as invalid:
        db().rollback()
        answer = {"message": f"还有 {len(invalid.problems)} 个问题，改正后才能发布", "problems": problems_json(invalid.problems)}
        return _answer(wants_json, key, answer, 409)
    except (authoring.AuthoringError, authoring.NotAllowed) as refused:
        db().rollback()
        return _answer(wants_json, key, {"message": str(refused)}, 400)
    db().commit()
    answer = {"version": version.version, "message": f"已发布第 {version.version} 版，已立即生效",
              "versions_url": url_for("builder.versions", key=key)}
    return _answer(wants_json, key, answer, 200)


@blueprint.get("/<key>/workflow.svg")
@builder_required
def diagram(key: str):
    """The draft's workflow drawn on the server (saved state: the editor reloads it after each save)."""
    draft = draft_or_404(key)
    svg = workflow_svg(authoring.workflow_for_editing(draft.document, platform()))
    response = Response(svg, mimetype="image/svg+xml")
    response.headers["Cache-Control"] = "no-store"
    return response


@blueprint.get("/<key>/export.json")
@builder_required
def export(key: str):
    draft = draft_or_404(key)
    text = json.dumps(draft.document, ensure_ascii=False, indent=2)
    filename = key.replace(".", "_") + ".json"
    return Response(text, mimetype="application/json",
                    headers={"Content-Disposition": f'attachment; filename="{filename}"'})
