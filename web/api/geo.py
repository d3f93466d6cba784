"""Grids, regions and map layers as RFC 7946 GeoJSON (WGS84 lon/lat), each FeatureCollection with its bbox."""
from __future__ import annotations

from flask import request
from sqlalchemy import select

from minqing import themes
from minqing.core.geo import features as geofeatures, geojson as geojson_format
from minqing.core.privacy import masking
from minqing.core import scope
from minqing.core.models import Grid, GridLevel, Region, RegionLevel, Role

from ..context import db, platform
from ..geo_paging import add_links, requested_page
from .auth import WORK_ROLES, current_actor, roles_required
from .common import BBOX, GEO_PAGING, bad_parameter, bbox_arg, choice_arg, given_arg, query, ref, route
from .errors import ApiError, json_response

GEOJSON = "application/geo+json"
LAYER_ROLES = (*WORK_ROLES, Role.CITIZEN)


def _bbox():
    return bbox_arg()


def _level(allowed) -> list[str]:
    values = [item.value for item in allowed]
    level = choice_arg("level", values)
    return [level] if level else values


def _page():
    try:
        return requested_page()
    except geojson_format.BadPage as error:
        raise ApiError(400, "bad_request", str(error), {"limit": [str(error)]}) from None


def geojson(body: dict, page=None):
    """A GeoJSON answer; a page (a collection with numberMatched) links the next page in `links` and `Link`."""
    headers = {}
    if page is not None:
        body, headers = add_links(body, page)
    return json_response(geojson_format.encode(body), mimetype=GEOJSON, headers=headers)


def _feature(body: dict) -> dict:
    return geojson_format.feature(body["id"], body.get("geometry"), body["properties"], with_bbox=True)


# -- grids --------------------------------------------------------------------------------------------------------

@route("/grids", summary="网格（GeoJSON）", tags=("geo",), roles=WORK_ROLES,
       params=[query("level", "网格层级（不填为全部）", {"type": "string", "enum": [item.value for item in GridLevel]}),
               BBOX, *GEO_PAGING],
       responses={200: ("管辖范围内的网格", ref("FeatureCollection")), 400: ("参数有误", ref("Problem"))})
@roles_required(*WORK_ROLES, what="查看网格")
def list_grids():
    actor, bbox, page = current_actor(), _bbox(), _page()
    return geojson(geofeatures.grid_features(db(), actor, bbox=bbox, levels=_level(GridLevel), page=page), page)


@route("/grids/<int:grid_id>", summary="一个网格（GeoJSON Feature）", tags=("geo",), roles=WORK_ROLES,
       responses={200: ("网格", ref("Feature")), 404: ("不存在或不在管辖范围内", ref("Problem"))})
@roles_required(*WORK_ROLES, what="查看网格")
def read_grid(grid_id: int):
    grid = db().scalar(scope.restrict(select(Grid).where(Grid.id == grid_id), Grid, current_actor()))
    if grid is None:
        raise ApiError(404, "not_found", f"没有编号为 {grid_id} 的网格，或您无权查看")
    return geojson(_feature({"type": "Feature", "id": grid.id, "geometry": grid.geometry, "properties": {
        "code": grid.code, "name": grid.name, "level": grid.level, "parent_id": grid.parent_id,
        "colour": grid.colour, "colour_reason": grid.colour_reason, "region_code": grid.region_code,
        "dedicated": grid.dedicated}}))


# -- regions ------------------------------------------------------------------------------------------------------

@route("/regions", summary="行政区划（GeoJSON）", tags=("geo",), roles=WORK_ROLES,
       description="区划边界是公开底图，对所有工作人员相同；没有边界的区划不在其中。",
       params=[query("level", "区划层级（不填为全部）", {"type": "string",
                                                 "enum": [item.value for item in RegionLevel]}), BBOX,
               *GEO_PAGING],
       responses={200: ("区划边界", ref("FeatureCollection")), 400: ("参数有误", ref("Problem"))})
@roles_required(*WORK_ROLES, what="查看行政区划")
def list_regions():
    bbox, page = _bbox(), _page()
    return geojson(geofeatures.region_features(db(), levels=_level(RegionLevel), bbox=bbox, page=page), page)


@route("/regions/<int:region_id>", summary="一个行政区划（GeoJSON Feature）", tags=("geo",), roles=WORK_ROLES,
       responses={200: ("区划", ref("Feature")), 404: ("不存在", ref("Problem"))})
@roles_required(*WORK_ROLES, what="查看行政区划")
def read_region(region_id: int):
    region = db().get(Region, region_id)
    if region is None:
        raise ApiError(404, "not_found", f"没有编号为 {region_id} 的行政区划")
    return geojson(_feature({"type": "Feature", "id": region.id, "geometry": region.geometry, "properties": {
        "code": region.code, "name": region.name, "level": region.level, "parent_id": region.parent_id}}))


# -- layers -------------------------------------------------------------------------------------------------------

@route("/layers", summary="可见图层", tags=("geo",), roles=LAYER_ROLES,
       responses={200: ("图层列表", {"type": "object", "required": ["items"], "properties": {
           "items": {"type": "array", "items": ref("Layer")}}})})
@roles_required(*LAYER_ROLES, what="查看图层")
def list_layers():
    items = []
    for group in themes.visible_layers(platform(), db(), current_actor()):
        for layer in group["layers"]:
            items.append({"key": layer["key"], "title": layer["title"], "department": layer["department"],
                          "department_name": group["name"], "kind": layer["kind"], "geometry": layer["geometry"],
                          "style": layer["style"], "icon": layer.get("icon", ""), "colour": layer.get("colour", ""),
                          "records": bool(layer.get("records")), "patrol_every_days": layer.get("patrol_every_days"),
                          "filters": layer.get("filters") or []})
    return json_response({"items": items})


# The same record filters as the web map's layers (web/map_view.py): field/value pairs and the patrol state.
LAYER_FILTERS = [
    {"name": "field", "in": "query", "required": False, "style": "form", "explode": True,
     "description": "按台账字段筛选：字段键（见图层的 filters），与 value 成对给出，可重复",
     "schema": {"type": "array", "items": {"type": "string", "minLength": 1}}},
    {"name": "value", "in": "query", "required": False, "style": "form", "explode": True,
     "description": "与同位置的 field 对应的取值（布尔字段为 true 或 false）",
     "schema": {"type": "array", "items": {"type": "string"}}},
    query("patrol", "按巡查状态筛选（图层须有巡查周期）",
          {"type": "string", "enum": list(themes.layers.PATROL_LABELS)}),
]


def _record_filters() -> tuple[dict[str, str], str | None]:
    """(field key → value, patrol state) from the query; 400 naming the parameter when they do not pair up."""
    try:
        filters = themes.layers.paired_filters(request.args.getlist("field"), request.args.getlist("value"))
    except themes.BadFilter as error:
        raise bad_parameter(error.parameter, str(error)) from None
    return filters, given_arg("patrol")


@route("/layers/<key>/features", summary="图层要素（GeoJSON）", tags=("geo",), roles=LAYER_ROLES,
       description="业务主题图层的台账记录（及该主题的事件）。给出 field/value 或 patrol 时只返回符合条件的台账记录，"
                   "不含事件；可筛选的字段及取值见 GET /layers 中各图层的 filters，条件有误时返回 400。",
       params=[BBOX, *LAYER_FILTERS, *GEO_PAGING],
       responses={200: ("图层要素", ref("FeatureCollection")), 400: ("参数或筛选条件有误", ref("Problem")),
                  403: ("无权查看该图层", ref("Problem")), 404: ("没有这个图层", ref("Problem"))})
@roles_required(*LAYER_ROLES, what="查看图层")
def layer_features(key: str):
    actor, page = current_actor(), _page()
    filters, patrol = _record_filters()
    try:
        body = themes.layer_page(platform(), db(), key, actor, _bbox(), page, filters=filters, patrol=patrol)
    except themes.BadFilter as error:
        raise bad_parameter(error.parameter, str(error)) from None
    except themes.UnknownTheme:
        raise ApiError(404, "not_found", f"没有名为“{key[:80]}”的图层") from None
    except themes.LayerHidden:
        raise ApiError(403, "layer_hidden", f"您的角色无权查看图层“{key[:80]}”") from None
    for item in body["features"]:
        properties = item.get("properties") or {}
        # a plugin's label may hold anything; a record's was masked as its feature was built
        if properties.get("kind") != "record" and isinstance(properties.get("label"), str):
            properties["label"] = masking.text_for(actor, properties["label"])
    return geojson(body, page)
