"""我的网格: a grid worker's grid, what is in it, the visits due and the cases waiting for follow-up."""
from __future__ import annotations

import datetime as dt
import uuid

from flask import flash, redirect, render_template, request, url_for
from sqlalchemy import func, select

from minqing.core.privacy import masking
from minqing.core import scope, visits
from minqing.core.models import (Case, Grid, Household, KeyPerson, KeyPlace, Resident, Unit, Visit)

from ..context import db, viewer
from ..permissions import roles_required
from . import blueprint

DUE_WITHIN_DAYS = 3


def _count(model) -> int:
    return db().scalar(scope.restrict(select(func.count()).select_from(model), model, viewer()))


@blueprint.get("/my-grid")
@roles_required("grid_worker")
def my_grid():
    me = viewer()
    grid_ids = [grant.grid_id for grant in me.grants_of("grid_worker") if grant.grid_id]
    grids = db().scalars(select(Grid).where(Grid.id.in_(grid_ids))).all()
    soon = dt.date.today() + dt.timedelta(days=DUE_WITHIN_DAYS)
    due_people = db().execute(scope.restrict(
        select(KeyPerson.id, KeyPerson.category, KeyPerson.next_visit_due, Resident.name, Resident.id_number)
        .join(Resident, Resident.id == KeyPerson.resident_id).where(KeyPerson.next_visit_due <= soon)
        .order_by(KeyPerson.next_visit_due).limit(50), KeyPerson, me)).all()
    due_places = db().execute(scope.restrict(
        select(KeyPlace.id, KeyPlace.name, KeyPlace.category, KeyPlace.next_visit_due)
        .where(KeyPlace.next_visit_due <= soon).order_by(KeyPlace.next_visit_due).limit(50), KeyPlace, me)).all()
    to_verify = db().scalars(scope.restrict(select(Case).where(Case.status == "awaiting_follow_up")
                                            .order_by(Case.id).limit(50), Case, me)).all()
    mine = db().scalars(select(Case).where(Case.reporter_account_id == me.account_id)
                        .order_by(Case.id.desc()).limit(20)).all()
    history = db().scalars(select(Visit).where(Visit.visitor_account_id == me.account_id)
                           .order_by(Visit.id.desc()).limit(20)).all()
    counts = {"households": _count(Household), "residents": _count(Resident), "key_persons": _count(KeyPerson),
              "key_places": _count(KeyPlace), "units": _count(Unit)}
    return render_template("work/my_grid.html", grids=grids, counts=counts, due_people=due_people,
                           due_places=due_places, to_verify=to_verify, mine=mine, history=history,
                           mask_id=masking.mask_id_number, today=dt.date.today(), client_id=uuid.uuid4().hex)


@blueprint.post("/visits")
@roles_required("grid_worker")
def record_visit():
    try:
        visits.record_visit(db(), viewer(), kind=request.form.get("kind", ""),
                            target_id=request.form.get("target_id", type=int) or 0,
                            summary=request.form.get("summary", ""),
                            lon=request.form.get("lon", type=float), lat=request.form.get("lat", type=float),
                            client_id=(request.form.get("client_id") or "")[:64] or None)
        db().commit()
        flash("走访已记录", "info")
    except visits.VisitRefused as error:
        db().rollback()
        flash(str(error), "error")
    return redirect(url_for("work.my_grid"))
