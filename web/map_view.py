"""民情地图: the map page and the GeoJSON it draws (regions as the base map, grids, cases, theme layers)."""
from __future__ import annotations

from flask import Blueprint, jsonify, render_template, request, url_for
from flask_login import login_required

from minqing.core import geofeatures
from minqing.core.regions import LEVELS

from .context import db, platform, viewer

blueprint = Blueprint("map", __name__, url_prefix="/map")
CITY_CENTRE = (103.83, 36.06)


def _bbox_and_zoom():
    bbox = geofeatures.parse_bbox(request.args.get("bbox"))
    zoom = request.args.get("zoom", type=int)
    return bbox, zoom


def _bad_request(error: Exception):
    return jsonify({"error": "bad_request", "message": str(error)}), 400


@blueprint.get("/")
@login_required
def index():
    return render_template("map/index.html", centre=CITY_CENTRE)


@blueprint.get("/grids.geojson")
@login_required
def grids():
    try:
        bbox, zoom = _bbox_and_zoom()
    except geofeatures.BadBBox as error:
        return _bad_request(error)
    level = request.args.get("level")
    if level not in (None, "large", "medium", "small"):
        return _bad_request(ValueError("level 应为 large、medium 或 small"))
    return jsonify(geofeatures.grid_features(db(), viewer(), bbox=bbox, zoom=zoom, level=level))


@blueprint.get("/regions.geojson")
@login_required
def regions():
    try:
        bbox, zoom = _bbox_and_zoom()
    except geofeatures.BadBBox as error:
        return _bad_request(error)
    level = request.args.get("level", "county")
    if level not in LEVELS[:4]:
        return _bad_request(ValueError("level 应为 city、county、township 或 village"))
    return jsonify(geofeatures.region_features(db(), level=level, bbox=bbox, zoom=zoom))


@blueprint.get("/cases.geojson")
@login_required
def cases():
    try:
        bbox, _ = _bbox_and_zoom()
    except geofeatures.BadBBox as error:
        return _bad_request(error)
    return jsonify(geofeatures.case_features(db(), viewer(), bbox=bbox))


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
        features = themes.layer_features(platform(), db(), key, viewer(), bbox)
    except geofeatures.BadBBox as error:
        return _bad_request(error)
    except (themes.LayerHidden, themes.UnknownTheme):
        return jsonify({"error": "not_found", "message": "没有这个图层，或您无权查看"}), 404
    return jsonify(geofeatures.feature_collection(features))
