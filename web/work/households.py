"""走村入户 (走村不漏户): the households a grid worker or cadre must visit, and the visit form on the phone.

A grid worker sees the households of their grids; a cadre those of the grids they answer for, or of their whole
village or township when none is recorded (their scope, core.scope). The list and the coverage are
core.grassroots.household_visits'; the visit is recorded by `core.visits.record_household_visit`, as the API does.
"""
from __future__ import annotations

import uuid

from flask import abort, flash, redirect, render_template, request, url_for
from sqlalchemy import select

from minqing.core import scope, visits

from minqing.core.grassroots import cadres, household_visits
from minqing.core.models import Address, House, Household, Resident, Role
from minqing.core.privacy import masking

from ..context import db, viewer
from ..permissions import roles_required
from . import blueprint

VISITORS = (Role.GRID_WORKER, Role.CADRE)
PER_PAGE = 100


def own_grid_ids(me) -> list[int] | None:
    """A cadre with grids of their own sees those grids' households; None: everything in scope."""
    if me.has_role(Role.CADRE) and not me.has_role(Role.GRID_WORKER):
        grids = cadres.grids_of(db(), me.account_id)
        return [grid.id for grid in grids] or None
    return None


@blueprint.get("/households")
@roles_required(*VISITORS)
def households():
    me = viewer()
    page = max(1, request.args.get("page", 1, type=int))
    unvisited = request.args.get("unvisited") == "1"
    current, rows, total = household_visits.households(
        db(), me, grid_ids=own_grid_ids(me), unvisited_only=unvisited, limit=PER_PAGE, offset=(page - 1) * PER_PAGE)
    post = cadres.post_of(db(), me.account_id) if me.has_role(Role.CADRE) else None
    return render_template("work/households.html", rows=rows, total=total, period=current, page=page,
                           per_page=PER_PAGE, unvisited=unvisited, post=post,
                           mask_name=masking.mask_name,
                           address=lambda text: masking.show(me, masking.ADDRESS, text))


def household_in_scope(household_id: int) -> Household | None:
    """The household, if this viewer may visit it (its scope); None otherwise."""
    return db().scalar(scope.restrict(select(Household).where(Household.id == household_id), Household, viewer()))


def _household(household_id: int):
    household = household_in_scope(household_id)
    if household is None:
        abort(404)
    return household


def _form_page(household, errors=None, values=None, status: int = 200):
    me = viewer()
    address = db().scalar(select(Address.text).join(House, House.address_id == Address.id)
                          .where(House.id == household.house_id)) if household.house_id else None
    members = db().execute(scope.restrict(select(Resident.name, Resident.relation)
                                          .where(Resident.household_id == household.id)
                                          .order_by(Resident.id), Resident, me)).all()
    return render_template("work/household_visit.html", household=household, members=members,
                           address=masking.show(me, masking.ADDRESS, address or ""), mask_name=masking.mask_name,
                           errors=errors or {}, values=values or {}, client_id=uuid.uuid4().hex), status


@blueprint.get("/households/<int:household_id>/visit")
@roles_required(*VISITORS)
def household_visit(household_id: int):
    return _form_page(_household(household_id))


@blueprint.post("/households/<int:household_id>/visit")
@roles_required(*VISITORS)
def record_household_visit(household_id: int):
    household = _household(household_id)
    values = {name: request.form.get(name, "")[:2000] for name in ("met", "needs", "promise_text", "promise_deadline",
                                                                  "summary")}
    values["promised"] = request.form.get("promised") == "yes"
    try:
        visits.record_household_visit(
            db(), viewer(), household_id=household.id, met=values["met"], needs=values["needs"],
            promised=values["promised"], promise_text=values["promise_text"], summary=values["summary"],
            promise_deadline=values["promise_deadline"],
            lon=request.form.get("lon", type=float), lat=request.form.get("lat", type=float),
            client_id=(request.form.get("client_id") or "")[:64] or None)
    except visits.VisitRefused as error:
        db().rollback()
        return _form_page(household, errors={error.field or "summary": [str(error)]}, values=values, status=400)
    db().commit()
    flash(f"已记录对 {household.number} 的走访" + ("，并登记帮办实事" if values["promised"] else ""), "info")
    return redirect(url_for("work.households"))
