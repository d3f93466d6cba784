"""Token authentication: `Authorization: Bearer <key>` or `X-API-Key: <key>` (keys from `minqing apikey create`).

The key stands for its account with that account's role grants; the actor is put in `g.viewer`, so
`minqing.web.context.viewer()` and every scope and masking rule treat an API request like the same person on
the web. A missing, unknown or revoked key (or an inactive account) is 401; a role that may not do something,
403.
"""
from __future__ import annotations

import functools

from flask import g, request

from minqing.core.accounts import apikeys
from minqing.core.actors import Actor
from minqing.core.models import Role

from ..context import db, origin
from . import blueprint
from .errors import ApiError

WORK_ROLES = (Role.ADMIN, Role.OPERATOR, Role.DEPARTMENT_STAFF, Role.GRID_WORKER, Role.LEADER)
PUBLIC_ENDPOINTS = {"api.openapi_document"}
CHALLENGE = {"WWW-Authenticate": 'Bearer realm="minqing"'}


def given_key() -> str:
    """The key of this request: the Bearer token, else the X-API-Key header ('' when neither)."""
    authorization = request.headers.get("Authorization", "").strip()
    if authorization[:7].lower() == "bearer ":
        return authorization[7:].strip()
    return request.headers.get("X-API-Key", "").strip()


def request_actor(*, commit: bool = True) -> Actor | None:
    """The actor of this request's key, or None for no key or a bad one (for interfaces with their own errors)."""
    key = given_key()
    actor = apikeys.authenticate(db(), key, origin()) if key else None
    if actor is None:
        db().rollback()
        return None
    if commit:
        db().commit()  # last_used_at
    g.viewer = g.api_actor = actor
    return actor


def authenticate_request(*, commit: bool = True) -> Actor:
    """The actor of this request's key, also set as `g.viewer`; ApiError 401 for no key or a bad one."""
    if not given_key():
        raise ApiError(401, "missing_api_key",
                       "缺少接口密钥：请在请求头 Authorization: Bearer <密钥> 或 X-API-Key 中提供", headers=CHALLENGE)
    actor = request_actor(commit=commit)
    if actor is None:
        raise ApiError(401, "invalid_api_key", "接口密钥无效、已吊销或其账号已停用", headers=CHALLENGE)
    return actor


def current_actor() -> Actor:
    actor = g.get("api_actor")
    if actor is None:
        actor = authenticate_request()
    return actor


def check_roles(actor: Actor, roles, what: str = "此操作") -> None:
    """403 unless the actor holds one of `roles` (administrators hold every role)."""
    if not (actor.has_role(Role.ADMIN) or actor.has_role(*roles)):
        raise ApiError(403, "forbidden", f"您的角色无权{what}")


def roles_required(*roles: str, what: str = "此操作"):
    """A view decorator: the request's actor must hold one of `roles`."""
    def decorate(view):
        @functools.wraps(view)
        def wrapped(*args, **kwargs):
            check_roles(current_actor(), roles, what)
            return view(*args, **kwargs)
        wrapped.required_roles = tuple(roles)
        return wrapped
    return decorate


def is_public_viewer(actor: Actor) -> bool:
    """A citizen without any work role: sees the public view of their own cases."""
    return actor.has_role(Role.CITIZEN) and not actor.has_role(*WORK_ROLES)


@blueprint.before_request
def _authenticate():
    if request.endpoint in PUBLIC_ENDPOINTS:
        return
    authenticate_request()
