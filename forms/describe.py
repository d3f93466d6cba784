"""Conditions in words, for pages without JavaScript where conditional fields stay visible.

E.g. "当“墙体是否有裂缝”为“是”时填写". forms.js hides these notes, since it hides the fields.
"""
from __future__ import annotations

from .messages import number

_BOUNDS = {"minimum": "不小于", "maximum": "不大于", "exclusiveMinimum": "大于", "exclusiveMaximum": "小于"}


def when_note(gates, parent) -> str | None:
    """One sentence for a field's gates; `parent` is the object Node holding the field."""
    if not gates:
        return None
    phrases = []
    for gate in gates:
        if "present" in gate.rule:
            phrases.append(f"当已填写“{_title(parent, gate.rule['present'])}”时")
        elif gate.rule["is"]:
            phrases.append(f"当{_condition(gate.rule['if'], parent)}时")
        else:
            phrases.append(f"除非{_condition(gate.rule['if'], parent)}，否则")
    return "；或".join(phrases) + "填写"


def _condition(schema: dict, parent) -> str:
    parts = []
    tested = schema.get("properties", {})
    for name, test in tested.items():
        parts.extend(_tests(parent.child(name), name, test, parent))
    parts.extend(f"已填写“{_title(parent, name)}”" for name in schema.get("required", []) if name not in tested)
    return "且".join(parts) or "满足条件"


def _tests(node, name: str, test: dict, parent) -> list[str]:
    title, out = _title(parent, name), []
    if "const" in test:
        out.append(f"“{title}”为“{_label(node, test['const'])}”")
    if "enum" in test:
        out.append(f"“{title}”为" + "或".join(f"“{_label(node, v)}”" for v in test["enum"]))
    for keyword, words in _BOUNDS.items():
        if keyword in test:
            out.append(f"“{title}”{words}{number(test[keyword])}")
    if "contains" in test:
        values = [test["contains"]["const"]] if "const" in test["contains"] else test["contains"].get("enum", [])
        out.append(f"“{title}”包含" + "或".join(f"“{_label(node, v)}”" for v in values))
    return out


def _title(parent, name: str) -> str:
    child = parent.child(name)
    return child.title if child else name


def _label(node, value) -> str:
    label = node.choice_label(value) if node else None
    if label is not None:
        return label
    return {True: "是", False: "否"}.get(value, number(value)) if isinstance(value, (bool, int, float)) else str(value)
