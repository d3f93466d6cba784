"""What changed between two versions of a theme document, field by field, with Chinese summaries.

    diff = diff_versions(old_document, new_document)
    diff.fields            # FieldChange per form field added / removed / changed (title, type, required,
                           # limits, options, conditions, …)
    diff.layer, diff.workflow, diff.categories, diff.general   # Change rows
    diff.summary           # ["上报表单：新增字段“联系电话”", …]
"""
from __future__ import annotations

import dataclasses
import json
from typing import Any

from minqing.workflows import definition
from minqing.workflows.errors import WorkflowError

from ..document import FORM_NAMES

FORM_TITLES = {"record": "登记表单", "report": "上报表单", "visit": "巡查走访表单"}
ATTRIBUTES = {"title": "名称", "type": "类型", "required": "必填", "limits": "限制", "options": "选项",
              "conditions": "显示条件", "description": "说明", "default": "默认值"}
LIMITS = ("minLength", "maxLength", "pattern", "minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum",
          "multipleOf", "minItems", "maxItems", "uniqueItems")
TYPE_NAMES = {"string": "文本", "integer": "整数", "number": "数字", "boolean": "是/否", "object": "分组",
              "array": "列表", "date": "日期", "date-time": "日期时间", "geo-point": "位置", "attachment": "附件",
              "cn-mobile": "手机号", "cn-id": "身份证号", "email": "电子邮箱"}
GENERAL = {"title": "主题名称", "description": "简介", "guide": "业务场景指引", "icon": "图标", "colour": "颜色",
           "patrol_every_days": "巡查周期（天）", "auto_dispatch": "自动分拨",
           "duplicates": "重复件识别"}


@dataclasses.dataclass(frozen=True)
class Change:
    """One difference: where (`part`, e.g. "layer" or "categories/0301"), what attribute, old and new."""

    part: str
    attribute: str
    old: Any
    new: Any
    summary: str


@dataclasses.dataclass(frozen=True)
class FieldChange:
    form: str                       # "record", "report" or "visit"
    path: str                       # "address", "members[].name"
    title: str
    kind: str                       # "added", "removed", "changed"
    changes: tuple[Change, ...] = ()

    @property
    def summary(self) -> list[str]:
        where = f"{FORM_TITLES.get(self.form, self.form)}："
        if self.kind == "added":
            return [f"{where}新增字段“{self.title}”（{self.path}）"]
        if self.kind == "removed":
            return [f"{where}删除字段“{self.title}”（{self.path}）"]
        return [f"{where}字段“{self.title}”{change.summary}" for change in self.changes]


@dataclasses.dataclass(frozen=True)
class ThemeDiff:
    fields: tuple[FieldChange, ...]
    forms: tuple[Change, ...]       # whole forms added or removed, UI settings changed
    layer: tuple[Change, ...]
    workflow: tuple[Change, ...]
    categories: tuple[Change, ...]
    general: tuple[Change, ...]

    @property
    def empty(self) -> bool:
        return not (self.fields or self.forms or self.layer or self.workflow or self.categories or self.general)

    def of_form(self, form: str, kind: str | None = None) -> list[FieldChange]:
        return [change for change in self.fields if change.form == form and kind in (None, change.kind)]

    @property
    def summary(self) -> list[str]:
        lines = [change.summary for change in self.general]
        lines += [change.summary for change in self.forms]
        for field in self.fields:
            lines += field.summary
        lines += [change.summary for group in (self.layer, self.categories, self.workflow) for change in group]
        return lines


def diff_versions(old: dict, new: dict) -> ThemeDiff:
    """The differences from theme document `old` to `new` (two versions, or a version and a draft)."""
    fields, forms = [], []
    for name in FORM_NAMES:
        old_form, new_form = old.get("forms", {}).get(name), new.get("forms", {}).get(name)
        label = FORM_TITLES[name]
        if old_form is None and new_form is not None:
            forms.append(Change(f"forms/{name}", "form", None, name, f"新增{label}"))
        elif old_form is not None and new_form is None:
            forms.append(Change(f"forms/{name}", "form", name, None, f"删除{label}"))
        fields += _field_changes(name, old_form or {}, new_form or {})
        old_ui, new_ui = old.get("ui", {}).get(name), new.get("ui", {}).get(name)
        if old_form is not None and new_form is not None and old_ui != new_ui:
            forms.append(Change(f"ui/{name}", "ui", old_ui, new_ui, f"{label}：界面设置（控件、顺序等）有变化"))
    return ThemeDiff(fields=tuple(fields), forms=tuple(forms), layer=tuple(_layer_changes(old, new)),
                     workflow=tuple(_workflow_changes(old.get("workflow", "standard"),
                                                      new.get("workflow", "standard"))),
                     categories=tuple(_category_changes(old.get("categories", []), new.get("categories", []))),
                     general=tuple(_general_changes(old, new)))


# -- fields ------------------------------------------------------------------------------------------------

def flatten(schema: dict) -> dict[str, dict]:
    """Every field of a form by path ("group.field", "rows[].field"), with the attributes a diff compares."""
    found: dict[str, dict] = {}
    _walk(schema, "", found)
    return found


def _walk(node: dict, prefix: str, found: dict) -> None:
    required = set(node.get("required", ()))
    gates = _gates(node)
    for name, field in (node.get("properties") or {}).items():
        if not isinstance(field, dict):
            continue
        path = f"{prefix}{name}"
        found[path] = _attributes(field, name in required, gates.get(name, []))
        items = field.get("items") if isinstance(field.get("items"), dict) else None
        if field.get("type") == "object" and field.get("format") != "geo-point":
            _walk(field, path + ".", found)
        elif field.get("type") == "array" and items and items.get("type") == "object":
            _walk(items, path + "[].", found)


def _gates(node: dict) -> dict[str, list[str]]:
    """For each field, the conditions under which it applies (canonical JSON of the `if`, with then/else)."""
    blocks = [node] + [block for block in node.get("allOf", ()) if isinstance(block, dict)]
    gates: dict[str, list[str]] = {}
    for block in blocks:
        if "if" not in block:
            continue
        condition = json.dumps(block["if"], ensure_ascii=False, sort_keys=True)
        for branch in ("then", "else"):
            part = block.get(branch) or {}
            for name in set(part.get("required", ())) | set(part.get("properties", {})):
                gates.setdefault(name, []).append(f"{branch}:{condition}")
    for trigger, dependants in (node.get("dependentRequired") or {}).items():
        for name in dependants:
            gates.setdefault(name, []).append(f"filled:{trigger}")
    return {name: sorted(values) for name, values in gates.items()}


def _options(field: dict) -> list | None:
    source = field.get("items") if field.get("type") == "array" and isinstance(field.get("items"), dict) else field
    if "enum" in source:
        return [[value, str(value)] for value in source["enum"]]
    if "oneOf" in source:
        return [[option.get("const"), option.get("title", str(option.get("const")))] for option in source["oneOf"]]
    return None


def _attributes(field: dict, required: bool, conditions: list[str]) -> dict:
    kind = field.get("format") or field.get("type")
    if field.get("type") == "array" and isinstance(field.get("items"), dict):
        items = field["items"]
        kind = "array:" + (items.get("format") or items.get("type", ""))
    return {"title": field.get("title", ""), "type": kind, "required": required,
            "limits": {name: field[name] for name in LIMITS if name in field}, "options": _options(field),
            "conditions": conditions, "description": field.get("description", ""), "default": field.get("default")}


def _type_name(kind) -> str:
    if isinstance(kind, str) and kind.startswith("array:"):
        return f"{TYPE_NAMES.get(kind[6:], kind[6:])}列表"
    return TYPE_NAMES.get(kind, str(kind))


def _field_changes(form: str, old: dict, new: dict) -> list[FieldChange]:
    before, after = flatten(old), flatten(new)
    changes = [FieldChange(form, path, after[path]["title"] or path, "added") for path in after if path not in before]
    changes += [FieldChange(form, path, before[path]["title"] or path, "removed")
                for path in before if path not in after]
    for path in after:
        if path in before and before[path] != after[path]:
            rows = tuple(_attribute_change(f"forms/{form}/{path}", name, before[path][name], after[path][name])
                         for name in ATTRIBUTES if before[path][name] != after[path][name])
            changes.append(FieldChange(form, path, after[path]["title"] or path, "changed", rows))
    return changes


def _attribute_change(part: str, name: str, old, new) -> Change:
    label = ATTRIBUTES[name]
    if name == "required":
        text = "改为必填" if new else "改为选填"
    elif name == "type":
        text = f"的类型由“{_type_name(old)}”改为“{_type_name(new)}”"
    elif name == "options":
        old_values = [value for value, _ in old or []]
        new_values = [value for value, _ in new or []]
        added = [str(value) for value in new_values if value not in old_values]
        removed = [str(value) for value in old_values if value not in new_values]
        parts = ([f"新增 {'、'.join(added)}"] if added else []) + ([f"删除 {'、'.join(removed)}"] if removed else [])
        text = "的选项" + ("；".join(parts) if parts else "的名称或顺序有变化")
    elif name == "limits":
        keys = sorted(set(old) | set(new))
        text = "的限制：" + "，".join(f"{key} {old.get(key, '无')}→{new.get(key, '无')}"
                                    for key in keys if old.get(key) != new.get(key))
    elif name == "conditions":
        text = "的显示条件有变化" if old and new else ("改为有条件显示" if new else "改为始终显示")
    else:
        text = f"的{label}由“{_plain(old)}”改为“{_plain(new)}”"
    return Change(part, name, old, new, text)


def _plain(value) -> str:
    return "" if value is None else str(value)


# -- the rest of the document ------------------------------------------------------------------------------

def _general_changes(old: dict, new: dict) -> list[Change]:
    return [Change(name, name, old.get(name), new.get(name),
                   f"{label}由“{_plain(old.get(name))}”改为“{_plain(new.get(name))}”" if name != "guide"
                   else f"{label}有修改")
            for name, label in GENERAL.items() if old.get(name) != new.get(name)]


def _layer_changes(old: dict, new: dict) -> list[Change]:
    before, after = old.get("layer", {}), new.get("layer", {})
    names = {"geometry": "几何类型", "source": "数据来源", "visible_to": "可见角色"}
    changes = [Change("layer", name, before.get(name), after.get(name),
                      f"图层{label}由“{_plain(before.get(name))}”改为“{_plain(after.get(name))}”")
               for name, label in names.items() if before.get(name) != after.get(name)]
    if before.get("style", {}) != after.get("style", {}):
        changes.append(Change("layer", "style", before.get("style"), after.get("style"), "图层样式（颜色、大小等）有变化"))
    return changes


def _added_removed(part: str, before: dict, after: dict, describe) -> list[Change]:
    """Change rows for the items of `after` not in `before` and back; `describe(verb, name, item)` says it,
    with 新增 or 删除 as the verb."""
    changes = [Change(f"{part}/{name}", "added", None, item, describe("新增", name, item))
               for name, item in after.items() if name not in before]
    return changes + [Change(f"{part}/{name}", "removed", item, None, describe("删除", name, item))
                      for name, item in before.items() if name not in after]


def _category_changes(old: list, new: list) -> list[Change]:
    before = {item.get("code"): item for item in old if isinstance(item, dict)}
    after = {item.get("code"): item for item in new if isinstance(item, dict)}
    changes = _added_removed("categories", before, after,
                             lambda verb, code, item: f"{verb}分类 {code}“{item.get('title', '')}”")
    labels = {"title": "名称", "parent": "大类", "department": "分拨部门", "description": "说明"}
    for code, item in after.items():
        if code in before and before[code] != item:
            for name, label in labels.items():
                if before[code].get(name) != item.get(name):
                    changes.append(Change(f"categories/{code}", name, before[code].get(name), item.get(name),
                                          f"分类 {code} 的{label}由“{_plain(before[code].get(name))}”"
                                          f"改为“{_plain(item.get(name))}”"))
    return changes


def _workflow_document(workflow) -> dict | None:
    if isinstance(workflow, dict):
        return workflow
    try:
        return definition.builtin(workflow).document
    except WorkflowError:
        return None


def _workflow_changes(old, new) -> list[Change]:
    if old == new:
        return []
    changes = []
    if isinstance(old, str) and isinstance(new, str):
        return [Change("workflow", "template", old, new, f"流程模板由“{old}”改为“{new}”")]
    if isinstance(old, str) != isinstance(new, str):
        text = f"流程由模板“{old}”改为自定义流程" if isinstance(old, str) else f"流程由自定义流程改为模板“{new}”"
        changes.append(Change("workflow", "kind", old if isinstance(old, str) else "inline",
                              new if isinstance(new, str) else "inline", text))
    before, after = _workflow_document(old), _workflow_document(new)
    if before is None or after is None:
        return changes
    return changes + _states_changes(before, after) + _transition_changes(before, after)


def _states_changes(old: dict, new: dict) -> list[Change]:
    before, after = old.get("states", {}), new.get("states", {})
    changes = _added_removed("workflow/states", before, after,
                             lambda verb, name, state: f"流程{verb}状态“{state.get('title', name)}”")
    for name, state in after.items():
        if name not in before or before[name] == state:
            continue
        title = state.get("title", name)
        if before[name].get("time_limit") != state.get("time_limit"):
            changes.append(Change(f"workflow/states/{name}", "time_limit", before[name].get("time_limit"),
                                  state.get("time_limit"),
                                  f"状态“{title}”的时限：{_hours(before[name].get('time_limit'))}→"
                                  f"{_hours(state.get('time_limit'))}"))
        others = [key for key in set(before[name]) | set(state)
                  if key != "time_limit" and before[name].get(key) != state.get(key)]
        if others:
            changes.append(Change(f"workflow/states/{name}", "state", before[name], state,
                                  f"状态“{title}”的设置（名称、超时处理等）有变化"))
    if old.get("due") != new.get("due"):
        changes.append(Change("workflow/due", "due", old.get("due"), new.get("due"),
                              f"办结总时限：{_hours(old.get('due'))}→{_hours(new.get('due'))}"))
    return changes


def _hours(limit) -> str:
    if not limit:
        return "无"
    return "，".join(f"{label} {limit[level]:g} 小时" for level, label in
                    (("normal", "一般"), ("urgent", "紧急"), ("critical", "特急")) if level in limit)


def _transition_changes(old: dict, new: dict) -> list[Change]:
    before = {item.get("name"): item for item in old.get("transitions", [])}
    after = {item.get("name"): item for item in new.get("transitions", [])}
    changes = _added_removed("workflow/transitions", before, after,
                             lambda verb, name, step: f"流程{verb}步骤“{step.get('title', name)}”")
    for name, step in after.items():
        if name not in before or before[name] == step:
            continue
        title = step.get("title", name)
        if before[name].get("roles") != step.get("roles"):
            changes.append(Change(f"workflow/transitions/{name}", "roles", before[name].get("roles"),
                                  step.get("roles"), f"步骤“{title}”的办理角色："
                                  f"{'、'.join(before[name].get('roles', []))}→{'、'.join(step.get('roles', []))}"))
        if any(before[name].get(key) != step.get(key) for key in set(before[name]) | set(step) if key != "roles"):
            changes.append(Change(f"workflow/transitions/{name}", "transition", before[name], step,
                                  f"步骤“{title}”的设置（名称、去向、表单等）有变化"))
    return changes
