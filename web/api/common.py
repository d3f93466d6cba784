"""What every view of the API shares: documented routes, the JSON body, paging with Link headers, query values."""
from __future__ import annotations

import datetime as dt
import math
import re
from urllib.parse import urlencode

from flask import request
from sqlalchemy import Select, func, select

from minqing.core import city
from minqing.core.clock import isoformat_local
from minqing.core.geo.features import BadBBox, parse_bbox

from ..context import db
from . import blueprint
from .errors import ApiError, json_response
from .semantics import IF_MATCH_ENDPOINTS

# endpoint → {method: operation document}; the OpenAPI document is built from these and Flask's url_map.
OPERATIONS: dict[str, dict[str, dict]] = {}
MAX_PER_PAGE = 100
DEFAULT_PER_PAGE = 20


def ref(name: str) -> dict:
    return {"$ref": f"#/components/schemas/{name}"}


def query(name: str, description: str, schema: dict | None = None, required: bool = False) -> dict:
    return {"name": name, "in": "query", "description": description, "required": required,
            "schema": schema or {"type": "string"}}


# GeoJSON lists page by limit/offset with `links` and a `Link` header (core/geo/geojson.py, web/geo_paging.py)
GEO_PAGING = [query("limit", "每页要素数，至多 10000（默认 10000）", {"type": "integer", "minimum": 1, "maximum": 10000}),
              query("offset", "跳过的要素数（下一页见 links 中 rel=next）", {"type": "integer", "minimum": 0})]
PAGING = [query("page", "页码，从 1 开始", {"type": "integer", "minimum": 1, "default": 1}),
          query("per_page", f"每页条数，至多 {MAX_PER_PAGE}",
                {"type": "integer", "minimum": 1, "maximum": MAX_PER_PAGE, "default": DEFAULT_PER_PAGE})]
# A date, or a date-time with an optional offset (no offset: the city's time). ASCII digits, as JSON Schema reads \d.
TIME_PATTERN = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}(T[0-9]{2}:[0-9]{2}(:[0-9]{2}(\.[0-9]{1,6})?)?(Z|[+-][0-9]{2}:[0-9]{2})?)?$"
TIME_SCHEMA = {"type": "string", "pattern": TIME_PATTERN, "example": "2026-03-01"}
_NUMBER = r"-?[0-9]{1,3}(\.[0-9]{1,12})?"
BBOX_PATTERN = rf"^{_NUMBER}(,{_NUMBER}){{3}}$"
BBOX = query("bbox", "范围：最小经度,最小纬度,最大经度,最大纬度（WGS84）",
             {"type": "string", "pattern": BBOX_PATTERN, "example": "103.8,36.0,103.9,36.1"})
IDEMPOTENCY = {"name": "Idempotency-Key", "in": "header", "required": False, "schema": {"type": "string",
                                                                                       "maxLength": 200},
               "description": "幂等键：同一键的重试返回第一次的结果；也可在请求体中给出 client_id"}
IF_MATCH = {"name": "If-Match", "in": "header", "required": False, "schema": {"type": "string"},
            "description": "读取时得到的 ETag（带引号，如 \"3f2a…\"）；资源已被改动时返回 412"}


def route(rule: str, methods=("GET",), *, summary: str, tags: tuple[str, ...], description: str = "",
          params: list[dict] | None = None, body: dict | None = None, body_content: str = "application/json",
          responses: dict[int, tuple[str, dict | None]] | None = None, roles: tuple[str, ...] | None = None,
          public: bool = False, if_match: bool = False):
    """`blueprint.route` that also records the operation for the OpenAPI document. `if_match`: the view
    evaluates If-Match (`semantics.require_match`); other routes refuse the header with 412."""
    def decorate(view):
        endpoint = view.__name__
        blueprint.add_url_rule(rule, endpoint, view, methods=list(methods))
        if if_match:
            IF_MATCH_ENDPOINTS.add(f"{blueprint.name}.{endpoint}")
        for method in methods:
            OPERATIONS.setdefault(f"{blueprint.name}.{endpoint}", {})[method.lower()] = {
                "summary": summary, "description": description, "tags": list(tags),
                "params": (params or []) + ([IF_MATCH] if if_match and IF_MATCH not in (params or []) else []),
                "body": body, "body_content": body_content, "responses": responses or {}, "roles": roles,
                "public": public, "if_match": if_match, "method": method.lower(),
                "operationId": endpoint if len(methods) == 1 else f"{endpoint}_{method.lower()}"}
        return view
    return decorate


def json_body(*, required: bool = True) -> dict:
    """The request's JSON object; 400 when it is not JSON or not an object, 415 for another content type."""
    if not request.get_data(cache=True):
        if required:
            raise ApiError(400, "body_required", "请求体为空：应为 JSON 对象")
        return {}
    if not request.is_json:
        raise ApiError(415, "unsupported_media_type", "请求体应为 JSON（Content-Type: application/json）")
    body = request.get_json(silent=True)
    if body is None:
        raise ApiError(400, "malformed_json", "请求体不是有效的 JSON")
    if not isinstance(body, dict):
        raise ApiError(400, "malformed_json", "请求体应为 JSON 对象")
    return body


def bad_parameter(name: str, message: str) -> ApiError:
    return ApiError(400, "invalid_parameter", message, {name: [message]})


def given_arg(name: str) -> str | None:
    """The query parameter's text, None when absent; 400 when it is given empty or more than once (an empty
    value is a mistake of the client, not "no filter")."""
    values = request.args.getlist(name)
    if not values:
        return None
    if len(values) > 1:
        raise bad_parameter(name, f"参数 {name} 只能给出一次")
    if values[0] == "":
        raise bad_parameter(name, f"参数 {name} 不能为空（不筛选时请省略该参数）")
    return values[0]


def choice_arg(name: str, allowed) -> str | None:
    """One of `allowed`, None when absent; 400 naming the allowed values otherwise."""
    value = given_arg(name)
    if value is not None and value not in allowed:
        raise bad_parameter(name, f"{name} 的值“{value[:40]}”无效，只能是：{'、'.join(allowed)}")
    return value


def choices_arg(name: str, allowed) -> list[str]:
    """Comma-separated values each in `allowed` ([] when absent); 400 naming the unknown ones."""
    text = given_arg(name)
    if text is None:
        return []
    values = [part.strip() for part in text.split(",")]
    unknown = [value for value in values if value not in allowed]
    if unknown:
        shown = "、".join(f"“{value[:40]}”" for value in unknown[:5])
        raise bad_parameter(name, f"{name} 中 {shown} 无效，可选：{'、'.join(sorted(allowed))}")
    return values


def int_arg(name: str, default: int | None = None, *, minimum: int | None = None,
            maximum: int | None = None) -> int | None:
    text = given_arg(name)
    if text is None:
        return default
    problem = f"{name} 应为整数" + (f"（{minimum} 至 {maximum}）" if minimum is not None and maximum else "")
    if not text.removeprefix("-").isascii() or not text.removeprefix("-").isdigit() or len(text) > 12:
        raise bad_parameter(name, problem)
    value = int(text)
    if (minimum is not None and value < minimum) or (maximum is not None and value > maximum):
        raise bad_parameter(name, problem)
    return value


def bool_arg(name: str) -> bool | None:
    text = given_arg(name)
    if text is None:
        return None
    if text in ("true", "false"):
        return text == "true"
    raise bad_parameter(name, f"{name} 只能是 true 或 false")


def time_arg(name: str, *, end: bool = False) -> dt.datetime | None:
    """An ISO 8601 date or date-time (TIME_PATTERN); a bare date is the city's whole day (its end for `end`)."""
    text = given_arg(name)
    if text is None:
        return None
    try:
        if not re.fullmatch(TIME_PATTERN, text):
            raise ValueError(text)
        if len(text) == 10:
            day = dt.datetime.combine(dt.date.fromisoformat(text), dt.time(), city.zone(db()))
            return day + dt.timedelta(days=1) if end else day
        value = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise bad_parameter(name, f"{name} 应为 ISO 8601 日期或时间，如 2026-03-01 或 2026-03-01T08:00:00+08:00") from None
    return value if value.tzinfo else value.replace(tzinfo=city.zone(db()))


def bbox_arg():
    """The `bbox` parameter as (min_lon, min_lat, max_lon, max_lat), None when absent; 400 when malformed."""
    text = given_arg("bbox")
    if text is None:
        return None
    if not re.fullmatch(BBOX_PATTERN, text):
        raise bad_parameter("bbox", "bbox 应为四个数字：最小经度,最小纬度,最大经度,最大纬度（如 103.8,36.0,103.9,36.1）")
    try:
        return parse_bbox(text)
    except BadBBox as error:
        raise bad_parameter("bbox", str(error)) from None


def page_args() -> tuple[int, int]:
    page = int_arg("page", 1, minimum=1, maximum=10**9)
    per_page = int_arg("per_page", DEFAULT_PER_PAGE, minimum=1, maximum=MAX_PER_PAGE)
    return page, per_page


def _link(page: int, per_page: int) -> str:
    args = request.args.to_dict()
    args.update(page=str(page), per_page=str(per_page))
    return f"{request.base_url}?{urlencode(args)}"


def paginated(statement: Select, serialize, *, order_by, extra: dict | None = None):
    """One page of `statement` as {"items", "total", "page", "per_page", "pages"} with Link and X-Total-Count."""
    page, per_page = page_args()
    total = db().scalar(select(func.count()).select_from(statement.order_by(None).subquery()))
    rows = db().scalars(statement.order_by(*order_by).limit(per_page).offset((page - 1) * per_page)).all()
    pages = max(1, math.ceil(total / per_page))
    links = [f'<{_link(1, per_page)}>; rel="first"', f'<{_link(pages, per_page)}>; rel="last"']
    if page > 1:
        links.append(f'<{_link(min(page - 1, pages), per_page)}>; rel="prev"')
    if page < pages:
        links.append(f'<{_link(page + 1, per_page)}>; rel="next"')
    body = {"items": serialize(rows), "total": total, "page": page, "per_page": per_page, "pages": pages,
            **(extra or {})}
    return json_response(body, headers={"Link": ", ".join(links), "X-Total-Count": str(total)})


def iso(value) -> str | None:
    """Every time the API answers: RFC 3339 in the city's zone, whole seconds (`minqing.core.clock`)."""
    return isoformat_local(value) if value else None
