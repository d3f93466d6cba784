"""重点网格 (key grids held by party secretaries) and the 帮办实事 ledger per village, in 小兰民情.

Administrators and operators assign a small red or yellow grid of their region to a party secretary and remove the
assignment; leaders read. The rules are `core.grassroots.key_grids`'; the page parses the form, calls the service, commits and
says what happened. The ledger page lists the practical matters of the viewer's villages (`core.grassroots.practical_matters`),
names masked.
"""
from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from sqlalchemy import select

from minqing.core import city

from minqing.core.grassroots import key_grids, practical_matters
from minqing.core.models import Account, Household, Resident
from minqing.core.privacy import masking

from ..context import db, viewer
from ..permissions import roles_required
from . import blueprint

ASSIGNERS = ("admin", "operator")
READERS = ("admin", "operator", "leader")


@blueprint.get("/key-grids")
@roles_required(*READERS)
def key_grids_page():
    me = viewer()
    may_assign = me.has_role(*ASSIGNERS)
    return render_template("manage/key_grids.html", rows=key_grids.key_grids_for(db(), me), may_assign=may_assign,
                           candidates=key_grids.candidates(db(), me) if may_assign else [],
                           secretaries=key_grids.party_secretaries(db(), viewer=me, limit=500) if may_assign else [], colours=key_grids.COLOUR_TITLES)


@blueprint.post("/key-grids")
@roles_required(*ASSIGNERS)
def assign_key_grid():
    try:
        key_grid = key_grids.assign(db(), viewer(), grid_id=request.form.get("grid_id", type=int),
                                    holder_account_id=request.form.get("holder_account_id", type=int),
                                    note=request.form.get("note", ""))
        db().commit()
    except key_grids.KeyGridRefused as refused:
        db().rollback()
        flash(refused.message, "error")
        return redirect(url_for("manage.key_grids_page"))
    flash(f"已设为重点网格（包抓人已确定，当前{key_grids.COLOUR_TITLES[key_grid.colour_at_assignment]}色）", "info")
    return redirect(url_for("manage.key_grids_page"))


@blueprint.post("/key-grids/<int:key_grid_id>/remove")
@roles_required(*ASSIGNERS)
def remove_key_grid(key_grid_id: int):
    try:
        key_grids.remove(db(), viewer(), key_grid_id=key_grid_id, reason=request.form.get("reason", ""))
        db().commit()
        flash("已解除重点网格", "info")
    except key_grids.KeyGridRefused as refused:
        db().rollback()
        flash(refused.message, "error")
    return redirect(url_for("manage.key_grids_page"))


@blueprint.get("/matters")
@roles_required(*READERS)
def matters_page():
    me = viewer()
    today = city.today(db())
    village = (request.args.get("village") or "").strip()[:15] or None
    status = request.args.get("status") or None
    rows = practical_matters.listing(db(), me, region_code=village, status=status)
    households = dict(db().execute(select(Household.id, Household.number).where(
        Household.id.in_({row.household_id for row in rows}))).all()) if rows else {}
    residents = dict(db().execute(select(Resident.id, Resident.name).where(
        Resident.id.in_({row.resident_id for row in rows if row.resident_id}))).all()) if rows else {}
    owners = dict(db().execute(select(Account.id, Account.display_name).where(
        Account.id.in_({row.owner_account_id for row in rows}))).all()) if rows else {}
    tallies = practical_matters.tallies(db(), me, today)
    return render_template("manage/matters.html", rows=rows, villages=tallies.villages,
                           owners_tally=tallies.owners, households=households,
                           residents={key: masking.mask_name(name) for key, name in residents.items()},
                           owners=owners, village=village, status=status, today=today,
                           statuses=practical_matters.STATUS_TITLES, open=practical_matters.OPEN)
