"""Any other address under /api/v1: 404 (or 405 for a known address with another method), as JSON."""
from __future__ import annotations

from flask import current_app, request
from werkzeug.exceptions import MethodNotAllowed, NotFound

from . import blueprint
from .errors import ApiError

METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE"]
ENDPOINT = "api.unknown_address"


@blueprint.route("/", defaults={"rest": ""}, methods=METHODS, endpoint="unknown_address")
@blueprint.route("/<everything:rest>", methods=METHODS, endpoint="unknown_address")
def unknown_address(rest: str):
    adapter = current_app.url_map.bind_to_environ(request.environ)
    for method in ("GET", "POST"):
        if method == request.method:
            continue
        try:
            endpoint, _args = adapter.match(method=method)
        except (NotFound, MethodNotAllowed):
            continue
        if endpoint != ENDPOINT:
            raise ApiError(405, "method_not_allowed", f"此地址不支持 {request.method} 请求")
    raise ApiError(404, "not_found", f"没有这个接口地址：/api/v1/{rest[:80]}")
