"""The themes' bridge to the workflow engine, as a built-in plugin.

- `route_case`, answered last: a department's routing rule (a plugin's `route_case`) wins, and when none
  answers, the category table of the theme version the case was reported under decides (the category's
  department, else the theme's).
- `resolve_workflow`: the inline workflow of a theme, for the cases that name it by the theme's key (see
  `minqing.themes.inline_workflow`)."""
from __future__ import annotations

from minqing.core.hooks import hookimpl

from .inline_workflow import inline_workflow, is_theme_key
from .routing import UnknownCategory, route
from .versions import NotPublished, theme_version

MINQING_TITLE = "主题分拨规则"  # what the admin page and `minqing plugins list` show
MINQING_DESCRIPTION = "按业务主题的分类把事件分拨到职能部门。"

MINQING_REQUIRED = True  # dispatch without it would need a person for every case


@hookimpl(trylast=True)
def route_case(case, session):
    try:
        document = theme_version(session, case.theme_key, case.theme_version or None).document
    except NotPublished:
        return None
    codes = {category["code"] for category in document.get("categories", ())}
    code = next((value for value in (case.subcategory, case.category) if value in codes), None)
    try:
        return route(document, code)
    except UnknownCategory:
        return None


@hookimpl
def resolve_workflow(key, platform, session):
    if not is_theme_key(key):
        return None
    return inline_workflow(platform, session, key)
