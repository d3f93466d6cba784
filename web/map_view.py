"""民情地图: the map page and the GeoJSON it draws (regions as the base map, grids, cases, theme layers)."""
from __future__ import annotations

from flask import Blueprint, jsonify, render_template, request, url_for
from flask_login import login_required

from minqing.core import city
from minqing.core.geo import features as geofeatures, geojson
from minqing.core.geo.geojson import BadPage
from minqing.core.geo.regions import LEVELS

from .context import db, platform, viewer
from .geo_paging import add_links, geojson_response, requested_page

blueprint = Blueprint("map", __name__, url_prefix="/map")


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
    return render_template("map/index.html", centre=centre, zoom=zoom)


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
    except (geofeatures.BadBBox, BadPage) as error:
        return _bad_request(error)
    return _paged(geofeatures.case_features(db(), viewer(), bbox=bbox, page=page), page)


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
