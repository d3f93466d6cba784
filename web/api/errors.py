"""Errors of the API, always RFC 9457 problem details (`application/problem+json`):

    {"type": "urn:minqing:problem:form_invalid", "title": "请求内容有误", "status": 422,
     "detail": "填写的内容有误", "code": "form_invalid", "errors": {"details.address": ["请填写“详细地址”"]},
     "error": {"code": "form_invalid", "message": "填写的内容有误", "fields": {"details.address": ["…"]}}}

`type` names the problem (`about:blank` when it says no more than the status), `title` is the status in Chinese,
`detail` the Chinese explanation of this occurrence. Extension members: `code` (stable and machine-readable),
`errors` (only when a field is at fault: a path in the request — body field or query parameter — to its messages)
and `error`, the body /api/v1 answered before problem details, kept so that no v1 client breaks.

Every error under /api/v1 takes this shape, including those werkzeug raises before any view runs (an unknown
address, a method the address does not have, a body too large): `init_app` puts handlers on the application that
answer for /api/v1 paths and leave every other path to the handler they replace.
"""
from __future__ import annotations

from flask import Flask, Response, current_app, json, request
from werkzeug.exceptions import HTTPException, default_exceptions

from ..context import db
from . import blueprint

PROBLEM_JSON = "application/problem+json"
PROBLEM_TYPE = "urn:minqing:problem:"
HTTP_ERRORS = {
    400: ("bad_request", "请求无效"), 401: ("unauthorized", "需要有效的接口密钥"),
    403: ("forbidden", "无权执行此操作"), 404: ("not_found", "资源不存在，或您无权查看"),
    405: ("method_not_allowed", "此地址不支持该请求方法"), 409: ("conflict", "与当前状态冲突，请刷新后重试"),
    412: ("precondition_failed", "前提条件不成立：资源已被改动"),
    413: ("too_large", "请求内容过大"), 415: ("unsupported_media_type", "不支持的请求内容类型"),
    422: ("unprocessable", "请求内容有误"), 429: ("too_many_requests", "请求过于频繁，请稍后再试"),
    500: ("internal_error", "服务器内部错误，请稍后重试"), 501: ("not_implemented", "服务器不支持该请求方法"),
}


class ApiError(Exception):
    """An answer other than success: HTTP status, stable code, Chinese message, and problems per field."""

    def __init__(self, status: int, code: str | None = None, message: str | None = None,
                 fields: dict[str, list[str]] | None = None, headers: dict[str, str] | None = None):
        default_code, default_message = HTTP_ERRORS.get(status, ("error", "请求失败"))
        self.status, self.code, self.message = status, code or default_code, message or default_message
        self.fields, self.headers = fields or {}, headers or {}
        super().__init__(f"{self.status} {self.code}: {self.message}")

    def body(self) -> dict:
        """The problem details document."""
        default_code, title = HTTP_ERRORS.get(self.status, ("error", "请求失败"))
        legacy = {"code": self.code, "message": self.message}
        problem = {"type": "about:blank" if self.code == default_code else PROBLEM_TYPE + self.code,
                   "title": title, "status": self.status, "detail": self.message, "code": self.code}
        if self.fields:
            problem["errors"] = legacy["fields"] = self.fields
        problem["error"] = legacy
        return problem


def dumps(body) -> str:
    """The JSON text of an answer (also what its ETag is computed from). Chinese stays readable; a lone
    surrogate (a client may send one as a JSON escape, and field errors name the client's keys) cannot be UTF-8,
    so then the whole text is written with ASCII escapes."""
    text = json.dumps(body, ensure_ascii=False)
    try:
        text.encode()
    except UnicodeEncodeError:
        text = json.dumps(body, ensure_ascii=True)
    return text


def json_response(body, status: int = 200, headers: dict | None = None,
                  mimetype: str = "application/json") -> Response:
    """`body`: a document, or its JSON already encoded (bytes, as a GeoJSON page is)."""
    response = Response(body if isinstance(body, bytes) else dumps(body), status=status, mimetype=mimetype)
    for name, value in (headers or {}).items():
        response.headers[name] = value
    response.headers.setdefault("Cache-Control", "no-store")
    return response


def error_response(error: ApiError) -> Response:
    return json_response(error.body(), error.status, error.headers, mimetype=PROBLEM_JSON)


def field_error(status: int, code: str, path: str, message: str) -> ApiError:
    """An error about one field: its message is also the error's message."""
    return ApiError(status, code, message, {path: [message]})


def allowed_methods() -> list[str]:
    """The methods the requested address really has (every rule matching the path), as in an `Allow` header."""
    adapter = current_app.url_map.bind_to_environ(request.environ)
    return sorted(adapter.allowed_methods())


def _from_http_exception(error: HTTPException) -> ApiError:
    status = error.code or 500
    code, message = HTTP_ERRORS.get(status, ("error", error.name))
    headers = {name: value for name, value in error.get_headers() if name.lower() in ("retry-after", "allow")}
    if status == 405:
        headers["Allow"] = ", ".join(allowed_methods())
        message = f"此地址不支持 {request.method[:20]} 请求，支持：{headers['Allow']}"
    elif status == 404 and request.url_rule is None:
        message = f"没有这个接口地址：{request.path[:120]}"
    return ApiError(status, code, message, headers=headers)


@blueprint.errorhandler(ApiError)
def _api_error(error: ApiError):
    db().rollback()
    return error_response(error)


@blueprint.errorhandler(HTTPException)
def _http_error(error: HTTPException):
    db().rollback()
    return error_response(_from_http_exception(error))


# Flask prefers the application's handler for a status code (web/errors.py: HTML pages) over a blueprint's handler
# for the exception class, so each status gets its problem handler here too (a body over MAX_CONTENT_LENGTH, a rate
# limit, a bug) — an answer under /api/v1 is never an HTML page.
for _status in HTTP_ERRORS:
    blueprint.register_error_handler(_status, _http_error)


def is_api_path() -> bool:
    prefix = blueprint.url_prefix or ""
    return request.path == prefix or request.path.startswith(prefix + "/")


def _for_api_paths(previous):
    """An application handler: problem details for /api/v1, `previous` (or the exception itself) elsewhere."""
    def handle(error):
        if is_api_path():
            return _http_error(error)
        return previous(error) if previous else error
    return handle


@blueprint.record_once
def init_app(state) -> None:
    """No view runs when werkzeug cannot route a request (unknown address, method the address does not have), so
    no blueprint handler does either: the application's handlers answer, and these take /api/v1 paths."""
    app: Flask = state.app
    handlers = app.error_handler_spec.setdefault(None, {})
    for status in sorted({*HTTP_ERRORS, *(code for code in handlers if code is not None)}):
        if status not in default_exceptions:
            continue
        previous = handlers.get(status, {}).get(default_exceptions[status])
        app.register_error_handler(status, _for_api_paths(previous))
    app.register_error_handler(HTTPException, _for_api_paths(handlers.get(None, {}).get(HTTPException)))
