"""Department ledgers (台账) over REST: a theme's records as GeoJSON, created, edited (with `If-Match`) and retired
through `minqing.themes.records`, so a department's own system can keep its ledger in sync.

    GET    /themes/{key}/records                 a page of records (limit/offset, `links` and a `Link` header)
    POST   /themes/{key}/records                 create; idempotent with Idempotency-Key or client_id
    GET    /themes/{key}/records/{id}            one record; `ETag: "v<version>"`
    PUT    /themes/{key}/records/{id}            replace data and/or geometry; If-Match required (428, 412)
    DELETE /themes/{key}/records/{id}            retire (never erased) → 204
    GET    /themes/{key}/records/{id}/history    who changed what, old and new values

Reads go through `core.scope` (a record outside the viewer's scope is 404) and the theme's layer visibility;
every form value passes through `core.privacy.masking` for the viewer (history values too).
"""
from __future__ import annotations

import datetime as dt

from flask import Response, request, url_for
from sqlalchemy import func, select

from minqing import themes
from minqing.core.actors import Actor
from minqing.core.geo import geojson as geojson_format
from minqing.core.models import ThemeRecord
from minqing.core.privacy import masking
from minqing.themes import layers as theme_layers, records

from ..context import db, platform
from ..geo_paging import add_links, requested_page
from . import idempotency
from .auth import WORK_ROLES, current_actor, roles_required
from .common import (BBOX, GEO_PAGING, IDEMPOTENCY, TIME_SCHEMA, bbox_arg, bool_arg, iso, json_body, query, route,
                     time_arg)
from .errors import ApiError, json_response
from .present import masked_document

READ_ROLES = WORK_ROLES
WRITE_ROLES = records.WRITE_ROLES
GEOJSON = "application/geo+json"
BODY_FIELDS = ("data", "geometry", "lon", "lat", idempotency.BODY_FIELD)
RECORD = "/themes/<key>/records/<int:record_id>"
GEOMETRY_SCHEMA = {"type": "object", "description": "GeoJSON 几何（WGS84）：Point、LineString、MultiLineString、"
                                                    "Polygon 或 MultiPolygon",
                   "required": ["type", "coordinates"],
                   "properties": {"type": {"type": "string", "enum": list(records.GEOMETRY_TYPES)},
                                  "coordinates": {"type": "array"}}}
WRITE_BODY = {"type": "object", "additionalProperties": False, "required": ["data"], "properties": {
    "data": {"type": "object", "description": "台账表单数据（按 GET /themes/{key} 的 schemas.record）"},
    "geometry": GEOMETRY_SCHEMA,
    "lon": {"type": "number", "minimum": -180, "maximum": 180, "description": "点的经度（或给出 geometry）"},
    "lat": {"type": "number", "minimum": -90, "maximum": 90, "description": "点的纬度"},
    "client_id": {"type": "string", "maxLength": 200, "description": "幂等键（仅 POST）"}}}
FEATURE = {"$ref": "#/components/schemas/Feature"}
COLLECTION = {"$ref": "#/components/schemas/FeatureCollection"}
PROBLEM = {"$ref": "#/components/schemas/Problem"}
HISTORY = {"type": "object", "required": ["items"], "properties": {"items": {"type": "array", "items": {
    "type": "object", "required": ["version", "action", "at"], "properties": {
        "version": {"type": "integer"}, "action": {"type": "string", "enum": ["create", "update", "retire"]},
        "at": {"type": "string"}, "actor": {"type": "string"},
        "changes": {"type": "object", "description": "字段 → {old, new}（按角色遮蔽）"}}}}}}


# -- shapes -------------------------------------------------------------------------------------------------------

def etag(record: ThemeRecord) -> str:
    return f"v{record.version}"


def feature(viewer: Actor, record: ThemeRecord) -> dict:
    """A record as a GeoJSON Feature for this viewer (form values masked by role)."""
    properties = {
        "id": record.id, "theme": record.theme_key, "theme_version": record.theme_version,
        "version": record.version, "client_id": record.client_id, "department": record.department_key,
        "data": masked_document(viewer, record.form_data or {}), "grid_id": record.grid_id,
        "region_code": record.region_code, "created_by": record.created_by, "created_at": iso(record.created_at),
        "updated_at": iso(record.updated_at), "last_patrolled_at": iso(record.last_patrolled_at),
        "retired_at": iso(record.retired_at), "retired_by": record.retired_by or None}
    return geojson_format.feature(record.id, geojson_format.geometry(records.location(record)), properties,
                                  with_bbox=True)


def _answer(viewer: Actor, record: ThemeRecord, status: int = 200, headers: dict | None = None) -> Response:
    headers = {"ETag": f'"{etag(record)}"', **(headers or {})}
    return json_response(feature(viewer, record), status, headers, mimetype=GEOJSON)


def _error(error: Exception) -> ApiError:
    """The service's refusals as problem details naming the field (in Chinese)."""
    if isinstance(error, themes.RecordInvalid):
        fields: dict[str, list[str]] = {}
        for path, message in error.errors:
            name = path if path in ("lon", "lat", "geometry") else f"data.{path}" if path else "data"
            fields.setdefault(name, []).append(message)
        return ApiError(422, "form_invalid", "台账记录的内容有误", fields)
    if isinstance(error, records.StaleRecord):
        return ApiError(412, error.code, error.message, {"If-Match": [error.message]})
    if isinstance(error, records.RecordNotFound):
        return ApiError(404, error.code, error.message)
    if isinstance(error, records.RecordRefused):
        return ApiError(403, error.code, error.message, {error.field: [error.message]} if error.field else None)
    if isinstance(error, records.RecordRetired):
        return ApiError(409, error.code, error.message)
    if isinstance(error, themes.NotPublished):
        return ApiError(409, "not_published", str(error))
    raise error


def theme_for(actor: Actor, key: str) -> themes.Theme:
    """The enabled theme whose layer the actor may see: 404 for none, 403 for a hidden layer."""
    theme = themes.registry(platform(), db()).themes.get(key)
    if theme is None:
        raise ApiError(404, "unknown_theme", f"没有名为“{key[:80]}”的业务主题（或提供它的插件已停用）")
    if not theme_layers.may_see(theme, actor):
        raise ApiError(403, "layer_hidden", f"您的角色无权查看业务主题“{theme.title}”的台账")
    return theme


def _record(actor: Actor, key: str, record_id: int) -> ThemeRecord:
    theme_for(actor, key)
    try:
        return records.get_record(db(), actor, record_id, key)
    except records.RecordNotFound as error:
        raise _error(error) from None


def _location(body: dict) -> dict:
    return {"lon": body.get("lon"), "lat": body.get("lat"), "geometry": body.get("geometry")}


def _check_body(body: dict, allowed=BODY_FIELDS) -> dict:
    problems = {name: ["含有未定义的字段"] for name in body if name not in allowed}
    if not isinstance(body.get("data"), dict):
        problems["data"] = ["请给出台账表单数据（data，JSON 对象）"]
    if (body.get("lon") is None) != (body.get("lat") is None):
        problems.setdefault("lon" if body.get("lon") is None else "lat", []).append("经度和纬度须同时给出")
    if problems:
        raise ApiError(422, "form_invalid", "请求内容有误", problems)
    return body


# -- the collection -----------------------------------------------------------------------------------------------

@route("/themes/<key>/records", summary="台账记录列表（GeoJSON）", tags=("records",), roles=READ_ROLES,
       description="业务主题的台账记录，按管辖范围；已退出台账的记录默认不列出。按 id 排序，limit/offset 分页，"
                   "下一页见 links 与 Link 头。",
       params=[BBOX, query("include_retired", "是否包括已退出台账的记录", {"type": "boolean"}),
               query("updated_since", "只列出此时间之后改动的记录（同步用）", TIME_SCHEMA), *GEO_PAGING],
       responses={200: ("一页台账记录", COLLECTION), 403: ("无权查看该主题的台账", PROBLEM),
                  404: ("没有这个主题", PROBLEM)})
@roles_required(*READ_ROLES, what="查看台账记录")
def list_records(key: str):
    actor = current_actor()
    theme_for(actor, key)
    try:
        page = requested_page()
    except geojson_format.BadPage as error:
        raise ApiError(400, "invalid_parameter", str(error), {"limit": [str(error)]}) from None
    statement = records.records_query(actor, key, include_retired=bool(bool_arg("include_retired")))
    if bbox := bbox_arg():
        statement = statement.where(ThemeRecord.min_lon <= bbox[2], ThemeRecord.max_lon >= bbox[0],
                                    ThemeRecord.min_lat <= bbox[3], ThemeRecord.max_lat >= bbox[1])
    since = time_arg("updated_since")
    if since is not None:
        statement = statement.where(ThemeRecord.updated_at > since.astimezone(dt.UTC))
    matched = db().scalar(select(func.count()).select_from(statement.order_by(None).subquery()))
    rows = db().scalars(statement.order_by(ThemeRecord.id).offset(page.offset).limit(page.limit)).all()
    body, headers = add_links(geojson_format.collection([feature(actor, row) for row in rows], matched=matched),
                              page)
    return json_response(body, mimetype=GEOJSON, headers=headers)


@route("/themes/<key>/records", ("POST",), summary="新增台账记录", tags=("records",), roles=WRITE_ROLES,
       description="按主题最新版本的台账表单新增一条记录（点：lon/lat 或 geometry；线、面：geometry）。"
                   "记录须在您的管辖范围内。幂等：Idempotency-Key 头或请求体中的 client_id。",
       params=[IDEMPOTENCY], body=WRITE_BODY,
       responses={201: ("已新增（重试时为第一次的结果）", FEATURE), 403: ("角色无权或不在管辖范围内", PROBLEM),
                  404: ("没有这个主题", PROBLEM), 409: ("主题尚未发布", PROBLEM),
                  422: ("内容有误（按字段）", PROBLEM)})
@roles_required(*WRITE_ROLES, what="新增台账记录")
def create_record(key: str):
    actor = current_actor()
    theme_for(actor, key)
    body = json_body()
    client_key = idempotency.key_of(body)

    def work():
        _check_body(body)
        try:
            record = records.create(
                platform(), db(), actor, key, body["data"], **_location(body),
                client_id=idempotency.client_id_for(actor.account_id, client_key, "apir-") if client_key else None)
        except (themes.RecordInvalid, records.RecordError, themes.NotPublished) as error:
            raise _error(error) from None
        db().flush()
        return 201, feature(actor, record)

    status, answer, replayed = idempotency.run_once(db(), actor, client_key, "POST", request.path, body, work)
    db().commit()
    headers = {"Location": url_for("api.read_record", key=key, record_id=answer["id"]),
               "ETag": f'"v{answer["properties"]["version"]}"'}
    if replayed:
        headers[idempotency.REPLAYED_HEADER] = "true"
    return json_response(answer, status, headers, mimetype=GEOJSON)


# -- one record ---------------------------------------------------------------------------------------------------

@route(RECORD, summary="一条台账记录（GeoJSON Feature）", tags=("records",), roles=READ_ROLES,
       description="ETag 为记录的版本（\"v3\"）；修改或退出时以 If-Match 带上它。",
       responses={200: ("台账记录", FEATURE), 403: ("无权查看该主题的台账", PROBLEM),
                  404: ("不存在或不在管辖范围内", PROBLEM)})
@roles_required(*READ_ROLES, what="查看台账记录")
def read_record(key: str, record_id: int):
    actor = current_actor()
    return _answer(actor, _record(actor, key, record_id))


def _if_match(record: ThemeRecord, *, required: bool) -> int | None:
    """The version the client's If-Match names (None for `*` or, when not required, no header): 428 without the
    header where it is required, 412 when it names another version."""
    if "If-Match" not in request.headers:
        if required:
            raise ApiError(428, "precondition_required", "修改台账记录须带 If-Match 请求头（读取记录时得到的 ETag）",
                           {"If-Match": ["缺少 If-Match（如 \"v3\"）"]})
        return None
    if request.if_match.star_tag:
        return record.version
    if not request.if_match.contains(etag(record)):
        message = f"记录已被他人改动（当前 ETag 为 \"{etag(record)}\"），请重新读取后再修改"
        raise ApiError(412, "version_conflict", message, {"If-Match": [message]},
                       headers={"ETag": f'"{etag(record)}"'})
    return record.version


@route(RECORD, ("PUT",), summary="修改台账记录", tags=("records",), roles=WRITE_ROLES, if_match=True,
       description="以新的表单数据（完整替换）和/或新的位置修改记录，按主题最新版本的台账表单校验。"
                   "必须带 If-Match（记录的 ETag）：缺少 428，已被他人改动 412。",
       body=WRITE_BODY,
       responses={200: ("修改后的记录", FEATURE), 403: ("角色无权或不在管辖范围内", PROBLEM),
                  404: ("不存在或不在管辖范围内", PROBLEM), 409: ("记录已退出台账", PROBLEM),
                  422: ("内容有误（按字段）", PROBLEM), 428: ("缺少 If-Match", PROBLEM)})
@roles_required(*WRITE_ROLES, what="修改台账记录")
def update_record(key: str, record_id: int):
    actor = current_actor()
    record = _record(actor, key, record_id)
    version = _if_match(record, required=True)
    body = _check_body(json_body(), BODY_FIELDS[:-1])
    location = _location(body)
    try:
        records.update(platform(), db(), actor, record, version=version, data=body["data"],
                       **({} if all(value is None for value in location.values()) else location))
    except (themes.RecordInvalid, records.RecordError, themes.NotPublished) as error:
        raise _error(error) from None
    db().commit()
    return _answer(actor, record)


@route(RECORD, ("DELETE",), summary="退出台账（不删除）", tags=("records",), roles=WRITE_ROLES, if_match=True,
       description="记录退出台账：保留记录及其历史，记下退出人和时间，不再出现在图层和列表中。"
                   "If-Match 可选；给出时须为当前 ETag。已退出的记录再次退出仍答 204。",
       responses={204: ("已退出台账", None), 403: ("角色无权或不在管辖范围内", PROBLEM),
                  404: ("不存在或不在管辖范围内", PROBLEM)})
@roles_required(*WRITE_ROLES, what="退出台账记录")
def retire_record(key: str, record_id: int):
    actor = current_actor()
    record = _record(actor, key, record_id)
    version = _if_match(record, required=False)
    try:
        records.retire(db(), actor, record, version=version)
    except records.RecordError as error:
        raise _error(error) from None
    db().commit()
    response = Response(status=204)
    del response.headers["Content-Type"]
    return response


@route(f"{RECORD}/history", summary="台账记录的修改历史", tags=("records",), roles=READ_ROLES,
       description="每次新增、修改、退出：版本、时间、经办人，以及改动字段的旧值和新值（按角色遮蔽）。",
       responses={200: ("历史", HISTORY), 403: ("无权查看该主题的台账", PROBLEM),
                  404: ("不存在或不在管辖范围内", PROBLEM)})
@roles_required(*READ_ROLES, what="查看台账记录")
def record_history(key: str, record_id: int):
    actor = current_actor()
    record = _record(actor, key, record_id)
    items = [{"version": row.version, "action": row.action, "at": iso(row.at), "actor": row.actor_name,
              "changes": {name: {"old": _masked(actor, name, change.get("old")),
                                 "new": _masked(actor, name, change.get("new"))}
                          for name, change in (row.changes or {}).items()}}
             for row in records.history(db(), record)]
    return json_response({"items": items})


def _masked(viewer: Actor, name: str, value):
    """A history value for the viewer: form values as the record shows them, any other text (a retirement's
    reason) as free text; the geometry, times and versions as they are."""
    if name.startswith("form_data."):
        return masked_document(viewer, value, name.removeprefix("form_data."))
    return masking.text_for(viewer, value) if isinstance(value, str) else value

