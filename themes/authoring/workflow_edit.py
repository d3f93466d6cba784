"""Editing a theme's workflow: start from a template, then change time limits per state and urgency and the
roles that may take each step. The result is an inline workflow document in the theme (``"workflow": {...}``),
which the engine uses for the theme's cases (see `minqing.themes.inline_workflow`).

All functions return new documents and leave their arguments unchanged; the checks run when the draft is
saved (`save_draft` answers the problems under ``/workflow/...``).
"""
from __future__ import annotations

import copy
import re

from minqing.workflows import definition
from minqing.workflows.definition import URGENCIES
from minqing.workflows.errors import WorkflowError

from .errors import AuthoringError

ROLE_TITLES = {"admin": "系统管理员", "operator": "指挥中心", "department_staff": "职能部门", "grid_worker": "网格员",
               "citizen": "群众", "leader": "领导"}
URGENCY_TITLES = {"normal": "一般", "urgent": "紧急", "critical": "特急"}


def template_document(platform, key: str) -> dict:
    """A copy of workflow template `key` (a plugin's or a built-in one); AuthoringError when there is none."""
    try:
        workflow = definition.get(platform, key) if platform is not None else definition.builtin(key)
    except WorkflowError:
        raise AuthoringError(f"没有名为“{key}”的流程模板") from None
    return copy.deepcopy(workflow.document)


def inline_key(theme_key: str) -> str:
    """A workflow-document key for a theme's inline workflow (its own name; cases use the theme key)."""
    key = re.sub(r"[^a-z0-9_]", "_", theme_key.lower())
    key = key if key[:1].isalpha() else f"w_{key}"
    return key[:80]


def workflow_for_editing(document: dict, platform=None) -> dict:
    """The theme's workflow as an inline document to edit: a copy of its inline workflow, or of the template
    it names (``"standard"`` when it names none), renamed for the theme."""
    workflow = document.get("workflow", "standard")
    if isinstance(workflow, dict):
        return copy.deepcopy(workflow)
    edited = template_document(platform, workflow)
    edited.pop("$schema", None)
    edited["key"] = inline_key(document.get("key", "theme"))
    edited["title"] = f"{document.get('title', '')}处置流程" if document.get("title") else edited["title"]
    return edited


def with_workflow(document: dict, workflow: str | dict) -> dict:
    """A copy of theme `document` using `workflow` (a template key or an inline document)."""
    changed = copy.deepcopy(document)
    changed["workflow"] = copy.deepcopy(workflow)
    return changed


def set_time_limit(workflow: dict, state: str, hours: dict | None, *, working=None) -> dict:
    """A copy of `workflow` whose state `state` has time limit `hours` ({"normal": 8, "urgent": 4,
    "critical": 1}); None removes the limit. `working` (True, False or a list of urgencies) says which count
    only working hours; kept as it was when not given."""
    changed = copy.deepcopy(workflow)
    if state not in changed.get("states", {}):
        raise AuthoringError(f"流程中没有状态“{state}”")
    body = changed["states"][state]
    if hours is None:
        body.pop("time_limit", None)
        return changed
    limit = {level: hours[level] for level in URGENCIES if level in hours}
    previous = body.get("time_limit", {})
    if working is not None:
        limit["working"] = working
    elif "working" in previous:
        limit["working"] = previous["working"]
    body["time_limit"] = limit
    return changed


def set_due(workflow: dict, hours: dict | None, *, working=None) -> dict:
    """A copy of `workflow` with the overall time limit from report to close set (None removes it)."""
    changed = copy.deepcopy(workflow)
    if hours is None:
        changed.pop("due", None)
        return changed
    due = {level: hours[level] for level in URGENCIES if level in hours}
    if working is not None:
        due["working"] = working
    elif "working" in changed.get("due", {}):
        due["working"] = changed["due"]["working"]
    changed["due"] = due
    return changed


def set_roles(workflow: dict, transition: str, roles: list[str]) -> dict:
    """A copy of `workflow` in which step `transition` may be taken by `roles`."""
    changed = copy.deepcopy(workflow)
    for step in changed.get("transitions", []):
        if step.get("name") == transition:
            step["roles"] = list(dict.fromkeys(roles))
            return changed
    raise AuthoringError(f"流程中没有步骤“{transition}”")


def workflow_table(workflow: dict) -> dict:
    """What an editing page shows: states with their time limits, steps with their roles, in order."""
    states = [{"name": name, "title": body.get("title", name), "final": body.get("final", False),
               "paused": body.get("paused", False), "time_limit": body.get("time_limit"),
               "on_expiry": body.get("on_expiry", [])}
              for name, body in workflow.get("states", {}).items()]
    steps = [{"name": step.get("name"), "title": step.get("title"), "from": step.get("from", []),
              "to": step.get("to"), "roles": step.get("roles", []),
              "role_titles": [ROLE_TITLES.get(role, role) for role in step.get("roles", [])]}
             for step in workflow.get("transitions", [])]
    return {"key": workflow.get("key"), "title": workflow.get("title"), "initial": workflow.get("initial"),
            "due": workflow.get("due"), "states": states, "transitions": steps}
