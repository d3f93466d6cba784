"""Roles, their scopes and the role templates of a city's posts, with the scope pickers' look-ups by name.

    resolve(session, "region", "张掖路街道（620102001000）")   # → Region; ScopeInvalid (in Chinese) otherwise
    options(session, "grid", "永昌")                          # → ["永昌路第1网格（G620102001001001）", ...]
    TEMPLATES["grid_leader"].roles                            # → ("grid_worker",) on a large or medium grid

A scope is written as "name（code）" (what the pickers offer), a bare code or department key, or a name alone when
only one place or department has it. Grants keep ids; the codes are resolved per request by `core.actors`.
"""
from __future__ import annotations

import dataclasses
import re

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from minqing.core.models import Department, Grid, Region, RoleGrant

ROLE_TITLES = {"admin": "系统管理员", "operator": "指挥中心值班员", "department_staff": "部门工作人员",
               "grid_worker": "网格员/网格长", "cadre": "村、乡镇干部", "leader": "领导", "auditor": "审计员",
               "citizen": "群众"}
# What each staff role is scoped to; None: the whole platform (its work is not tied to a place).
SCOPE_KIND = {"admin": None, "auditor": None, "operator": "region", "leader": "region", "cadre": "region",
              "department_staff": "department", "grid_worker": "grid"}
STAFF_ROLES = tuple(SCOPE_KIND)
KIND_TITLES = {"region": "行政区划", "department": "职能部门", "grid": "网格"}
REGION_LEVELS = {"city": "市", "county": "区县", "township": "乡镇（街道）", "village": "村（社区）", "group": "村民小组"}
GRID_LEVELS = {"large": "大网格", "medium": "中网格", "small": "小网格"}
# Cadres work for their village or township (the cadres-and-households issue); a county is too wide a scope.
CADRE_LEVELS = ("township", "village")
_LABEL = re.compile(r"^(?P<name>.*?)\s*[（(]\s*(?P<code>[^（）()]+?)\s*[）)]\s*$")
OPTION_LIMIT = 20


class ScopeInvalid(ValueError):
    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


@dataclasses.dataclass(frozen=True)
class Template:
    """A post of the city: the grants it needs, on one scope chosen by the administrator."""

    key: str
    title: str
    roles: tuple[str, ...]
    kind: str | None
    levels: tuple[str, ...] = ()   # the levels of region or grid the post works at (empty: any)


TEMPLATES = {template.key: template for template in (
    Template("grid_worker", "网格员", ("grid_worker",), "grid", ("small",)),
    Template("grid_leader", "网格长", ("grid_worker",), "grid", ("large", "medium")),
    Template("duty_operator", "指挥所值班员", ("operator",), "region", ("city", "county", "township")),
    Template("department_handler", "部门处置员", ("department_staff",), "department"),
    Template("leader", "领导", ("leader",), "region", ("city", "county", "township")),
    Template("auditor", "审计员", ("auditor",), None),
)}


def label(name: str, code: str) -> str:
    return f"{name}（{code}）"


def _split(text: str) -> tuple[str, str | None]:
    text = (text or "").strip()
    match = _LABEL.match(text)
    return (match["name"].strip(), match["code"].strip()) if match else (text, None)


def resolve(session: Session, kind: str, text: str):
    """The region, department or grid `text` names; ScopeInvalid saying what is wrong otherwise."""
    name, code = _split(text)
    if not name and not code:
        raise ScopeInvalid(f"请选择{KIND_TITLES[kind]}")
    model, key = {"region": (Region, Region.code), "department": (Department, Department.key),
                  "grid": (Grid, Grid.code)}[kind]
    if code is not None:
        found = session.scalar(select(model).where(key == code))
        if found is None:
            raise ScopeInvalid(f"没有编码为“{code}”的{KIND_TITLES[kind]}")
        return found
    found = session.scalar(select(model).where(key == name))
    if found is not None:
        return found
    same_name = model.name == name
    if kind == "department":  # "城管" as well as "兰州市城市管理局"
        same_name = or_(same_name, Department.short_name == name)
    named = session.scalars(select(model).where(same_name).limit(2)).all()
    if not named:
        raise ScopeInvalid(f"没有名为“{name}”的{KIND_TITLES[kind]}，请从列表中选择")
    if len(named) > 1:
        raise ScopeInvalid(f"有多个名为“{name}”的{KIND_TITLES[kind]}，请从列表中选择带编码的一项")
    return named[0]


def options(session: Session, kind: str, query: str, *, levels: tuple[str, ...] = (),
            limit: int = OPTION_LIMIT) -> list[str]:
    """Up to `limit` picker entries "name（code）" whose name or code contains `query`."""
    model, key = {"region": (Region, Region.code), "department": (Department, Department.key),
                  "grid": (Grid, Grid.code)}[kind]
    statement = select(model.name, key)
    words = (query or "").strip()[:50]
    if words:
        pattern = "%" + words.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        matches = [model.name.like(pattern, escape="\\"), key.like(pattern, escape="\\")]
        if kind == "department":
            matches.append(Department.short_name.like(pattern, escape="\\"))
        statement = statement.where(or_(*matches))
    if levels and kind != "department":
        statement = statement.where(model.level.in_(levels))
    if kind == "department":
        statement = statement.where(Department.active)
    rows = session.execute(statement.order_by(key).limit(limit)).all()
    return [label(name, code) for name, code in rows]


def check_level(role_or_template: str, kind: str | None, scope, levels: tuple[str, ...]) -> None:
    """A post that works at some levels only (网格长 on a large or medium grid, 村干部 in a village or township)."""
    if not levels or kind not in ("region", "grid") or scope.level in levels:
        return
    names = REGION_LEVELS if kind == "region" else GRID_LEVELS
    allowed = "、".join(names[level] for level in levels)
    raise ScopeInvalid(f"{role_or_template}的范围须为{allowed}，“{scope.name}”是{names.get(scope.level, scope.level)}")


def grant_columns(kind: str | None, scope) -> dict[str, int | None]:
    """The RoleGrant columns for a resolved scope."""
    return {"region_id": scope.id if kind == "region" else None,
            "department_id": scope.id if kind == "department" else None,
            "grid_id": scope.id if kind == "grid" else None}


def scope_labels(session: Session, grants: list[RoleGrant]) -> dict[int, str]:
    """grant id → "角色 · 范围（编码）" for a page listing many accounts' grants (three queries in all)."""
    regions = _names(session, Region, Region.code, {grant.region_id for grant in grants})
    departments = _names(session, Department, Department.key, {grant.department_id for grant in grants})
    grids = _names(session, Grid, Grid.code, {grant.grid_id for grant in grants})
    labels = {}
    for grant in grants:
        scope = (regions.get(grant.region_id) or departments.get(grant.department_id)
                 or grids.get(grant.grid_id) or "")
        title = ROLE_TITLES.get(grant.role, grant.role)
        labels[grant.id] = f"{title} · {scope}" if scope else title
    return labels


def _names(session: Session, model, key, ids: set) -> dict[int, str]:
    ids.discard(None)
    if not ids:
        return {}
    rows = session.execute(select(model.id, model.name, key).where(model.id.in_(ids))).all()
    return {row_id: label(name, code) for row_id, name, code in rows}
