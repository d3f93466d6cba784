"""Errors of the API, always as JSON:

    {"error": {"code": "form_invalid", "message": "填写的内容有误", "fields": {"details.address": ["请填写“详细地址”"]}}}

`code` is stable and machine-readable, `message` is Chinese for people, `fields` (only when a field is at fault)
maps a path in the request (body field or query parameter) to its messages.
"""
from __future__ import annotations

from flask import Response, json
from werkzeug.exceptions import HTTPException

from ..context import db
from . import blueprint

HTTP_ERRORS = {
    400: ("bad_request", "请求无效"), 401: ("unauthorized", "需要有效的接口密钥"),
    403: ("forbidden", "无权执行此操作"), 404: ("not_found", "资源不存在，或您无权查看"),
    405: ("method_not_allowed", "此地址不支持该请求方法"), 409: ("conflict", "与当前状态冲突，请刷新后重试"),
    413: ("too_large", "请求内容过大"), 415: ("unsupported_media_type", "不支持的请求内容类型"),
    422: ("unprocessable", "请求内容有误"), 429: ("too_many_requests", "请求过于频繁，请稍后再试"),
    500: ("internal_error", "服务器内部错误，请稍后重试"),
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
        error = {"code": self.code, "message": self.message}
        if self.fields:
            error["fields"] = self.fields
        return {"error": error}


def json_response(body, status: int = 200, headers: dict | None = None,
                  mimetype: str = "application/json") -> Response:
    response = Response(json.dumps(body, ensure_ascii=False), status=status, mimetype=mimetype)
    for name, value in (headers or {}).items():
        response.headers[name] = value
    response.headers.setdefault("Cache-Control", "no-store")
    return response


def error_response(error: ApiError) -> Response:
    return json_response(error.body(), error.status, error.headers)


def field_error(status: int, code: str, path: str, message: str) -> ApiError:
    """An error about one field: its message is also the error's message."""
    return ApiError(status, code, message, {path: [message]})


@blueprint.errorhandler(ApiError)
def _api_error(error: ApiError):
    db().rollback()
    return error_response(error)


@blueprint.errorhandler(HTTPException)
def _http_error(error: HTTPException):
    db().rollback()
    status = error.code or 500
    code, message = HTTP_ERRORS.get(status, ("error", error.name))
    return error_response(ApiError(status, code, message))


# Flask prefers the application's handler for a status code (web/errors.py: HTML pages) over a blueprint's handler
# for the exception class, so each status gets its JSON handler here too (a body over MAX_CONTENT_LENGTH, a rate
# limit, a bug) — an answer under /api/v1 is never an HTML page.
for _status in HTTP_ERRORS:
    blueprint.register_error_handler(_status, _http_error)
