"""重复件 on the work end: likely duplicates while reporting (a JSON endpoint the report pages' script calls) and
on the case page (with their evidence, for dispatchers to merge), the merged reports of a master, and undo.

Every rule lives in `minqing.workflows.duplicates`; the candidates are those the viewer's scope lets them see.
"""
from __future__ import annotations

from flask import flash, jsonify, redirect, request, url_for
from sqlalchemy import select

from minqing import themes, workflows
from minqing.core.clock import isoformat_local
from minqing.core.privacy import masking
from minqing.core.models import Attachment, Case, Role
from minqing.workflows import duplicates

from ..context import db, platform, viewer
from ..permissions import roles_required
from . import blueprint
from .common import case_in_scope, state_title, workflow_of

CHECK_ROLES = (Role.GRID_WORKER, Role.OPERATOR, Role.ADMIN, Role.CITIZEN)
MERGE_ROLES = (Role.OPERATOR, Role.ADMIN)
MAX_TEXT = 2000


def candidate_row(candidate: duplicates.Candidate) -> dict:
    """One candidate with its evidence, as the pages and the report script show it (texts masked)."""
    case = candidate.case
    public = viewer().has_role(Role.CITIZEN) and not viewer().has_role(*MERGE_ROLES, Role.GRID_WORKER)
    link = url_for("citizen.case_page", case_id=case.id) if public else url_for("work.case_page", case_id=case.id)
    return {**candidate.evidence(), "number": case.number, "title": masking.text_for(viewer(), case.title),
            "status_title": state_title(case), "created_at": isoformat_local(case.created_at), "url": link}


def duplicate_block(case: Case) -> dict:
    """What the case page shows about duplicates: the master this case is merged into, the cases merged into
    it, the merge history and — to a dispatcher, for a case not merged — the likely duplicates."""
    session = db()
    live = duplicates.live_merge(session, case.id) if case.merged_into_id is not None else None
    master = session.get(Case, case.merged_into_id) if case.merged_into_id is not None else None
    merged = duplicates.duplicates_of(session, case.id)
    rows = {row.duplicate_id: row for row in duplicates.history(session, case.id) if row.undone_at is None}
    can_merge = viewer().has_role(*MERGE_ROLES)
    shown = []
    if master is None and not _final(case):   # the reporter sees them too, right after reporting
        shown = [candidate_row(candidate) | {"id": candidate.case.id, "final": _final(candidate.case)}
                 for candidate in duplicates.candidates.for_case(platform(), session, case, viewer())]
    return {"master": master, "merge": live, "merged": [(item, rows.get(item.id)) for item in merged],
            "history": [row for row in duplicates.history(session, case.id) if row.undone_at is not None],
            "candidates": shown, "can_merge": can_merge, "open": not _final(case),
            "state_titles": {item.id: state_title(item) for item in merged}}


def _final(case: Case) -> bool:
    try:
        state = workflow_of(case.workflow_key).states.get(case.status)
    except workflows.WorkflowError:
        return False
    return bool(state and state.final)


@blueprint.get("/duplicates/check")
@roles_required(*CHECK_ROLES)
def check_duplicates():
    """Likely duplicates of a report being written: ?theme=&category=&lon=&lat=&text=&photos=id,id"""
    theme_key = request.args.get("theme", "")
    lon, lat = request.args.get("lon", type=float), request.args.get("lat", type=float)
    try:
        theme = themes.get_theme(platform(), theme_key, db())
    except themes.UnknownTheme:   # nothing to compare with (the page sends its own theme)
        return jsonify({"candidates": []})
    if lon is None or lat is None or not (-180 <= lon <= 180 and -90 <= lat <= 90):
        return jsonify({"candidates": []})
    code = request.args.get("category", "")
    category = next((item for item in theme.categories if item.get("code") == code), {})
    photo_ids = [item for item in request.args.get("photos", "").split(",") if item][:10]
    draft = duplicates.Draft(theme_key=theme.key, lon=lon, lat=lat, text=request.args.get("text", "")[:MAX_TEXT],
                             category=category.get("parent", ""), subcategory=code if category else "",
                             photos=tuple(_own_photos(photo_ids)))
    return jsonify({"candidates": [candidate_row(c) for c in duplicates.candidates.find(platform(), db(), draft, viewer())]})


def _own_photos(ids: list[str]) -> list[tuple[str, str | None]]:
    """(sha256, dhash) of the viewer's own uploads among `ids`: nobody compares against files not theirs."""
    if not ids:
        return []
    return list(db().execute(select(Attachment.sha256, Attachment.dhash).where(
        Attachment.id.in_(ids), Attachment.owner_account_id == viewer().account_id)).all())


@blueprint.post("/cases/<int:case_id>/duplicates/merge")
@roles_required(*MERGE_ROLES)
def merge_duplicate(case_id: int):
    """Merge this case and another: `into` = "other" merges this case into the other, "this" the other into it."""
    case = case_in_scope(case_id)
    other_id = request.form.get("other_id", type=int)
    other = case_in_scope(other_id) if other_id else None
    if other is None:
        flash("请选择要合并的事件", "error")
        return redirect(url_for("work.case_page", case_id=case_id))
    duplicate, master = (case, other) if request.form.get("into") == "other" else (other, case)
    try:
        duplicates.merge(platform(), db(), duplicate, master, viewer(), reason=request.form.get("reason", ""))
        db().commit()
    except workflows.FormInvalid as error:
        db().rollback()
        flash("未能合并：" + "；".join(m for messages in error.errors.values() for m in messages), "error")
    except workflows.WorkflowError as error:
        db().rollback()
        flash(error.message, "error")
    else:
        flash(f"已将 {duplicate.number} 合并到主件 {master.number}", "info")
    return redirect(url_for("work.case_page", case_id=case_id))


@blueprint.post("/cases/<int:case_id>/duplicates/undo")
@roles_required(*MERGE_ROLES)
def undo_merge(case_id: int):
    """Undo the merge of this case (the duplicate); back to the master's page when the form came from there."""
    case = case_in_scope(case_id)
    back = request.form.get("back", type=int)
    try:
        row = duplicates.undo(platform(), db(), case, viewer(), reason=request.form.get("reason", ""))
        db().commit()
    except workflows.FormInvalid as error:
        db().rollback()
        flash("未能撤销：" + "；".join(m for messages in error.errors.values() for m in messages), "error")
    except workflows.WorkflowError as error:
        db().rollback()
        flash(error.message, "error")
    else:
        flash(f"已撤销 {case.number} 的合并", "info")
        if back == row.master_id:
            return redirect(url_for("work.case_page", case_id=row.master_id))
    return redirect(url_for("work.case_page", case_id=case_id))


def citizen_duplicates(case: Case) -> dict:
    """小兰帮办: the master a citizen's case was merged into, and their own earlier reports like it."""
    session = db()
    master = session.get(Case, case.merged_into_id) if case.merged_into_id is not None else None
    similar = [] if master is not None or _final(case) else [
        candidate_row(candidate) for candidate in duplicates.candidates.for_case(platform(), session, case, viewer())]
    return {"master_number": master.number if master else None, "similar": similar}
