"""Coverage: every department and its enabled themes ("每个职能部门至少一个业务主题"), naming those with none."""
from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from minqing.core.models import Department

from .registry import registry


def departments(platform, session: Session) -> dict[str, str]:
    """key → name of every department: the table's and those the enabled plugins declare."""
    names = {key: name for key, name in session.execute(select(Department.key, Department.name))}
    for _, item in platform.plugins.collect("register_departments"):
        if isinstance(item, dict) and "key" in item:
            names.setdefault(item["key"], item.get("name", item["key"]))
    return names


def coverage(platform, session: Session) -> dict:
    by_department = registry(platform, session).by_department()
    rows = []
    for key, name in sorted(departments(platform, session).items()):
        themes = by_department.get(key, [])
        rows.append({"key": key, "name": name,
                     "themes": [{"key": theme.key, "title": theme.title, "plugin": theme.plugin} for theme in themes]})
    without = [row["key"] for row in rows if not row["themes"]]
    return {"departments": rows, "without_themes": without,
            "covered": len(rows) - len(without), "total": len(rows)}
