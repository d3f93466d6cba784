"""Departments: declared by plugins (`register_departments`) and kept in step with them, or added by an
administrator (a county's bureau under the city's: 城关区城市管理综合执法局 under 城管).

    sync_departments(session, plugins, actor)          # `minqing upgrade`, enabling a plugin, the demo build
    add(session, actor, name=..., short_name=..., parent="城管（urban_management）", region="城关区（620102000000）")
    update(session, actor, department, name=..., short_name=..., parent=..., region=..., active=True)

A plugin's declaration may name its parent department by key (``"parent": "urban_management"``). A department a
plugin declares is created in the region the city is rooted at (the one region without a parent) unless told
otherwise.
"""
from __future__ import annotations

import re

from sqlalchemy import select
from sqlalchemy.orm import Session

from minqing.core.accounts.scopes import ScopeInvalid, resolve
from . import counters
from .actors import Actor
from .changes import record_change
from .models import Department, Region

FIELDS = ("name", "short_name", "kind", "description")
KEY = re.compile(r"^[a-z][a-z0-9_]{1,39}$")
KINDS = {"government": "政府部门", "utility": "公用事业单位", "mass_organisation": "群团组织"}
COUNTER = "departments"   # moves with every department added, changed or removed: the theme registry's cache


counters.bump_when_flushed(COUNTER, Department)


class DepartmentInvalid(ValueError):
    """What is wrong, per form field (in Chinese)."""

    def __init__(self, errors: dict[str, list[str]]):
        super().__init__("；".join(message for messages in errors.values() for message in messages))
        self.errors = errors


def root_region_id(session: Session) -> int | None:
    """The region the city is rooted at: the only region without a parent (None when there are none or several)."""
    roots = session.scalars(select(Region.id).where(Region.parent_id.is_(None)).limit(2)).all()
    return roots[0] if len(roots) == 1 else None


def sync_departments(session: Session, plugins, actor: Actor, region_id: int | None = None) -> list[str]:
    """Create or update every department an enabled plugin declares; return the keys that were added."""
    existing = {department.key: department for department in session.scalars(select(Department))}
    region_id = region_id if region_id is not None else root_region_id(session)
    added, parents = [], {}
    for plugin_name, declared in plugins.collect("register_departments"):
        key = declared["key"]
        department = existing.get(key)
        if declared.get("parent"):
            parents[key] = declared["parent"]
        if department is None:
            department = Department(key=key, name=declared["name"], short_name=declared.get("short_name", key),
                                    kind=declared.get("kind", "government"),
                                    description=declared.get("description", ""), region_id=region_id)
            session.add(department)
            existing[key] = department
            added.append(key)
            continue
        for field in FIELDS:
            if field in declared and getattr(department, field) != declared[field]:
                setattr(department, field, declared[field])
    session.flush()
    for key, parent_key in parents.items():  # after every department exists: a parent may come later in the list
        parent = existing.get(parent_key)
        if parent is not None and parent.key != key:
            existing[key].parent_id = parent.id
    if added:
        record_change(session, actor, "department.sync", object_type="department",
                      summary=f"新增职能部门 {len(added)} 个", details={"added": added})
    session.flush()
    return added


def by_key(session: Session, key: str) -> Department | None:
    return session.scalar(select(Department).where(Department.key == key))


def named(session: Session, text: str) -> Department | None:
    """The active department a person means by `text`: its key, else its short name or full name (城管,
    兰州市城市管理局) when exactly one active department has it. None when none or several do."""
    text = (text or "").strip()
    if not text:
        return None
    found = by_key(session, text)
    if found is not None:
        return found
    matches = session.scalars(select(Department).where(Department.active.is_(True),
                                                       (Department.short_name == text) | (Department.name == text))
                              .limit(2)).all()
    return matches[0] if len(matches) == 1 else None


def _clean(session: Session, *, name: str, short_name: str, parent: str, region: str,
           department: Department | None = None) -> dict:
    errors: dict[str, list[str]] = {}
    values = {"name": (name or "").strip(), "short_name": (short_name or "").strip()}
    if not 2 <= len(values["name"]) <= 100:
        errors["name"] = ["部门全称须为2至100个字"]
    if not 1 <= len(values["short_name"]) <= 40:
        errors["short_name"] = ["简称须为1至40个字"]
    values["parent_id"] = values["region_id"] = None
    for field, kind, text in (("parent_id", "department", parent), ("region_id", "region", region)):
        if not (text or "").strip():
            continue
        try:
            values[field] = resolve(session, kind, text).id
        except ScopeInvalid as error:
            errors[field.removesuffix("_id")] = [error.message]
    parent_id = values["parent_id"]
    if department is not None and parent_id is not None and _under(session, parent_id, department.id):
        errors["parent"] = ["上级部门不能是本部门或其下级部门"]
    if errors:
        raise DepartmentInvalid(errors)
    return values


def _under(session: Session, department_id: int, ancestor_id: int) -> bool:
    """Whether `department_id` is `ancestor_id` or below it (a loop of parents is refused)."""
    seen = set()
    while department_id is not None and department_id not in seen:
        if department_id == ancestor_id:
            return True
        seen.add(department_id)
        department_id = session.scalar(select(Department.parent_id).where(Department.id == department_id))
    return False


def _new_key(session: Session, key: str, values: dict) -> str:
    key = (key or "").strip()
    if key:
        if not KEY.match(key):
            raise DepartmentInvalid({"key": ["标识须为2至40个小写字母、数字或下划线，以字母开头"]})
        if by_key(session, key) is not None:
            raise DepartmentInvalid({"key": [f"标识“{key}”已被使用"]})
        return key
    # A readable key nobody has to invent: the parent's key and the served region's code.
    parent_key = values["parent_id"] and session.scalar(select(Department.key).where(
        Department.id == values["parent_id"]))
    region_code = values["region_id"] and session.scalar(select(Region.code).where(Region.id == values["region_id"]))
    base = "_".join(part for part in ((parent_key or "dept")[:24], (region_code or "")[:12].rstrip("0")) if part)
    candidate, number = base, 1
    while by_key(session, candidate) is not None:
        number += 1
        candidate = f"{base}_{number}"
    return candidate


def add(session: Session, actor: Actor, *, name: str, short_name: str, parent: str = "", region: str = "",
        key: str = "", kind: str = "government", description: str = "") -> Department:
    """A department added by hand (one no plugin declares); DepartmentInvalid per field otherwise."""
    values = _clean(session, name=name, short_name=short_name, parent=parent, region=region)
    if kind not in KINDS:
        raise DepartmentInvalid({"kind": [f"类别只能是：{'、'.join(KINDS.values())}"]})
    department = Department(key=_new_key(session, key, values), kind=kind, description=(description or "").strip(),
                            **values)
    session.add(department)
    session.flush()
    record_change(session, actor, "department.add", object_type="department", object_id=department.id,
                  summary=f"新增职能部门 {department.name}（{department.key}）",
                  details={"parent_id": department.parent_id, "region_id": department.region_id})
    return department


def update(session: Session, actor: Actor, department: Department, *, name: str, short_name: str,
           parent: str = "", region: str = "", active: bool = True) -> None:
    values = _clean(session, name=name, short_name=short_name, parent=parent, region=region,
                    department=department)
    values["active"] = active
    changed = {field: [getattr(department, field), value] for field, value in values.items()
               if getattr(department, field) != value}
    if not changed:
        return
    for field, (_old, value) in changed.items():
        setattr(department, field, value)
    record_change(session, actor, "department.update", object_type="department", object_id=department.id,
                  summary=f"修改职能部门 {department.name}", details=changed)
