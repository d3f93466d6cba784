"""Themes (业务主题) and their forms: what may be reported, and the JSON Schemas a client fills."""
from __future__ import annotations

import copy

from sqlalchemy import select

from minqing import themes
from minqing.core.actors import Actor
from minqing.core.models import Department, Role

from ..citizen.reports import citizen_schema, citizen_themes
from ..context import db, platform
from ..work.report import report_page_schema
from .auth import WORK_ROLES, current_actor, is_public_viewer, roles_required
from .common import ref, route
from .errors import ApiError, json_response

READ_ROLES = (*WORK_ROLES, Role.CITIZEN)


def available(actor: Actor) -> dict[str, themes.Theme]:
    """The themes this actor may use: a citizen those offered to citizens, everyone else every usable theme."""
    registry = themes.registry(platform(), db())
    if is_public_viewer(actor):
        return {theme.key: theme for theme in citizen_themes(registry)}
    return dict(registry.themes)


def theme_or_404(actor: Actor, key: str) -> themes.Theme:
    theme = available(actor).get(key)
    if theme is None:
        raise ApiError(404, "unknown_theme", f"没有名为“{key[:80]}”的业务主题（或提供它的插件已停用）")
    return theme


def request_schema(actor: Actor, theme: themes.Theme) -> dict:
    """The body of POST /cases for this theme (without "theme" and "client_id"). A required field has no
    `default` here: the page preselects one, but a client that leaves it out is refused, not given the default."""
    schema = copy.deepcopy(citizen_schema(theme) if is_public_viewer(actor) else report_page_schema(theme))
    for name in schema.get("required", ()):
        schema["properties"].get(name, {}).pop("default", None)
    return schema


def summary(theme: themes.Theme, names: dict[str, str]) -> dict:
    document = theme.document
    return {"key": theme.key, "title": theme.title, "department": theme.department,
            "department_name": names.get(theme.department, theme.department),
            "description": document.get("description", ""), "icon": document.get("icon", ""),
            "colour": document.get("colour", ""), "workflow": theme.workflow if isinstance(theme.workflow, str)
            else "inline", "categories": [{"code": item["code"], "title": item["title"],
                                           "parent": item.get("parent", "")} for item in theme.categories],
            "forms": [name for name in ("report", "record", "visit") if theme.form(name)]}


def _names() -> dict[str, str]:
    return dict(db().execute(select(Department.key, Department.short_name)).all())


@route("/themes", summary="业务主题列表", tags=("themes",), roles=READ_ROLES,
       description="可使用的业务主题（群众只看到面向群众的主题）。",
       responses={200: ("主题列表", {"type": "object", "required": ["items"],
                                     "properties": {"items": {"type": "array", "items": ref("Theme")}}})})
@roles_required(*READ_ROLES, what="查看业务主题")
def list_themes():
    names = _names()
    items = [summary(theme, names) for theme in sorted(available(current_actor()).values(), key=lambda t: t.key)]
    return json_response({"items": items})


@route("/themes/<key>", summary="业务主题及其表单", tags=("themes",), roles=READ_ROLES,
       description="主题的上报、台账、走访表单（JSON Schema），以及 POST /cases 请求体的完整 JSON Schema。",
       responses={200: ("主题", ref("ThemeDetail")), 404: ("没有这个主题", ref("Problem"))})
@roles_required(*READ_ROLES, what="查看业务主题")
def read_theme(key: str):
    actor = current_actor()
    theme = theme_or_404(actor, key)
    body = summary(theme, _names())
    body["guide"] = theme.document.get("guide", "")
    body["schemas"] = {name: theme.form(name) for name in ("report", "record", "visit") if theme.form(name)}
    body["ui"] = {name: theme.ui(name) for name in ("report", "record", "visit") if theme.ui(name)}
    body["case_request_schema"] = request_schema(actor, theme)
    return json_response(body)
