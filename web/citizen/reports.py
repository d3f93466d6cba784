"""A citizen's reports: 我要反映 (choose a theme, fill its form with photos and a location), 我的诉求 (the list and
a case page with a timeline fit for the public) and the rating at follow-up (满意度 and solved or not).

The report form is the work end's page schema (`report_page_schema`) less the urgency, which the centre decides,
plus the kind of appeal when the theme's form does not ask for it; the case goes through
`workflows.report_case` with source "citizen" and a client id in the form's URL, so a retried post never makes a
second case.
"""
from __future__ import annotations

import copy
import uuid

from flask import abort, flash, redirect, render_template, request, url_for
from flask_wtf.csrf import generate_csrf
from sqlalchemy import select, update

from minqing import forms, themes, workflows
from minqing.core import scope
from minqing.core.changes import record_case_event
from minqing.core.models import Account, Attachment, Case, CaseEvent, Department, Role
from minqing.workflows import reporter_view

from ..context import db, platform, viewer
from ..permissions import roles_required
from ..work.case_page import report_schema
from ..work.common import department_names, state_title, theme_titles
from ..work.duplicates import citizen_duplicates
from ..work.report import _attachment_ids, _workflow_key, geo_field, read_submission, report_page_schema, report_page_ui
from . import blueprint

CITIZEN = Role.CITIZEN
FALLBACK_THEME = "hotline.general_appeals"   # 12345 兜底: for anything the citizen cannot place
APPEAL_KINDS = ("投诉", "建议", "举报", "反映问题", "求助", "咨询")
FOLLOW_UP = "awaiting_follow_up"
RATINGS = ((5, "满意"), (4, "较满意"), (3, "基本满意"), (2, "不太满意"), (1, "不满意"))
# The road every case takes, as the citizen sees it.
PROGRESS = (("reported", "已反映"), ("registered", "已受理"), ("dispatched", "已交办"), ("handling", "处置中"),
            ("awaiting_follow_up", "待评价"), ("closed", "已办结"))
OWN_TITLES = {"report": "反映问题", "citizen_rating": "群众评价"}
ACTION_TITLES = {"urge": "催办", "supervise": "督办", "escalate": "超时升级"}


def _me() -> Account:
    return db().get(Account, viewer().account_id)


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


def citizen_schema(theme: themes.Theme) -> dict:
    """The work end's report page schema without the urgency, with the kind of appeal unless the theme asks."""
    schema = copy.deepcopy(report_page_schema(theme))
    schema["title"] = f"我要反映：{theme.title}"
    properties = schema["properties"]
    properties.pop("urgency", None)
    properties["title"] = {**properties["title"], "title": "标题", "description": "一句话说明是什么问题"}
    if "appeal_type" not in properties.get("details", {}).get("properties", {}):
        properties["kind"] = {"type": "string", "title": "诉求类型", "enum": list(APPEAL_KINDS),
                              "default": APPEAL_KINDS[0]}
        schema["required"] = [*schema["required"], "kind"]
    return schema


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
    return render_template("citizen/report_choose.html", fallback=fallback, groups=ordered, names=names)


def _render_form(theme, form, client_id: str, status: int = 200):
    html = forms.render(form, action=url_for("citizen.report_theme", key=theme.key, client_id=client_id),
                        submit_label="提交", csrf_token=generate_csrf(),
                        attachment_url=url_for("work.attachment", attachment_id="ID").replace("ID", "{id}"))
    return render_template("citizen/report_form.html", theme=theme, form_html=html), status


@blueprint.route("/report/<key>", methods=["GET", "POST"])
@roles_required(CITIZEN)
def report_theme(key: str):
    theme = _theme_or_404(key)
    if key not in {offered.key for offered in citizen_themes(themes.registry(platform(), db()))}:
        abort(404)
    schema = citizen_schema(theme)
    form_class = forms.build_form(schema, report_page_ui(theme))
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
    if case.reporter_account_id != viewer().account_id:
        abort(404)  # a client id someone else used: never show their case
    flash(f"已提交，事件编号 {case.number}。我们会尽快处理，请留意办理进度。", "info")
    return redirect(url_for("citizen.case_page", case_id=case.id))


def _report(theme: themes.Theme, document: dict, client_id: str) -> Case:
    details_schema = theme.form("report") or {}
    published = themes.latest_versions(db()).get(theme.key)
    details = document.get("details", {})
    location = details.get(geo_field(details_schema) or "", document.get("location"))
    category = next((item for item in theme.categories if item["code"] == document.get("category")), {})
    text = str(details.get("description") or details.get("content") or "")
    kind = document.get("kind") or details.get("appeal_type") or ""
    me = _me()
    retried = db().scalar(select(Case.id).where(Case.client_id == client_id)) is not None
    case = workflows.report_case(
        platform(), db(), viewer(), theme_key=theme.key, title=document["title"],
        description=f"【{kind}】{text}" if kind else text, lon=location["lon"], lat=location["lat"],
        category=category.get("parent", ""), subcategory=document.get("category", ""), urgency="normal",
        source="citizen", form_data=details,
        schema_version=forms.schema_version(details_schema) if details_schema else "", client_id=client_id,
        workflow_key=_workflow_key(theme), reporter_name=me.display_name, reporter_phone=me.phone or "",
        address=str(details.get("address", "")))
    if published is not None and case.theme_version != published.version:
        case.theme_version = published.version
    photos = _attachment_ids(details)
    if photos and not retried:  # a retry's copies of the photos stay out of the case
        db().execute(update(Attachment).where(Attachment.id.in_(photos), Attachment.case_id.is_(None),
                                              Attachment.owner_account_id == viewer().account_id)
                     .values(case_id=case.id))
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


def _rating_event(case: Case) -> CaseEvent | None:
    """This citizen's rating of the current follow-up, if given."""
    return db().scalar(select(CaseEvent).where(
        CaseEvent.case_id == case.id, CaseEvent.action.in_(("citizen_rating", "confirm", "rework")),
        CaseEvent.actor_account_id == viewer().account_id, CaseEvent.at >= case.state_entered_at)
        .order_by(CaseEvent.id.desc()).limit(1))


def render_case(case: Case, status: int = 200):
    can_rate = case.status == FOLLOW_UP and _rating_event(case) is None
    return render_template(
        "citizen/case.html", case=case, state=state_title(case), timeline=public_timeline(case),
        progress=_progress(case), details=_details(case), themes=theme_titles(), departments=department_names(),
        can_rate=can_rate, ratings=RATINGS, duplicates=citizen_duplicates(case)), status


def _details(case: Case) -> list[tuple[str, str, str]]:
    schema = report_schema(case)
    if not schema or not case.form_data:
        return []
    return [(row.label, row.value, row.kind) for row in forms.display(schema, case.form_data)]


@blueprint.get("/cases/<int:case_id>")
@roles_required(CITIZEN)
def case_page(case_id: int):
    return render_case(_my_case(case_id))


def _citizen_may(workflow, step_name: str) -> bool:
    step = workflow.transitions.get(step_name)
    return step is not None and FOLLOW_UP in step.sources and CITIZEN in step.roles


@blueprint.post("/cases/<int:case_id>/rate")
@roles_required(CITIZEN)
def rate(case_id: int):
    case = _my_case(case_id)
    rating = request.form.get("rating", type=int)
    solved = request.form.get("solved")
    comment = request.form.get("comment", "").strip()[:500]
    if case.status != FOLLOW_UP:
        flash("该事件当前不在回访评价环节", "error")
        return render_case(case, 409)
    if _rating_event(case) is not None:
        flash("您已评价过本次处理结果", "error")
        return render_case(case, 409)
    if rating not in dict(RATINGS) or solved not in ("yes", "no"):
        flash("请选择满意度（1至5分）并说明问题是否已解决", "error")
        return render_case(case, 400)
    solved = solved == "yes"
    workflow = workflows.get_workflow(platform(), case.workflow_key)
    step_name = "confirm" if solved else "rework"
    try:
        if _citizen_may(workflow, step_name):
            # The workflow lets the reporter close or reopen the case: the rating goes through the engine.
            data = {"rating": rating, "comment": comment} if solved else \
                {"rating": rating, "reason": comment or "群众反映问题未解决"}
            workflows.transition(platform(), db(), case, step_name, viewer(), data)
        else:
            # The workflow keeps confirm/rework for the follow-up staff: record the citizen's verdict on the
            # case's timeline for them (and the evaluation) to act on.
            record_case_event(db(), viewer(), case, "citizen_rating", from_status=case.status,
                              to_status=case.status, comment=comment,
                              data={"title": "群众评价", "rating": rating, "solved": solved})
        db().commit()
    except workflows.WorkflowError as error:
        db().rollback()
        flash(error.message, "error")
        return redirect(url_for("citizen.case_page", case_id=case_id))
    flash("感谢您的评价！", "info")
    return redirect(url_for("citizen.case_page", case_id=case_id))
