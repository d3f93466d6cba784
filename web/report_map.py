"""The report forms' map picker: the search over the 一标三实 standard addresses, and the settings the picker
reads (the city's centre, the base map's outlines, the reporter's own grid).

The search answers only an address's text and point, never who lives there. Staff with a territory search the
addresses of their scope (`core.scope.restrict`); a citizen, or a department's staff previewing a form in the
builder, search every standard address of the city: a doorplate and its point are what a street sign shows.
"""
from __future__ import annotations

from flask import Blueprint, jsonify, request, url_for
from sqlalchemy import func, select

from minqing.core import city, scope
from minqing.core.models import Address, Role

from .context import db, viewer
from .permissions import roles_required

blueprint = Blueprint("report_map", __name__, url_prefix="/report-map")

SEARCH_ROLES = ("grid_worker", "operator", "leader", "department_staff", "admin", "citizen")
UNSCOPED_ROLES = (Role.CITIZEN, Role.DEPARTMENT_STAFF)   # no territory of their own: text and point only
MAX_QUERY = 40          # characters of a search
MIN_QUERY = 2
MAX_RESULTS = 10


def _territorial() -> bool:
    return any(grant.region_code or grant.grid_code for grant in viewer().grants) or viewer().has_role(Role.ADMIN)


@blueprint.get("/addresses.json")
@roles_required(*SEARCH_ROLES)
def addresses():
    """?q=text: up to MAX_RESULTS standard addresses whose text contains it, shortest first."""
    text = " ".join((request.args.get("q") or "").split())
    if len(text) > MAX_QUERY:
        return jsonify({"results": [], "message": f"搜索内容过长（最多 {MAX_QUERY} 个字）"}), 400
    if len(text) < MIN_QUERY:
        return jsonify({"results": [], "message": f"请至少输入 {MIN_QUERY} 个字"})
    statement = (select(Address.text, Address.lon, Address.lat)
                 .where(Address.text.contains(text, autoescape=True), Address.lon.is_not(None),
                        Address.lat.is_not(None))
                 .order_by(func.length(Address.text), Address.id).limit(MAX_RESULTS))
    if _territorial() or not viewer().has_role(*UNSCOPED_ROLES):
        statement = scope.restrict(statement, Address, viewer())
    results = [{"text": row.text, "lon": row.lon, "lat": row.lat} for row in db().execute(statement)]
    return jsonify({"results": results, "message": "" if results else "没有找到含这些文字的标准地址"})


def picker_settings() -> dict:
    """What the picker's script reads from the page (data-* of the report form's map)."""
    centre, zoom = city.map_view(db())
    staff = viewer().has_role("grid_worker", "operator", "leader", "admin")
    return {"centre": f"{centre[0]},{centre[1]}", "zoom": zoom,
            "regions-url": url_for("map.regions"),
            "grids-url": url_for("map.grids") if staff else "",
            "my-grids-url": url_for("map.my_grids") if any(grant.grid_id for grant in viewer().grants) else "",
            "addresses-url": url_for("report_map.addresses")}
