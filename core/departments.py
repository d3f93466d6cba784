"""Departments come from plugins (`register_departments`); this keeps the table in step with them."""
from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from .actors import Actor
from .changes import record_change
from .models import Department

FIELDS = ("name", "short_name", "kind", "description")


def sync_departments(session: Session, plugins, actor: Actor, region_id: int | None = None) -> list[str]:
    """Create or update every department a plugin declares; return the keys that were added."""
    existing = {department.key: department for department in session.scalars(select(Department))}
    added = []
    for plugin_name, declared in plugins.collect("register_departments"):
        key = declared["key"]
        department = existing.get(key)
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
    if added:
        record_change(session, actor, "department.sync", object_type="department",
                      summary=f"新增职能部门 {len(added)} 个", details={"added": added})
    session.flush()
    return added


def by_key(session: Session, key: str) -> Department | None:
    return session.scalar(select(Department).where(Department.key == key))
