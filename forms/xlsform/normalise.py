"""normalise(): one spelling for schemas that mean the same form, to compare an import with its source.

Property order follows `ui:order` (then the UI key is dropped); `required` lists are sorted; the
conditional blocks of an object are merged by their `if`, sorted, and written as the object's own
`if`/`then`/`else` when there is one and as `allOf` when there are several; empty UI entries go.
"""
from __future__ import annotations

import copy
import json

from ..conditions import blocks


def normalise(schema: dict, ui: dict | None = None) -> tuple[dict, dict]:
    schema, ui = copy.deepcopy(schema), copy.deepcopy(ui or {})
    schema.pop("x-xlsform", None)   # where a form came from is not part of what it asks
    _object(schema, ui)
    return schema, _prune(ui)


def _object(obj: dict, ui: dict):
    order = ui.pop("ui:order", []) if isinstance(ui, dict) else []
    props = obj.get("properties", {})
    names = [n for n in order if n in props] + [n for n in props if n not in order]
    obj["properties"] = {n: props[n] for n in names}
    if "required" in obj:
        obj["required"] = sorted(obj["required"])
        if not obj["required"]:
            del obj["required"]
    if "dependentRequired" in obj:
        obj["dependentRequired"] = {k: sorted(v) for k, v in sorted(obj["dependentRequired"].items()) if v}
        if not obj["dependentRequired"]:
            del obj["dependentRequired"]
    _blocks(obj)
    for name, field in obj["properties"].items():
        sub_ui = ui.get(name, {}) if isinstance(ui, dict) else {}
        if field.get("type") == "object" and field.get("format") != "geo-point":
            _object(field, sub_ui)
        elif field.get("type") == "array" and field["items"].get("type") == "object":
            _object(field["items"], sub_ui.get("items", {}) if isinstance(sub_ui, dict) else {})


def _blocks(obj: dict):
    merged: dict[str, dict] = {}
    for block in blocks(obj):
        condition = dict(block["if"])
        if "required" in condition:
            condition["required"] = sorted(condition["required"])
        key = json.dumps(condition, sort_keys=True, ensure_ascii=False)
        into = merged.setdefault(key, {"if": condition})
        for branch in ("then", "else"):
            part = block.get(branch, {})
            if not part:
                continue
            target = into.setdefault(branch, {})
            if part.get("required"):
                target["required"] = sorted(set(target.get("required", [])) | set(part["required"]))
            if part.get("properties"):
                target.setdefault("properties", {}).update(part["properties"])
    for key in ("if", "then", "else", "allOf"):
        obj.pop(key, None)
    ordered = [b for b in (merged[k] for k in sorted(merged)) if b.get("then") or b.get("else")]
    if len(ordered) == 1:
        obj.update(ordered[0])
    elif ordered:
        obj["allOf"] = ordered


def _prune(ui):
    if not isinstance(ui, dict):
        return ui
    out = {}
    for key, value in ui.items():
        if key == "ui:order":
            continue
        value = _prune(value)
        if value != {}:
            out[key] = value
    return out
