"""帮办实事 in the work end: a cadre's (or grid worker's, or operator's) own practical matters, promising a new one
for a household of their scope (from a visit: `?household_id=…&visit_id=…`), and carrying one from promise to
result. The page only reads the form; `core.grassroots.practical_matters` checks and stores every step.
"""
from __future__ import annotations

import uuid

from flask import abort, flash, redirect, render_template, request, url_for
from sqlalchemy import select

from minqing.core import city, scope

from minqing.core.grassroots import key_grids, practical_matters as matters
from minqing.core.models import Account, Case, Household, PracticalMatter, Resident
from minqing.core.privacy import masking

from ..context import db, viewer
from ..permissions import roles_required
from . import blueprint

WORKERS = ("cadre", "grid_worker", "operator", "admin")
MAX_HOUSEHOLDS = 500


def _households() -> list[tuple[int, str, str]]:
    rows = db().execute(scope.restrict(select(Household.id, Household.number, Household.head_name)
                                       .order_by(Household.number).limit(MAX_HOUSEHOLDS), Household, viewer()))
    return [(household_id, number, masking.mask_name(head)) for household_id, number, head in rows]


def _household(household_id: int | None) -> Household | None:
    if not household_id:
        return None
    return db().scalar(scope.restrict(select(Household).where(Household.id == household_id), Household, viewer()))


def _render(status: int = 200, household: Household | None = None, form: dict | None = None):
    me = viewer()
    residents = []
    if household is not None:
        residents = [(resident_id, masking.mask_name(name), relation) for resident_id, name, relation in db().execute(
            select(Resident.id, Resident.name, Resident.relation).where(Resident.household_id == household.id)
            .order_by(Resident.id))]
    mine = matters.owned(db(), me)
    return render_template(
        "work/matters.html", mine=mine, households=_households() if household is None else [],
        household=household, head=masking.mask_name(household.head_name) if household else "", residents=residents,
        form=form or {}, visit_id=request.values.get("visit_id", type=int),
        case_id=request.values.get("case_id", type=int), client_id=uuid.uuid4().hex,
        key_grids=key_grids.key_grids_for(db(), me, holder_account_id=me.account_id) if me.has_role("cadre") else [],
        statuses=matters.STATUS_TITLES, open=matters.OPEN, today=city.today(db())), status


@blueprint.get("/matters")
@roles_required(*WORKERS)
def my_matters():
    household_id = request.args.get("household_id", type=int)
    household = _household(household_id)
    if household_id and household is None:
        abort(404)
    return _render(household=household)[0]


@blueprint.post("/matters")
@roles_required(*WORKERS)
def promise_matter():
    form = request.form
    household = _household(form.get("household_id", type=int))
    try:
        matter = matters.promise(db(), viewer(), household_id=household.id if household else None,
                                 title=form.get("title", ""), detail=form.get("detail", ""),
                                 deadline=form.get("deadline", ""), resident_id=form.get("resident_id", type=int),
                                 visit_id=form.get("visit_id", type=int), case_id=form.get("case_id", type=int),
                                 client_id=(request.args.get("client_id") or "")[:64] or None)
        db().commit()
    except matters.MatterRefused as refused:
        db().rollback()
        flash(refused.message, "error")
        return _render(400, household, dict(form))
    flash(f"帮办实事已登记：{matter.title}（期限 {matter.deadline}）", "info")
    return redirect(url_for("work.matter_page", matter_id=matter.id))


def _matter_or_404(matter_id: int) -> PracticalMatter:
    matter = db().scalar(matters.in_scope(select(PracticalMatter).where(PracticalMatter.id == matter_id), viewer()))
    if matter is None:
        abort(404)
    return matter


@blueprint.get("/matters/<int:matter_id>")
@roles_required(*WORKERS, "leader")
def matter_page(matter_id: int):
    matter = _matter_or_404(matter_id)
    household = db().get(Household, matter.household_id)
    resident = matter.resident_id and db().get(Resident, matter.resident_id)
    case = matter.case_id and db().get(Case, matter.case_id)
    owner = db().get(Account, matter.owner_account_id)
    return render_template("work/matter.html", matter=matter, household=household,
                           head=masking.mask_name(household.head_name),
                           resident=masking.mask_name(resident.name) if resident else "",
                           case=case if case and scope.can_see(db(), Case, case.id, viewer()) else None,
                           owner=owner.display_name if owner else "", may_act=matters.may_act(db(), viewer(), matter),
                           statuses=matters.STATUS_TITLES, open=matters.OPEN, today=city.today(db()))


def _act(matter_id: int, action, done: str):
    _matter_or_404(matter_id)
    try:
        action()
        db().commit()
        flash(done, "info")
    except matters.MatterRefused as refused:
        db().rollback()
        flash(refused.message, "error")
    return redirect(url_for("work.matter_page", matter_id=matter_id))


@blueprint.post("/matters/<int:matter_id>/start")
@roles_required(*WORKERS)
def start_matter(matter_id: int):
    return _act(matter_id, lambda: matters.start(db(), viewer(), matter_id), "已开始办理")


@blueprint.post("/matters/<int:matter_id>/finish")
@roles_required(*WORKERS)
def finish_matter(matter_id: int):
    return _act(matter_id, lambda: matters.finish(db(), viewer(), matter_id, result=request.form.get("result", "")),
                "已办结，办理结果已记录")


@blueprint.post("/matters/<int:matter_id>/decline")
@roles_required(*WORKERS)
def decline_matter(matter_id: int):
    return _act(matter_id, lambda: matters.decline(db(), viewer(), matter_id, reason=request.form.get("reason", "")),
                "已记录无法办理及原因")
