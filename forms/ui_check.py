"""Validate a UI schema against its (sound) form schema: unknown keys are rejected, not ignored.

A UI schema mirrors the data: an object's UI maps property names to their UI, plus "ui:*" keys;
a repeat group's rows are under "items". See docs/forms.md for the keys.
"""
from __future__ import annotations

from .model import SchemaProblem
from .schema_check import pointer
from .spec import kind_of

_TEXT = {"ui:widget": ("text", "textarea"), "ui:placeholder": str, "ui:rows": int}
_ALLOWED = {
    "text": _TEXT,
    "formatted": {"ui:placeholder": str},
    "numeric": {"ui:placeholder": str},
    "options": {"ui:widget": ("select", "radio")},
    "boolean": {"ui:widget": ("checkbox", "radio", "select")},
    "choices": {"ui:widget": ("checkboxes",)},
    "attachment": {"ui:capture": ("environment", "user")},
    "geo": {},
    "group": {"ui:order": list},
    "repeat": {"ui:addLabel": str, "ui:removeLabel": str, "ui:rowLabel": str, "items": dict},
}


def check_ui(schema: dict, ui) -> list[SchemaProblem]:
    problems: list[SchemaProblem] = []
    _check(schema, ui, [], problems)
    return problems


def _add(problems, at, keyword, message):
    problems.append(SchemaProblem(pointer(at), keyword, message, "invalid-ui", source="ui"))


def _check(field: dict, ui, at: list, problems: list):
    if not isinstance(ui, dict):
        _add(problems, at, at[-1] if at else "", "界面配置应为对象")
        return
    kind = _ui_kind(field)
    allowed = _ALLOWED[kind]
    props = field.get("properties", {}) if kind == "group" else {}
    for key, value in ui.items():
        if key in props:
            _check(props[key], value, at + [key], problems)
        elif key not in allowed:
            _add(problems, at + [key], key, f"不支持的界面配置“{key}”" if key.startswith("ui:")
                 else f"界面配置中的“{key}”不是此处的字段")
        elif not _value_ok(allowed[key], value):
            _add(problems, at + [key], key, f"界面配置“{key}”的值无效")
    if kind == "group":
        _check_order(ui.get("ui:order", []), props, at, problems)
    if kind == "repeat" and isinstance(ui.get("items"), dict):
        _check(field["items"], ui["items"], at + ["items"], problems)


def _value_ok(expected, value) -> bool:
    if isinstance(expected, tuple):
        return value in expected
    if expected is int:
        return isinstance(value, int) and not isinstance(value, bool) and 1 <= value <= 50
    return isinstance(value, expected)


def _check_order(order, props: dict, at: list, problems: list):
    if not isinstance(order, list):
        return
    for i, name in enumerate(order):
        if name not in props or name in order[:i]:
            _add(problems, at + ["ui:order", i], "ui:order", f"ui:order 中的“{name}”不是字段或重复")


# spec kinds (with no widget chosen) -> the UI keys they accept
_UI_GROUPS = {"text": "text", "date": "formatted", "datetime": "formatted", "email": "formatted",
              "mobile": "formatted", "idcard": "formatted", "integer": "numeric", "number": "numeric",
              "select": "options", "checkbox": "boolean", "checkboxes": "choices", "attachment": "attachment",
              "attachments": "attachment", "geo": "geo", "group": "group", "repeat": "repeat"}


def _ui_kind(field: dict) -> str:
    return _UI_GROUPS[kind_of(field, {})]
