"""What the model's labels stand for: the themes' categories, and who is responsible for one in a region (权责).

Responsibility asks the same `route_case` hook the dispatch step asks, with a probe case of that category at the
case's place: a department's own regional rule (e.g. 城关区 street vending goes to the district team) wins, else
the theme's category table. So a suggestion names exactly the department a dispatch would reach.
"""
from __future__ import annotations

import dataclasses

from sqlalchemy import select
from sqlalchemy.orm import Session

from minqing.core.departments import by_key
from minqing.core.models import Case, Region

THEME_ROUTER = "theme_routing"


@dataclasses.dataclass(frozen=True)
class Category:
    code: str
    title: str
    parent: str          # 大类
    theme_key: str
    theme_title: str
    theme_version: int
    default_department: str


@dataclasses.dataclass(frozen=True)
class Responsibility:
    department_key: str
    department_name: str
    reason: str


def categories(platform, session: Session) -> dict[str, Category]:
    """Every category of the usable themes by code (the first theme to declare a code keeps it)."""
    from minqing import themes

    found: dict[str, Category] = {}
    published = themes.latest_versions(session)
    for theme in themes.registry(platform, session).themes.values():
        version = published[theme.key].version if theme.key in published else 1
        for category in theme.categories:
            found.setdefault(category["code"], Category(
                code=category["code"], title=category["title"], parent=category.get("parent", ""),
                theme_key=theme.key, theme_title=theme.title, theme_version=version,
                default_department=category.get("department") or theme.department))
    return found


def responsible(platform, session: Session, category: Category, case: Case) -> Responsibility:
    """The department a case of `category` at `case`'s place is routed to, and why, in words."""
    probe = Case(theme_key=category.theme_key, theme_version=category.theme_version, category=category.parent,
                 subcategory=category.code, region_code=case.region_code or "", grid_id=case.grid_id,
                 title=case.title, description=case.description, lon=case.lon, lat=case.lat)
    answer = platform.plugins.call_first("route_case", case=probe, session=session)
    plugin, key = answer if answer else (THEME_ROUTER, category.default_department)
    department = by_key(session, key)
    name = department.name if department is not None else "未登记的部门"  # never the internal key
    place = region_name(session, case.region_code) or "该地"
    if plugin == THEME_ROUTER:
        reason = f"按业务主题“{category.theme_title}”的权责分工，{place}的“{category.title}”由{name}负责"
    else:
        reason = f"{place}的“{category.title}”按{_plugin_title(platform, plugin)}的属地权责规则由{name}直接负责"
    return Responsibility(department_key=key, department_name=name, reason=reason)


def acting(platform, session: Session, category: Category, case: Case,
           can_act: set[int] | None = None) -> Responsibility | None:
    """Like `responsible`, but only towards a department that can act (`reach`): the responsible one, else its
    nearest parent that can, with the reason saying so; None when nobody up the chain can act."""
    from . import reach

    duty = responsible(platform, session, category, case)
    can_act = reach.able(session, case) if can_act is None else can_act
    landed = reach.nearest_able(session, by_key(session, duty.department_key), can_act)
    if landed.department is None:
        return None
    if not landed.moved:
        return duty
    return Responsibility(
        department_key=landed.department.key, department_name=landed.department.name,
        reason=f"{duty.reason}；该部门暂无处置人员，由上级部门{landed.department.name}办理")


def _plugin_title(platform, name: str) -> str:
    """The plugin's Chinese title (MINQING_TITLE) for a sentence a person reads, never its internal id."""
    plugin = platform.plugins.manager.get_plugin(name)
    title = str(getattr(plugin, "MINQING_TITLE", "") or "")
    return f"“{title}”" if title else "部门插件"


def region_name(session: Session, code: str) -> str:
    if not code:
        return ""
    return session.scalar(select(Region.name).where(Region.code == code)) or ""
