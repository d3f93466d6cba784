"""Error pages in Chinese; JSON answers for JSON requests."""
from __future__ import annotations

from flask import Flask, jsonify, render_template, request
from flask_wtf.csrf import CSRFError

from . import input_guard

MESSAGES = {
    400: "请求无效", 403: "您没有权限访问此页面", 404: "页面不存在，或您无权查看",
    405: "不支持此操作", 413: "上传的内容过大", 429: "操作过于频繁，请稍后再试", 500: "服务器内部错误，请稍后重试",
}


def _wants_json() -> bool:
    return request.path.endswith((".json", ".geojson")) or request.accept_mimetypes.best == "application/json"


def page(status: int, message: str):
    """The error answer of a page request: the error page, or JSON for a request that asked for it."""
    if _wants_json():
        return jsonify({"error": status, "message": message}), status
    return render_template("errors/error.html", status=status, message=message), status


def init_app(app: Flask) -> None:
    input_guard.init_app(app)   # before any view: input no view could store is refused with a 400 here

    @app.errorhandler(OverflowError)
    def _overflow(_error):
        """A number too large for the database that some parameter still let through: the client's mistake."""
        return input_guard.respond(input_guard.Refused("", "请求中的数值过大，超出了允许的范围"))

    @app.errorhandler(CSRFError)
    def _csrf(_error):
        return page(400, "页面已过期或请求来源无效（CSRF 校验失败），请刷新页面后重试")

    for status, message in MESSAGES.items():
        app.register_error_handler(status, lambda _error, status=status, message=message: page(status, message))
