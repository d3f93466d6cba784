"""A citizen's reports: 我要反映 (choose a theme, fill its form with photos and a location), 我的诉求 (the list and
a case page with a timeline fit for the public) and the rating at follow-up (满意度 and solved or not).

The report form is the intake service's citizen form (`workflows.intake.citizen_schema`: the staff's form less the
urgency, its theme part reduced to the theme's `citizen_fields` — description, place and optional photos unless the
theme says otherwise —, plus the kind of appeal); the case goes through `workflows.submit_report` on the "citizen"
channel with a client id in the form's URL, so a retried post never makes a second case.
"""
from __future__ import annotations

import uuid

from flask import abort, flash, redirect, render_template, request, url_for
from flask_wtf.csrf import generate_csrf
from sqlalchemy import select

from minqing import forms, themes, workflows
from minqing.core import scope
from minqing.core.models import Case, Department, Role
from minqing.workflows import reporter_view

from .. import report_map
from ..context import db, platform, viewer
from ..permissions import roles_required
from ..work.attachments import case_files
from ..work.case_page import report_schema
from ..work.common import department_names, state_title, theme_titles
from ..work.duplicates import citizen_duplicates
from ..work.report import MAX_THEME_QUERY, read_submission, search_themes, theme_search_text
from . import blueprint

CITIZEN = Role.CITIZEN
FALLBACK_THEME = "hotline.general_appeals"   # 12345 兜底: for anything the citizen cannot place
APPEAL_KINDS = workflows.intake.APPEAL_KINDS
RATINGS = workflows.rating.RATINGS
# The road every case takes, as the citizen sees it.
PROGRESS = (("reported", "已反映"), ("registered", "已受理"), ("dispatched", "已交办"), ("handling", "处置中"),
            ("awaiting_follow_up", "待评价"), ("closed", "已办结"))
OWN_TITLES = {"report": "反映问题", "citizen_rating": "群众评价"}
ACTION_TITLES = {"urge": "催办", "supervise": "督办", "escalate": "超时升级"}


def _theme_or_404(key: str) -> themes.Theme:
    try:
        return themes.get_theme(platform(), key, db())
    except themes.UnknownTheme:
        abort(404)


def citizen_themes(registry) -> list[themes.Theme]:
    """Themes whose layer is shown to citizens, or (when none is) every theme; the 12345 fallback first."""
    every = sorted(registry.themes.values(), key=lambda theme: theme.key)
    flagged = [theme for theme in every if "citizen" in theme.layer.get("visible_to", ())]
    return flagged or every


citizen_schema = workflows.intake.citizen_schema  # the citizens' report form, owned by the intake service


@blueprint.get("/")
def index():
    from minqing.core import publications

    mine = []
    if viewer().has_role(CITIZEN):
        mine = _my_cases(limit=5)
    return render_template("citizen/index.html", mine=mine, states=_state_titles(mine),
                           latest=publications.search(db(), limit=6), kinds=publications.KINDS,
                           areas=publications.AREAS)


@blueprint.get("/report")
@roles_required(CITIZEN)
def report():
    registry = themes.registry(platform(), db())
    offered = citizen_themes(registry)
    fallback = next((theme for theme in offered if theme.key == FALLBACK_THEME), None)
    names = dict(db().execute(select(Department.key, Department.short_name)).all())
    groups: dict[str, list] = {}
    for theme in offered:
        if theme is not fallback:
            groups.setdefault(theme.department, []).append(theme)
    ordered = sorted(groups.items(), key=lambda item: names.get(item[0], item[0]))
    query = (request.args.get("q") or "").strip()[:MAX_THEME_QUERY]
    return render_template("citizen/report_choose.html", fallback=fallback, groups=search_themes(ordered, names, query),
                           names=names, query=query, search_text=theme_search_text)


def _render_form(theme, form, client_id: str, status: int = 200):
    html = forms.render(form, action=url_for("citizen.report_theme", key=theme.key, client_id=client_id),
                        submit_label="提交", csrf_token=generate_csrf(),
                        attachment_url=url_for("work.attachment", attachment_id="ID").replace("ID", "{id}"))
    return render_template("citizen/report_form.html", theme=theme, form_html=html,
                           picker=report_map.picker_settings()), status


def citizen_ui(theme: themes.Theme) -> dict | None:
    """The theme's report UI for the citizen's fields only, as the details group of the page."""
    ui = themes.citizen_report_ui(theme.document)
    return {"details": ui} if ui else None


@blueprint.route("/report/<key>", methods=["GET", "POST"])
@roles_required(CITIZEN)
def report_theme(key: str):
    theme = _theme_or_404(key)
    if key not in {offered.key for offered in citizen_themes(themes.registry(platform(), db()))}:
        abort(404)
    schema = citizen_schema(theme)
    form_class = forms.build_form(schema, citizen_ui(theme))
    if request.method == "GET":
        return _render_form(theme, form_class(), uuid.uuid4().hex)
    client_id = (request.args.get("client_id") or "")[:64] or uuid.uuid4().hex
    form, document, answer = read_submission(schema, form_class,
                                             lambda form, status: _render_form(theme, form, client_id, status))
    if answer is not None:
        return answer
    try:
        case = _report(theme, document, client_id)
    except workflows.WorkflowError as error:
        db().rollback()
        flash(error.message, "error")
        return _render_form(theme, form, client_id, 400)
    flash(f"已提交，事件编号 {case.number}。我们会尽快处理，请留意办理进度。", "info")
    return redirect(url_for("citizen.case_page", case_id=case.id))


def _report(theme: themes.Theme, document: dict, client_id: str) -> Case:
    case = workflows.submit_report(platform(), db(), viewer(), theme, document, channel="citizen",
                                   client_id=client_id)
    db().commit()
    return case


def _my_cases(limit: int | None = None) -> list[Case]:
    """Only the cases this citizen reported (even for someone who also holds another role)."""
    statement = scope.restrict(select(Case).where(Case.reporter_account_id == viewer().account_id), Case, viewer())
    statement = statement.order_by(Case.created_at.desc(), Case.id.desc())
    if limit:
        statement = statement.limit(limit)
    return list(db().scalars(statement))


def _my_case(case_id: int) -> Case:
    case = db().scalar(scope.restrict(select(Case).where(Case.id == case_id,
                                                         Case.reporter_account_id == viewer().account_id),
                                      Case, viewer()))
    if case is None:
        abort(404)
    return case


def _state_titles(cases: list[Case]) -> dict[int, str]:
    return {case.id: state_title(case) for case in cases}


@blueprint.get("/cases")
@roles_required(CITIZEN)
def my_cases():
    cases = _my_cases()
    return render_template("citizen/cases.html", cases=cases, states=_state_titles(cases))


def public_timeline(case: Case) -> list[dict]:
    """The timeline as the reporter sees it: what happened and when, who only as "我" or "工作人员", and the
    comments of public steps only (the template passes them through the `personal` filter)."""
    me = viewer().account_id
    lines = []
    for event in sorted(case.events, key=lambda event: event.id):
        if not reporter_view.shows(event.action):
            continue
        mine = event.actor_account_id is not None and event.actor_account_id == me
        title = OWN_TITLES.get(event.action) or event.data.get("title") or ACTION_TITLES.get(event.action,
                                                                                              event.action)
        line = {"title": title, "at": event.at, "who": "我" if mine else "工作人员",
                "comment": event.comment if reporter_view.shows_comment(event.action) else "", "rating": "", "solved": ""}
        if event.action == "citizen_rating":
            line["rating"] = dict(RATINGS).get(event.data.get("rating"), "")
            line["solved"] = "已解决" if event.data.get("solved") else "未解决"
        elif mine and event.action in ("confirm", "rework"):
            line["rating"] = dict(RATINGS).get((event.data.get("form") or {}).get("rating"), "")
        lines.append(line)
    return lines


def _progress(case: Case) -> list[tuple[str, str]]:
    """Each step of PROGRESS as ("done" | "current" | "todo", title); empty for a voided or suspended case."""
    order = [name for name, _title in PROGRESS]
    if case.status not in order:
        return []
    at = order.index(case.status)
    return [("done" if index < at else "current" if index == at else "todo", title)
            for index, (_name, title) in enumerate(PROGRESS)]


def render_case(case: Case, status: int = 200):
    can_rate = workflows.rating.may_rate(db(), viewer(), case)
    return render_template(
        "citizen/case.html", case=case, state=state_title(case), timeline=public_timeline(case),
        progress=_progress(case), details=_details(case), themes=theme_titles(), departments=department_names(),
        can_rate=can_rate, ratings=RATINGS, duplicates=citizen_duplicates(case), files=case_files(case)), status


def _details(case: Case) -> list[tuple[str, str, str]]:
    """What the citizen filled in, less the files: those show as the report's photos (`case_files`). Only the
    report's: the files added while handling (处置反馈, co-handlers', an appeal's evidence) are the staff's."""
    schema = report_schema(case)
    if not schema or not case.form_data:
        return []
    return [(row.label, row.value, row.kind) for row in forms.display(schema, case.form_data)
            if row.kind != "attachment"]


@blueprint.get("/cases/<int:case_id>")
@roles_required(CITIZEN)
def case_page(case_id: int):
    return render_case(_my_case(case_id))


@blueprint.post("/cases/<int:case_id>/rate")
@roles_required(CITIZEN)
def rate(case_id: int):
    case = _my_case(case_id)
    solved = {"yes": True, "no": False}.get(request.form.get("solved", ""))
    try:
        workflows.rate_as_reporter(platform(), db(), viewer(), case, rating=request.form.get("rating", type=int),
                                   solved=solved, comment=request.form.get("comment", ""))
        db().commit()
    except workflows.WorkflowError as error:
        db().rollback()
        return _refused(case, error)
    flash("感谢您的评价！", "info")
    return redirect(url_for("citizen.case_page", case_id=case_id))


def _refused(case: Case, error: workflows.WorkflowError):
    """The rating form again with what is wrong: 400 for the form, 409 for the state; any other refusal of
    the engine goes back to the case page."""
    if isinstance(error, workflows.FormInvalid):
        flash("；".join(message for messages in error.errors.values() for message in messages), "error")
        return render_case(case, 400)
    flash(error.message, "error")
    if isinstance(error, workflows.InvalidTransition):
        return render_case(db().get(Case, case.id), 409)
    return redirect(url_for("citizen.case_page", case_id=case.id))
