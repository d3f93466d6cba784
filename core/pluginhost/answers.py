"""What a hook's answer must look like, where `core/hooks.py` says so.

An answer of the wrong shape (a list hook answering a string, a department without a key, a colour that is not
red, yellow or blue) is garbage: the host records it as a failure of the plugin and ignores it, so the code
that uses the answers never meets it. Only the shape is checked here; meaning (a theme document against its
schema, a department key that exists) stays with the code that uses the answer.
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

_LIST_ITEM_KEYS: dict[str, tuple[str, ...] | None] = {
    "register_departments": ("key", "name"),
    "register_themes": None,          # theme documents: checked against the theme schema by the registry
    "register_workflows": None,       # workflow documents: checked against the workflow schema
    "map_layers": ("key", "title", "features"),
    "dashboard_figures": ("key", "title", "value"),
    "periodic_tasks": ("name", "every", "run"),
    "warning_rules": ("key", "title", "evaluate"),
    "dashboard_panels": ("key", "title"),
    "intake_channels": ("name", "title"),
}
COLOURS = ("red", "yellow", "blue")


def _kind(value: Any) -> str:
    return type(value).__name__


def _list_of_dicts(hook_name: str, answer: Any) -> str | None:
    if not isinstance(answer, (list, tuple)):
        return f"应返回列表，实际返回了 {_kind(answer)}"
    keys = _LIST_ITEM_KEYS[hook_name]
    for index, item in enumerate(answer):
        if keys is None:
            if not isinstance(item, dict):
                return f"第 {index + 1} 项应为字典，实际为 {_kind(item)}"
            continue
        if not isinstance(item, dict):
            return f"第 {index + 1} 项应为字典，实际为 {_kind(item)}"
        missing = [key for key in keys if key not in item]
        if missing:
            return f"第 {index + 1} 项缺少 {', '.join(missing)}"
    if hook_name == "map_layers" and any(not callable(item["features"]) for item in answer):
        return "图层的 features 应为可调用对象"
    if hook_name == "warning_rules" and any(not callable(item["evaluate"]) for item in answer):
        return "预警规则的 evaluate 应为可调用对象"
    if hook_name == "intake_channels":
        for item in answer:
            if not isinstance(item["name"], str) or not 0 < len(item["name"]) <= 20:
                return f"受理渠道的 name 应为 1～20 个字符的文本：{item['name']!r:.40}"
            if any(key in item and not callable(item[key]) for key in ("import", "pull")):
                return f"受理渠道 {item['name']} 的 import、pull 应为可调用对象"
    if hook_name == "periodic_tasks":
        for item in answer:
            if not callable(item["run"]) or not isinstance(item["every"], (int, float)) or item["every"] <= 0:
                return f"定时任务 {item.get('name')!r} 的 run 应可调用、every 应为正数"
    return None


def _problems(_hook_name: str, answer: Any) -> str | None:
    if not isinstance(answer, (list, tuple)):
        return f"应返回问题列表，实际返回了 {_kind(answer)}"
    for index, problem in enumerate(answer):
        if (not isinstance(problem, (list, tuple)) or len(problem) != 2
                or not all(isinstance(part, str) for part in problem)):
            return f"第 {index + 1} 个问题应为（字段路径, 中文说明）两段文本"
    return None


def _department_key(_hook_name: str, answer: Any) -> str | None:
    return None if isinstance(answer, str) and answer.strip() else f"应返回部门代码文本，实际返回了 {answer!r:.60}"


def _colour(_hook_name: str, answer: Any) -> str | None:
    if isinstance(answer, (list, tuple)) and len(answer) == 2 and answer[0] in COLOURS:
        return None
    return f"应返回（red/yellow/blue, 原因），实际返回了 {answer!r:.60}"


def _colours(hook_name: str, answer: Any) -> str | None:
    if not isinstance(answer, dict):
        return f"应返回以网格编号为键的字典，实际返回了 {_kind(answer)}"
    if any(not isinstance(key, int) for key in answer):
        return "字典的键应为网格编号（整数）"
    return None


def _delivered(_hook_name: str, answer: Any) -> str | None:
    return None if isinstance(answer, bool) else f"应返回 True 或 None，实际返回了 {_kind(answer)}"


def _calendar(_hook_name: str, answer: Any) -> str | None:
    if isinstance(answer, dict) or callable(getattr(answer, "add_hours", None)):
        return None
    return f"应返回 WorkingCalendar 或字典，实际返回了 {_kind(answer)}"


def _document(_hook_name: str, answer: Any) -> str | None:
    return None if isinstance(answer, dict) else f"应返回字典形式的文档，实际返回了 {_kind(answer)}"


def _blueprints(_hook_name: str, answer: Any) -> str | None:
    if not isinstance(answer, (list, tuple)):
        return f"应返回列表，实际返回了 {_kind(answer)}"
    if any(not (hasattr(item, "name") and callable(getattr(item, "register", None))) for item in answer):
        return "列表中应为 flask.Blueprint"
    return None


def _file_kinds(_hook_name: str, answer: Any) -> str | None:
    if not isinstance(answer, dict):
        return f"应返回以文件类型为键的字典，实际返回了 {_kind(answer)}"
    for kind, spec in answer.items():
        if not isinstance(kind, str) or not isinstance(spec, dict) or not isinstance(spec.get("label"), str):
            return f"文件类型 {kind!r:.40} 应为含 label（中文名称）的字典"
        if any(part in spec and not callable(spec[part]) for part in ("import", "export")):
            return f"文件类型 {kind!r:.40} 的 import/export 应为可调用对象"
    return None


CHECKS: dict[str, Callable[[str, Any], str | None]] = {
    **{hook_name: _list_of_dicts for hook_name in _LIST_ITEM_KEYS},
    "validate_case": _problems,
    "validate_submission": _problems,
    "route_case": _department_key,
    "grid_colour": _colour,
    "grid_colours": _colours,
    "deliver_notification": _delivered,
    "working_calendar": _calendar,
    "web_blueprints": _blueprints,
    "resolve_workflow": _document,
    "file_kinds": _file_kinds,
}


def problem(hook_name: str, answer: Any) -> str | None:
    """Why `answer` (not None) is garbage for `hook_name`, or None when its shape is right (or not defined)."""
    check = CHECKS.get(hook_name)
    return None if check is None else check(hook_name, answer)
