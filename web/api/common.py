"""What every view of the API shares: documented routes, the JSON body, paging with Link headers, query values."""
from __future__ import annotations

import datetime as dt
import math
from urllib.parse import urlencode

from flask import request
from sqlalchemy import Select, func, select

from ..context import LOCAL_TIME, db
from . import blueprint
from .errors import ApiError, json_response

# endpoint → {method: operation document}; the OpenAPI document is built from these and Flask's url_map.
OPERATIONS: dict[str, dict[str, dict]] = {}
MAX_PER_PAGE = 100
DEFAULT_PER_PAGE = 20


def ref(name: str) -> dict:
    return {"$ref": f"#/components/schemas/{name}"}


def query(name: str, description: str, schema: dict | None = None, required: bool = False) -> dict:
    return {"name": name, "in": "query", "description": description, "required": required,
            "schema": schema or {"type": "string"}}


PAGING = [query("page", "页码，从 1 开始", {"type": "integer", "minimum": 1, "default": 1}),
          query("per_page", f"每页条数，至多 {MAX_PER_PAGE}",
                {"type": "integer", "minimum": 1, "maximum": MAX_PER_PAGE, "default": DEFAULT_PER_PAGE})]
BBOX = query("bbox", "范围：最小经度,最小纬度,最大经度,最大纬度（WGS84）", {"type": "string",
                                                                  "example": "103.8,36.0,103.9,36.1"})
IDEMPOTENCY = {"name": "Idempotency-Key", "in": "header", "required": False, "schema": {"type": "string",
                                                                                       "maxLength": 200},
               "description": "幂等键：同一键的重试返回第一次的结果；也可在请求体中给出 client_id"}
IF_MATCH = {"name": "If-Match", "in": "header", "required": False, "schema": {"type": "string"},
            "description": "事件的版本（读取事件时的 ETag）；已被他人改动时返回 409"}


def route(rule: str, methods=("GET",), *, summary: str, tags: tuple[str, ...], description: str = "",
          params: list[dict] | None = None, body: dict | None = None, body_content: str = "application/json",
          responses: dict[int, tuple[str, dict | None]] | None = None, roles: tuple[str, ...] | None = None,
          public: bool = False):
    """`blueprint.route` that also records the operation for the OpenAPI document."""
    def decorate(view):
        endpoint = view.__name__
        blueprint.add_url_rule(rule, endpoint, view, methods=list(methods))
        for method in methods:
            OPERATIONS.setdefault(f"{blueprint.name}.{endpoint}", {})[method.lower()] = {
                "summary": summary, "description": description, "tags": list(tags), "params": params or [],
                "body": body, "body_content": body_content, "responses": responses or {}, "roles": roles,
                "public": public, "operationId": endpoint if len(methods) == 1 else f"{endpoint}_{method.lower()}"}
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


def int_arg(name: str, default: int | None = None, *, minimum: int | None = None,
            maximum: int | None = None) -> int | None:
    text = request.args.get(name)
    if text is None or text == "":
        return default
    problem = f"{name} 应为整数" + (f"（{minimum} 至 {maximum}）" if minimum is not None and maximum else "")
    if not text.strip().lstrip("-").isdigit() or len(text) > 12:
        raise ApiError(400, "invalid_parameter", problem, {name: [problem]})
    value = int(text)
    if (minimum is not None and value < minimum) or (maximum is not None and value > maximum):
        raise ApiError(400, "invalid_parameter", problem, {name: [problem]})
    return value


def bool_arg(name: str) -> bool | None:
    text = (request.args.get(name) or "").strip().lower()
    if not text:
        return None
    if text in ("true", "1", "yes"):
        return True
    if text in ("false", "0", "no"):
        return False
    raise ApiError(400, "invalid_parameter", f"{name} 应为 true 或 false", {name: [f"{name} 应为 true 或 false"]})


def time_arg(name: str, *, end: bool = False) -> dt.datetime | None:
    """An ISO 8601 date or date-time; a bare date is the city's whole day (its end for `end`)."""
    text = (request.args.get(name) or "").strip()
    if not text:
        return None
    try:
        if len(text) == 10:
            day = dt.datetime.combine(dt.date.fromisoformat(text), dt.time(), LOCAL_TIME)
            return day + dt.timedelta(days=1) if end else day
        value = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        message = f"{name} 应为 ISO 8601 日期或时间，如 2026-03-01 或 2026-03-01T08:00:00+08:00"
        raise ApiError(400, "invalid_parameter", message, {name: [message]}) from None
    return value if value.tzinfo else value.replace(tzinfo=LOCAL_TIME)


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
    return value.isoformat() if value else None
