"""民情地图: the map page and the GeoJSON it draws (regions as the base map, grids, cases, theme layers)."""
from __future__ import annotations

import datetime as dt

from flask import Blueprint, jsonify, render_template, request, url_for
from flask_login import login_required

from minqing.core import city
from minqing.core.geo import case_clusters as clusters, features as geofeatures, geojson
from minqing.core.geo.geojson import BadPage
from minqing.core.geo.regions import LEVELS
from minqing.core.models import utcnow

from .context import db, platform, viewer
from .geo_paging import add_links, geojson_response, requested_page

blueprint = Blueprint("map", __name__, url_prefix="/map")


MAX_RECENT_DAYS = 366
RECENT_PERIODS = (7, 30, 90, 365)   # the map's choices of "open, and reported in the last N days"; 30 first
MARKER_LIMIT = 5000                 # markers the map draws at most in one view (a street's cases)


def _since():
    """`recent_days=N` (1–366): the cases still open or reported in the last N days (the map's default view of a
    city's year); None without it (every case, as the API always answered)."""
    text = request.args.get("recent_days")
    if text in (None, ""):
        return None
    if not text.isdigit() or not 1 <= int(text) <= MAX_RECENT_DAYS:
        raise ValueError(f"recent_days 应为 1 到 {MAX_RECENT_DAYS} 之间的整数（天）")
    return utcnow() - dt.timedelta(days=int(text))


def _bbox_and_zoom():
    bbox = geofeatures.parse_bbox(request.args.get("bbox"))
    zoom = request.args.get("zoom", type=int)
    return bbox, zoom


def _bad_request(error: Exception):
    return jsonify({"error": "bad_request", "message": str(error)}), 400


def _paged(body: dict, page):
    return geojson_response(*add_links(body, page))


@blueprint.get("/")
@login_required
def index():
    centre, zoom = city.map_view(db())  # the city's setting (`minqing init`), not a constant
    return render_template("map/index.html", centre=centre, zoom=zoom, markers_from=clusters.MARKERS_FROM_ZOOM,
                           periods=RECENT_PERIODS, marker_limit=MARKER_LIMIT)


@blueprint.get("/grids.geojson")
@login_required
def grids():
    try:
        bbox, zoom = _bbox_and_zoom()
        page = requested_page()
    except (geofeatures.BadBBox, BadPage) as error:
        return _bad_request(error)
    level = request.args.get("level")
    if level not in (None, "large", "medium", "small"):
        return _bad_request(ValueError("level 应为 large、medium 或 small"))
    return _paged(geofeatures.grid_features(db(), viewer(), bbox=bbox, zoom=zoom, level=level, page=page), page)


@blueprint.get("/regions.geojson")
@login_required
def regions():
    try:
        bbox, zoom = _bbox_and_zoom()
        page = requested_page()
    except (geofeatures.BadBBox, BadPage) as error:
        return _bad_request(error)
    level = request.args.get("level", "county")
    if level not in LEVELS[:4]:
        return _bad_request(ValueError("level 应为 city、county、township 或 village"))
    return _paged(geofeatures.region_features(db(), level=level, bbox=bbox, zoom=zoom, page=page), page)


@blueprint.get("/cases.geojson")
@login_required
def cases():
    try:
        bbox, _ = _bbox_and_zoom()
        page = requested_page()
        since = _since()
    except (geofeatures.BadBBox, BadPage, ValueError) as error:
        return _bad_request(error)
    return _paged(geofeatures.case_features(db(), viewer(), bbox=bbox, page=page, since=since), page)


@blueprint.get("/case-clusters.geojson")
@login_required
def case_clusters():
    """The cases of `cases.geojson` (same bbox and recent_days) counted per county, township or village (`level`,
    or the one the zoom shows): the numbered circles of a zoomed-out map."""
    try:
        bbox, zoom = _bbox_and_zoom()
        since = _since()
    except (geofeatures.BadBBox, ValueError) as error:
        return _bad_request(error)
    level = request.args.get("level") or clusters.level_for_zoom(zoom if zoom is not None else 0)
    if level not in clusters.LEVELS:
        return _bad_request(ValueError("level 应为 county、township 或 village"))
    return geojson_response(clusters.case_clusters(db(), viewer(), level=level, now=utcnow(), bbox=bbox,
                                                   since=since))


@blueprint.get("/layers.json")
@login_required
def layers():
    """Every layer this viewer may see, grouped by department (the map's layer switcher)."""
    from minqing import themes

    groups = themes.visible_layers(platform(), db(), viewer())
    flat = [{**layer, "department_name": group["name"],
             "url": url_for("map.layer", key=layer["key"])}
            for group in groups for layer in group["layers"]]
    return jsonify({"groups": groups, "layers": flat})


@blueprint.get("/layers/<key>.geojson")
@login_required
def layer(key: str):
    from minqing import themes

    try:
        bbox, _ = _bbox_and_zoom()
        page = requested_page()
        # ?field=KEY&value=V (repeatable in pairs): the record-form fields a layer is filtered by
        filters = themes.layers.paired_filters(request.args.getlist("field"), request.args.getlist("value"))
        body = themes.layer_page(platform(), db(), key, viewer(), bbox, page, filters=filters,
                                 patrol=request.args.get("patrol") or None)
    except (geofeatures.BadBBox, BadPage, themes.BadFilter) as error:
        return _bad_request(error)
    except (themes.LayerHidden, themes.UnknownTheme):
        return jsonify({"error": "not_found", "message": "没有这个图层，或您无权查看"}), 404
    db().commit()   # a warning layer's on-demand evaluation (core.warning_rules) is stored; nothing else writes here
    return _paged(body, page)


@blueprint.get("/my-grids.geojson")
@login_required
def my_grids():
    """The grids the viewer works in (a grid worker's own grid), outlined on the map whatever the zoom."""
    from sqlalchemy import select

    from minqing.core.models import Grid

    ids = sorted({grant.grid_id for grant in viewer().grants if grant.grid_id})
    rows = db().execute(select(Grid.id, Grid.code, Grid.name, Grid.level, Grid.geometry)
                        .where(Grid.id.in_(ids))).all() if ids else []
    return geojson_response(geojson.collection([geojson.feature(row.id, row.geometry, {
        "code": row.code, "name": row.name, "level": row.level}) for row in rows]))
