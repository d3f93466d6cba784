"""The routes of /open311/v2: each answers JSON or XML by its extension, errors in the spec's format."""
from __future__ import annotations

from flask import current_app, request
from werkzeug.exceptions import HTTPException, MethodNotAllowed, NotFound

from minqing.core.accounts import apikeys
from minqing.core.actors import Actor
from minqing.core.models import utcnow

from ..context import db, origin, platform
from . import blueprint
from . import service_requests as requests_
from . import services as catalogue
from .output import Open311Error, answer, error_answer

FORMAT = "<any(json, xml):fmt>"
HTTP_MESSAGES = {400: "请求无效", 403: "无权访问", 404: "没有这个接口地址", 405: "此地址不支持该请求方法",
                 413: "请求内容过大", 429: "请求过于频繁，请稍后再试", 500: "服务器内部错误，请稍后重试"}


def _format() -> str:
    fmt = (request.view_args or {}).get("fmt")
    return fmt if fmt in ("json", "xml") else ("xml" if request.path.endswith(".xml") else "json")


@blueprint.errorhandler(Open311Error)
def _open311_error(error: Open311Error):
    db().rollback()
    return error_answer(_format(), error)


@blueprint.errorhandler(HTTPException)
def _http_error(error: HTTPException):
    status = error.code or 500
    return error_answer(_format(), Open311Error(status, HTTP_MESSAGES.get(status, error.name)))


for _status in HTTP_MESSAGES:  # before the application's HTML pages for these codes (see web/api/errors.py)
    blueprint.register_error_handler(_status, _http_error)


def _given_key() -> str:
    key = request.values.get("api_key") or request.headers.get("X-API-Key") or ""
    authorization = request.headers.get("Authorization", "")
    if not key and authorization.lower().startswith("bearer "):
        key = authorization[7:]
    return key.strip()


def _key_actor(required: bool) -> Actor | None:
    """The actor of the request's api_key; None for no key when none is required (the public view)."""
    key = _given_key()
    if not key:
        if required:
            raise Open311Error(400, "api_key：未提供（提交服务请求需要接口密钥）")
        return None
    actor = apikeys.authenticate(db(), key, origin())
    if actor is None:
        raise Open311Error(403, "api_key：接口密钥无效或已吊销")
    db().commit()  # last_used_at
    return actor


@blueprint.get(f"/services.{FORMAT}")
def services(fmt: str):
    names = catalogue.department_names(db())
    body = [service.as_dict(names) for service in catalogue.catalogue(platform(), db()).values()]
    return answer(fmt, body, "services")


@blueprint.get(f"/services/<code>.{FORMAT}")
def service_definition(code: str, fmt: str):
    service = catalogue.find(catalogue.catalogue(platform(), db()), code)
    return answer(fmt, catalogue.definition(service), "service_definition")


@blueprint.get(f"/requests.{FORMAT}")
def list_requests(fmt: str):
    viewer = _key_actor(required=False)
    cases = requests_.search(platform(), db(), viewer, request.args, utcnow())
    describer = requests_.Describer(platform(), db(), viewer, cases)
    return answer(fmt, [describer.request(case) for case in cases], "service_requests")


@blueprint.post(f"/requests.{FORMAT}")
def post_request(fmt: str):
    actor = _key_actor(required=True)
    idempotency_key = (request.headers.get("Idempotency-Key") or "").strip()[:200]
    case, token = requests_.post(platform(), db(), actor, request.values, idempotency_key)
    service_notice = requests_.notice(db(), case)
    db().commit()
    body = [{"service_request_id": str(case.id), "token": token, "service_notice": service_notice,
             "account_id": (request.values.get("account_id") or "").strip()[:100] or None}]
    return answer(fmt, body, "service_requests", 201)


@blueprint.get(f"/requests/<request_id>.{FORMAT}")
def get_request(request_id: str, fmt: str):
    viewer = _key_actor(required=False)
    case = requests_.one(platform(), db(), viewer, request_id)
    return answer(fmt, [requests_.Describer(platform(), db(), viewer, [case]).request(case)], "service_requests")


@blueprint.get(f"/tokens/<token>.{FORMAT}")
def token(token: str, fmt: str):
    return answer(fmt, [requests_.token_lookup(db(), token)], "service_requests")


@blueprint.route("/", defaults={"rest": ""}, methods=["GET", "POST", "PUT", "PATCH", "DELETE"])
@blueprint.route("/<everything:rest>", methods=["GET", "POST", "PUT", "PATCH", "DELETE"])
def unknown(rest: str):
    adapter = current_app.url_map.bind_to_environ(request.environ)
    for method in ("GET", "POST"):
        try:
            endpoint, _args = adapter.match(method=method)
        except (NotFound, MethodNotAllowed):
            continue
        if endpoint != "open311.unknown":
            raise Open311Error(405, f"此地址不支持 {request.method} 请求")
    raise Open311Error(404, f"没有这个接口地址：/open311/v2/{rest[:80]}")
