"""The work end offline (小兰网格 as an installable app, docs/work-end.md "Offline"): the web app manifest, the
service worker, what a grid worker's phone keeps for offline use, and the sync of its outbox.

A report, household visit or patrol filled without network waits in the phone's outbox (web/static/js/offline.js)
and is sent here when the network returns: the same posted fields the page would send, with the client id made
when the form was opened and the version of the theme's form it was filled under. Each kind goes through the same
application service as its page (`workflows.submit_report`, `core.visits.record_household_visit`,
`themes.record_patrol`), so a re-send answers the first case or visit, and a refusal comes back as JSON with the
Chinese messages, which the outbox keeps with the item to be corrected.
"""
from __future__ import annotations

import json
import re

from flask import current_app, g, jsonify, request, send_from_directory, url_for
from flask_login import current_user
from flask_wtf.csrf import generate_csrf

from minqing import forms, themes, workflows
from minqing.core import outboxes, visits
from minqing.core.grassroots import household_visits

from ..context import db, platform, viewer
from ..security import is_loopback, offline_keep
from ..account import step_pending
from . import blueprint
from .households import VISITORS, own_grid_ids, household_in_scope
from .patrols import page_schema as patrol_page_schema, record_in_scope
from .report import REPORT_ROLES, check_posted, posted_form, report_page_schema, report_page_ui

APP_NAME = "小兰网格"
OFFLINE_ROLES = ("grid_worker", "cadre")   # who fill the work end's forms in the field (cadres visit households)
CLIENT_ID = re.compile(r"[A-Za-z0-9_-]{8,64}")
MAX_WARM_PAGES = 300          # pages a phone keeps for offline use (forms of records and households included)
# Files every offline page needs (the shell); the pages add the forms of the worker's themes, records, households.
SHELL = (("static", {"filename": "site.css"}), ("static", {"filename": "report-map.css"}),
         ("static", {"filename": "js/offline.js"}), ("static", {"filename": "js/outbox-store.js"}), ("static", {"filename": "js/map-common.js"}),
         ("static", {"filename": "js/report-map.js"}), ("static", {"filename": "js/duplicates.js"}),
         ("static", {"filename": "js/grid-check.js"}),
         ("static", {"filename": "icons/xiaolan-192.png"}), ("static", {"filename": "icons/xiaolan-512.png"}),
         ("vendor.asset", {"package": "forms", "filename": "forms.css"}),
         ("vendor.asset", {"package": "forms", "filename": "forms.js"}),
         ("vendor.asset", {"package": "leaflet", "filename": "leaflet.css"}),
         ("vendor.asset", {"package": "leaflet", "filename": "leaflet.js"}))


def secure_context() -> bool:
    """Whether browsers allow a service worker here: HTTPS (also as a TLS proxy says it forwarded: the answer only
    decides whether a note is shown, and offline.js hides it in a secure context), or the machine itself."""
    forwarded = request.headers.get("X-Forwarded-Proto", "").split(",")[0].strip().lower()
    return request.is_secure or forwarded == "https" or is_loopback(request.host)


def offline_app() -> bool:
    """Whether the page carries the outbox and the service worker: for those who fill the work end's forms in
    the field (grid workers; cadres visit households). Asked three times per page: answered once per request."""
    if "offline_app" not in g:
        g.offline_app = bool(current_user.is_authenticated and viewer().has_role(*OFFLINE_ROLES)
                             and not step_pending())
    return g.offline_app


@blueprint.app_context_processor
def _offline_template_helpers():
    # a page kept for offline use shows no message meant for the page the worker opens next
    return {"offline_app": offline_app, "offline_secure": secure_context, "offline_keep": offline_keep}


# -- the app: manifest and service worker (public: browsers fetch them without the session) ----------------------

@blueprint.get("/manifest.webmanifest")
def manifest():
    body = {"name": APP_NAME, "short_name": APP_NAME, "lang": "zh-CN", "display": "standalone",
            "start_url": url_for("work.my_grid"), "scope": url_for("work.my_grid").rsplit("/", 1)[0] + "/",
            "background_color": "#ffffff", "theme_color": "#1d4ed8",
            "description": "网格员的上报、走访、巡查：没有信号也能填写，联网后自动发送",
            "icons": [{"src": url_for("static", filename=f"icons/xiaolan-{size}.png"), "sizes": f"{size}x{size}",
                       "type": "image/png", "purpose": "any"} for size in (192, 512)]}
    response = current_app.response_class(json.dumps(body, ensure_ascii=False),
                                          mimetype="application/manifest+json")
    response.headers["Cache-Control"] = "no-cache"
    return response


@blueprint.get("/sw.js")
def service_worker():
    """The service worker, served under /work/ so that its scope is the work end; never cached by HTTP, so a new
    version reaches the phone at its next online start."""
    response = send_from_directory(current_app.static_folder, "js/sw.js", mimetype="text/javascript", max_age=0)
    response.headers["Cache-Control"] = "no-cache"
    return response


# -- what the phone keeps --------------------------------------------------------------------------------------

def _json_refusal(status: int, message: str, errors: dict | None = None, **extra):
    return jsonify({"ok": False, "message": message, "errors": errors or {}, **extra}), status


def _signed_in(*roles: str):
    """None when the viewer may go on; else the JSON answer (the outbox keeps the item and asks to sign in)."""
    if not current_user.is_authenticated:
        return _json_refusal(401, "登录已失效：请重新登录，待发送的内容仍保存在手机上，登录后自动发送", signin=True)
    if roles and not viewer().has_role(*roles):
        return _json_refusal(403, "您的账号不能提交这类内容")
    return None


@blueprint.get("/offline/session")
def offline_session():
    """Who is signed in (the outbox sends only its own account's items) and a fresh CSRF token for the sync."""
    if (answer := _signed_in(*OFFLINE_ROLES)) is not None:
        return answer
    me = viewer()
    return jsonify({"ok": True, "account": me.account_id, "csrf_token": generate_csrf(),
                    "grid_worker": me.has_role("grid_worker")})


@blueprint.get("/offline/pages")
def offline_pages():
    """The URLs the service worker keeps for this worker: the shell, the work-end pages, the report form of every
    theme, the patrol form of each record due, the visit form of the households on the first list page and the
    worker's grid outline — each fetched as the worker's own page (masked and scoped as shown)."""
    if (answer := _signed_in(*OFFLINE_ROLES)) is not None:
        return answer
    me = viewer()
    pages = [url_for(endpoint, **values) for endpoint, values in SHELL]
    if me.has_role(*REPORT_ROLES):
        pages.append(url_for("work.report"))
        pages += [url_for("work.report_theme", key=theme.key) for theme in themes.themes(platform(), db())]
    if me.has_role("grid_worker"):
        pages += [url_for("work.my_grid"), url_for("work.patrols"), url_for("map.my_grids")]
        pages += [url_for("work.patrol_record", record_id=task.record_id)
                  for task in themes.patrol_tasks(platform(), db(), me)]
    if me.has_role(*VISITORS):
        _period, rows, _total = household_visits.households(db(), me, grid_ids=own_grid_ids(me), limit=100)
        pages.append(url_for("work.households"))
        pages += [url_for("work.household_visit", household_id=row.id) for row in rows]
    unique = list(dict.fromkeys(pages))[:MAX_WARM_PAGES]
    return jsonify({"ok": True, "pages": unique, "account": me.account_id})


# -- the sync -----------------------------------------------------------------------------------------------------

def _client_id() -> str | None:
    text = request.args.get("client_id", "")
    return text if CLIENT_ID.fullmatch(text) else None


def _form_version() -> tuple[int | None, str | None]:
    text = request.args.get("form_version", "")
    if not text:
        return None, None
    if not text.isdigit() or len(text) > 9:
        return None, "表单版本：应为正整数，请重新打开表单填写"
    return int(text), None


def _refused(errors: dict[str, list[str]]):
    db().rollback()
    first = next((message for messages in errors.values() for message in messages), "提交的内容有误")
    return _json_refusal(422, first, errors)


def _form_errors(form, refusal: str) -> dict[str, list[str]]:
    if refusal:
        return {"form": [refusal]}
    errors: dict[str, list[str]] = {}
    for error in form.schema_errors:
        errors.setdefault(error.path or "form", []).append(error.message)
    return errors or {"form": ["提交的内容有误"]}


def _sent(message: str, url: str):
    return jsonify({"ok": True, "message": message, "url": url})


def _theme_version(key: str):
    """(the theme as published in the submission's form version, None) or (None, the refusal)."""
    try:
        theme = themes.get_theme(platform(), key, db())
    except themes.UnknownTheme:
        return None, _refused({"theme": [f"业务主题“{key}”已停用或不存在，无法上报"]})
    version, problem = _form_version()
    if problem:
        return None, _refused({"form_version": [problem]})
    try:
        return themes.theme_at(db(), theme, version), None
    except themes.UnknownFormVersion as error:
        return None, _refused({"form_version": [str(error)]})


def _sender(*roles: str):
    """(the client id, None) when the viewer may send this kind and named a usable client id, else (None, the
    answer: sign in, not your kind, or the id missing)."""
    if (answer := _signed_in(*roles)) is not None:
        return None, answer
    client_id = _client_id()
    return client_id, (None if client_id else _refused({"client_id": ["提交编号缺失或无效，请重新打开表单填写"]}))


@blueprint.post("/sync/report/<key>")
def sync_report(key: str):
    client_id, answer = _sender(*REPORT_ROLES)
    if answer is not None:
        return answer
    try:
        if (case := workflows.intake.earlier_report(db(), viewer(), client_id)) is not None:
            return _sent(f"已上报，事件编号 {case.number}", url_for("work.case_page", case_id=case.id))
    except workflows.WorkflowError as error:
        return _refused({"client_id": [error.message]})
    theme, answer = _theme_version(key)
    if answer is not None:
        return answer
    schema = report_page_schema(theme)
    form = posted_form(forms.build_form(schema, report_page_ui(theme)))
    document, refusal = check_posted(schema, form)
    if document is None:
        return _refused(_form_errors(form, refusal))
    try:
        case = workflows.submit_report(platform(), db(), viewer(), theme, document, channel="work",
                                       client_id=client_id)
    except workflows.FormInvalid as error:
        return _refused(error.errors)
    except workflows.WorkflowError as error:
        return _refused({"form": [error.message]})
    db().commit()
    return _sent(f"已上报，事件编号 {case.number}", url_for("work.case_page", case_id=case.id))


@blueprint.post("/sync/patrol/<int:record_id>")
def sync_patrol(record_id: int):
    if (answer := _signed_in("grid_worker")) is not None:
        return answer
    record = record_in_scope(record_id)
    if record is None:      # as the patrol page: 404, said in the outbox's words
        return _json_refusal(404, "记录不存在、已停用或不在您的网格范围内", {"record": ["记录不存在、已停用或不在您的网格范围内"]})
    client_id, answer = _sender("grid_worker")
    if answer is not None:
        return answer
    try:
        if themes.patrols.earlier_patrol(db(), viewer(), client_id) is not None:
            return _sent("巡查已记录", url_for("work.patrols"))
    except themes.PatrolRefused as error:
        return _refused(error.errors)
    theme, answer = _theme_version(record.theme_key)
    if answer is not None:
        return answer
    schema = patrol_page_schema(theme)
    visit_ui = theme.ui("visit")
    form = posted_form(forms.build_form(schema, {"details": visit_ui} if visit_ui else None))
    document, refusal = check_posted(schema, form)
    if document is None:
        return _refused(_form_errors(form, refusal))
    location = document.get("location") or {}
    try:
        visit = themes.record_patrol(platform(), db(), viewer(), record.id, document.get("details") or {},
                                     location.get("lon"), location.get("lat"), client_id=client_id,
                                     form_version=_form_version()[0])
    except themes.PatrolRefused as error:
        return _refused(error.errors)
    db().commit()
    flagged = f"；距记录约 {visit.distance_m:.0f} 米，已标记供部门核查" if visit.distance_flagged else ""
    return _sent(f"巡查已记录{flagged}", url_for("work.patrols"))


@blueprint.post("/sync/visit/<int:household_id>")
def sync_household_visit(household_id: int):
    if (answer := _signed_in(*VISITORS)) is not None:
        return answer
    if household_in_scope(household_id) is None:    # as the visit page: 404
        return _json_refusal(404, "该户不存在或不在您的走访范围内", {"household": ["该户不存在或不在您的走访范围内"]})
    client_id, answer = _sender(*VISITORS)
    if answer is not None:
        return answer
    text = {name: request.form.get(name, "")[:2000] for name in ("met", "needs", "promise_text",
                                                                  "promise_deadline", "summary")}
    try:
        visits.record_household_visit(
            db(), viewer(), household_id=household_id, met=text["met"], needs=text["needs"],
            promised=request.form.get("promised") == "yes", promise_text=text["promise_text"],
            summary=text["summary"], promise_deadline=text["promise_deadline"],
            lon=request.form.get("lon", type=float), lat=request.form.get("lat", type=float), client_id=client_id)
    except visits.VisitRefused as error:
        return _refused({error.field or "form": [str(error)]})
    db().commit()
    return _sent("走访已记录", url_for("work.households"))


@blueprint.post("/sync/status")
def sync_status():
    """The phone's waiting count after a sync (or on a page open): kept for the command post."""
    if (answer := _signed_in(*OFFLINE_ROLES)) is not None:
        return answer
    try:
        row = outboxes.report(db(), viewer(), request.form.get("pending", ""))
    except outboxes.OutboxReportRefused as error:
        return _refused({"pending": [str(error)]})
    db().commit()
    return jsonify({"ok": True, "pending": row.pending})
