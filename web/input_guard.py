"""Input no view can store or page through, refused before any view runs, in the answer format of where it came.

Each of these once ended in a 500 deep inside a view or the database driver:
- a page number too large for the database (`?page=10**30`: SQLite cannot bind it);
- a JSON body nested so deep that the parser (or any recursive code after it) overflows the stack;
- a lone UTF-16 surrogate (`"\\ud800"` is valid JSON) that no UTF-8 encoder, hence no database, accepts;
- a NUL character, which PostgreSQL refuses in any text column.
Checking them once here, for every form field, query parameter, URL part and JSON body, means no view has to
remember to. A refused request has changed nothing: no view has run.
"""
from __future__ import annotations

import json
import re

from flask import Flask, request

MAX_PAGE = 1_000_000          # pages of 100 rows: far beyond any list, far below what SQL can bind
MAX_JSON_DEPTH = 64           # the deepest real body (a theme document) nests about 15 levels
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


class Refused(Exception):
    """One piece of input refused; `field` names it (a parameter, a form field or a path in the JSON body)."""

    def __init__(self, field: str, message: str, code: str = "invalid_input"):
        super().__init__(message)
        self.field, self.message, self.code = field, message, code


def problem_of_text(field: str, text) -> Refused | None:
    if not isinstance(text, str):   # werkzeug gives None for a multipart part name it cannot read
        return None
    found = _UNSTORABLE.search(text)
    if found is None:
        return None
    if found.group() == "\x00":
        return Refused(field, f"“{field}”中含有不允许的空字符（NUL，\\u0000），请删除后重试", "invalid_character")
    return Refused(field, f"“{field}”中含有无效的 Unicode 字符（单独的代理项 \\u{ord(found.group()):04x}），"
                          "请检查文本的编码", "invalid_character")


def check_page(value: str) -> Refused | None:
    """Views read `page` leniently (anything not a number is page 1), but a huge number reaches the database."""
    digits = value.strip().lstrip("+")
    if digits.isdigit() and (len(digits) > 7 or int(digits) > MAX_PAGE):
        return Refused("page", f"页码（page）“{value[:30]}”过大：应为 1 到 {MAX_PAGE} 之间的整数", "invalid_parameter")
    return None


def check_json_body(data: bytes | str, field: str = "") -> Refused | None:
    """The first problem of a JSON body (or of a form field holding JSON, such as the theme builder's document,
    then named `field`); None also for text that is not JSON at all (the view says so itself)."""
    try:
        body = json.loads(data)
    except RecursionError:
        return _too_deep(field)
    except ValueError:
        return None
    return _json_problem(body, field)


def _too_deep(field: str) -> Refused:
    where = f"“{field}”" if field else "请求体"
    return Refused(field, f"{where}的 JSON 嵌套过深：最多 {MAX_JSON_DEPTH} 层", "malformed_json")


def _json_problem(body, field: str) -> Refused | None:
    """Walked with a stack, not recursion, so that the walk itself cannot overflow."""
    stack = [(body, field, 0)]
    while stack:
        value, path, depth = stack.pop()
        if depth > MAX_JSON_DEPTH:
            return _too_deep(field)
        if isinstance(value, str):
            found = problem_of_text(path or "请求体", value)
            if found:
                return found
        elif isinstance(value, dict):
            for key, item in value.items():
                where = f"{path}.{key}" if path else key
                found = problem_of_text(where, key)
                if found:
                    return found
                stack.append((item, where, depth + 1))
        elif isinstance(value, list):
            stack += [(item, f"{path}[{i}]", depth + 1) for i, item in enumerate(value)]
    return None


def request_problem() -> Refused | None:
    """The first problem of the current request's input, or None."""
    for name, value in (request.view_args or {}).items():
        if isinstance(value, str) and (found := problem_of_text(name, value)):
            return found
    if request.mimetype != "multipart/form-data":
        request.get_data(cache=True)   # read first, so reading the form leaves the body for a view that wants it
    for source in (request.args, request.form):
        for name, value in source.items(multi=True):
            found = problem_of_text(name, name) or problem_of_text(name, value)
            if found is None and isinstance(value, str) and value.lstrip()[:1] in ("{", "["):   # JSON carried in a form field
                found = check_json_body(value, name)
            if found:
                return found
    for upload in request.files.values():
        if upload.filename and (found := problem_of_text("文件名", upload.filename)):
            return found
    if "page" in request.args and request.blueprint != "api":   # the API checks its own paging parameters
        found = check_page(request.args["page"])
        if found:
            return found
    if request.is_json and request.get_data(cache=True):
        return check_json_body(request.get_data(cache=True))
    return None


def respond(problem: Refused):
    """A 400 answer in the format of the request's area: problem details, Open311's error list, or a page."""
    from .api.errors import is_api_path
    if request.blueprint == "api" or is_api_path():   # by path too: no blueprint when the address is unknown
        from .api.errors import ApiError, error_response
        fields = {problem.field: [problem.message]} if problem.field else None
        return error_response(ApiError(400, problem.code, problem.message, fields))
    if request.blueprint == "open311":
        from .open311.output import Open311Error, error_answer
        return error_answer("xml" if request.path.endswith(".xml") else "json", Open311Error(400, problem.message))
    from .errors import page
    return page(400, problem.message)


def init_app(app: Flask) -> None:
    @app.before_request
    def _guard():
        problem = request_problem()
        return respond(problem) if problem is not None else None
