"""write_xlsform(): a form schema (+ UI schema) -> an XLSForm workbook a department can keep editing.

The inverse of read_xlsform for everything our converter produces: survey, choices and settings
sheets, conditions written back as `relevant`, limits as `constraint`. What XLSForm cannot say is
listed by export_xlsform() (write_xlsform just returns the bytes).
"""
from __future__ import annotations

import copy
import io
from collections import defaultdict

from openpyxl import Workbook
from openpyxl.styles import Font

from ..conditions import blocks, mentioned
from ..schema_check import check_schema
from . import references
from .constraints import KEYWORDS, constraint_text
from .model import Unconverted, XLSFormError, XLSFormExport
from .question_types import BOOLEAN_NAMES, TIME_MESSAGES, TIME_PATTERNS
from .relevance import Sibling, relevant_text

_FIELD_KEYS = {"type", "title", "description", "readOnly", "default", "x-messages", "$comment"}
_EXTRA = ("minqing::format", "minqing::placeholder", "minqing::min_items", "minqing::max_items",
          "minqing::max_bytes", "minqing::add_label", "minqing::remove_label", "minqing::row_label")


DEFAULT_LANGUAGE = "中文"
_FROM_SOURCE = object()   # "language": as the imported spreadsheet had it (schema's x-xlsform), else 中文


def write_xlsform(schema: dict, ui: dict | None = None, *, title: str, form_id: str | None = None,
                  language=_FROM_SOURCE) -> bytes:
    """The .xlsx bytes of `schema` as an XLSForm (labels in the `label::<language>` column, or plain `label`
    when `language` is None)."""
    return export_xlsform(schema, ui, title=title, form_id=form_id, language=language).data


def export_xlsform(schema: dict, ui: dict | None = None, *, title: str, form_id: str | None = None,
                   language=_FROM_SOURCE) -> XLSFormExport:
    """Like write_xlsform, plus the list of what the spreadsheet cannot express (in Chinese).

    A form imported from an XLSForm remembers its `form_id` and label language (`x-xlsform`): they are kept
    unless given here. Labels never reference a field the form does not have (forms/xlsform/references.py)."""
    problems = check_schema(schema, ui)
    if problems:
        raise XLSFormError("表单定义有误，无法导出：" + "；".join(f"{p.pointer} {p.message}" for p in problems[:5]))
    origin = schema.get("x-xlsform") or {}
    if language is _FROM_SOURCE:
        language = origin["language"] if "language" in origin else DEFAULT_LANGUAGE
    form_id = form_id or origin.get("form_id") or "form"
    writer = _Writer(language)
    for key in schema:
        if key not in ("type", "title", "properties", "required", "if", "then", "else", "allOf",
                       "dependentRequired", "version", "x-xlsform"):
            writer.lost("", f"表单的“{key}”无法写入 XLSForm", key)
    schema = copy.deepcopy(schema)
    references.resolve(schema, known=references.field_names(schema), lost=writer.lost)
    writer.object(schema, ui or {}, "")
    settings = {"form_title": title, "form_id": form_id}
    if language:
        settings["default_language"] = language
    if schema.get("version") is not None:
        settings["version"] = str(schema["version"])
    return XLSFormExport(data=writer.workbook(settings), unconverted=writer.problems)


class _Writer:
    def __init__(self, language: str):
        self.language = language
        self.rows: list[dict] = []
        self.choices: list[dict] = []
        self.lists: set[str] = set()
        self.problems: list[Unconverted] = []

    def lost(self, path: str, reason: str, column: str = "type"):
        self.problems.append(Unconverted(reason=reason, name=path or None, column=column))

    def col(self, name: str) -> str:
        return f"{name}::{self.language}" if self.language else name

    # -- objects and their conditions -----------------------------------------------------------

    def object(self, obj: dict, ui: dict, prefix: str):
        props = obj.get("properties", {})
        listed = [n for n in ui.get("ui:order", []) if n in props]
        order = listed + [n for n in props if n not in listed]
        siblings = {n: Sibling(n, props[n], _is_checkbox(props[n], ui.get(n, {}))) for n in props}
        gates = self.gates(obj, prefix)
        for name in order:
            path = prefix + name
            row_extra = self.condition(name, path, obj, gates.get(name, []), siblings)
            self.field(name, props[name], ui.get(name, {}), path, row_extra)

    def gates(self, obj: dict, prefix: str) -> dict[str, list]:
        out = defaultdict(list)
        for block in blocks(obj):
            then, other = block.get("then", {}), block.get("else", {})
            for branch, holds, names in ((then, True, mentioned(then) - mentioned(other)),
                                         (other, False, mentioned(other) - mentioned(then))):
                for name in sorted(names):
                    out[name].append((block["if"], holds, name in branch.get("required", []),
                                      branch.get("properties", {}).get(name, {})))
            for name in mentioned(then) & mentioned(other):
                self.lost(prefix + name, "同一条件的“是”“否”两支都提到此题，无法写成 relevant", "relevant")
        for trigger, names in obj.get("dependentRequired", {}).items():
            for name in names:
                out[name].append(({"required": [trigger]}, True, True, {}))
        return out

    def condition(self, name, path, obj, entries, siblings) -> dict:
        """relevant / required cells of one field, from its gates."""
        base = name in obj.get("required", [])
        if base or not entries:
            if entries and any(e[3] for e in entries):
                self.lost(path, "条件下的额外限制无法写入 XLSForm，已省略", "constraint")
            return {"_required": base, "_branch": {}}
        try:
            relevant = relevant_text([(e[0], e[1]) for e in entries], siblings)
        except (ValueError, KeyError):
            self.lost(path, "显示条件无法写成 XLSForm 的 relevant，已省略", "relevant")
            return {"_required": False, "_branch": {}}
        flags = {e[2] for e in entries}
        if len(flags) > 1:
            self.lost(path, "此题只在部分条件下必填，XLSForm 只能写成“显示时不必填”", "required")
        branch = {}
        for entry in entries:
            branch.update(entry[3])
        if branch:
            self.lost(path, "条件下的额外限制已并入本题的约束（显示时检查）", "constraint")
        return {"relevant": relevant, "_required": flags == {True}, "_branch": branch}

    # -- fields --------------------------------------------------------------------------------

    def field(self, name: str, field: dict, ui: dict, path: str, extra: dict):
        required, branch = extra.pop("_required"), extra.pop("_branch")
        kind = field["type"]
        if kind == "object" and field.get("format") != "geo-point":
            return self.group(name, field, ui, path, extra, required)
        if kind == "array" and field["items"]["type"] == "object":
            return self.repeat(name, field, ui, path, extra, required)
        if kind == "array" and field["items"].get("format") == "attachment":
            return self.attachments(name, field, ui, path, extra, required)
        row = {"name": name, **self.texts(field, name, path), **extra}
        if required:
            row["required"] = "yes"
        keywords = dict(branch)
        row["type"] = self.scalar_type(name, field, ui, path, row, keywords)
        self.common(field, path, row, keywords)
        self.rows.append(row)

    def texts(self, field: dict, name: str, path: str) -> dict:
        row = {self.col("label"): field.get("title", name)}
        if "title" not in field:
            self.lost(path, "没有标题，导出时用字段名作标题", "label")
        if field.get("description"):
            row[self.col("hint")] = field["description"]
        return row

    def scalar_type(self, name, field, ui, path, row, keywords) -> str:
        kind, widget = field["type"], ui.get("ui:widget")
        item = field["items"] if kind == "array" else field
        for key in KEYWORDS & set(field):
            keywords[key] = field[key]
        if ui.get("ui:placeholder"):
            row["minqing::placeholder"] = ui["ui:placeholder"]
        if kind == "boolean":
            if widget in ("radio", "select"):
                self.boolean_list()
                if widget == "select":
                    row["appearance"] = "minimal"
                return "select_one boolean"
            return "acknowledge"
        if "enum" in item or "oneOf" in item:
            list_name = self.option_list(name, item, path, multiple=kind == "array")
            if kind == "array":
                if not field.get("uniqueItems"):
                    self.lost(path, "多选题允许重复选择（uniqueItems 为 false）无法写入 XLSForm", "type")
                return f"select_multiple {list_name}"
            if widget != "radio":
                row["appearance"] = "minimal"
            return f"select_one {list_name}"
        if kind == "object":
            return "geopoint"
        if kind in ("integer", "number"):
            return "integer" if kind == "integer" else "decimal"
        return self.string_type(field, ui, row, keywords)

    def string_type(self, field, ui, row, keywords) -> str:
        fmt = field.get("format")
        if fmt == "attachment":
            return self.attachment_cells(field, ui, row)
        if fmt in ("date", "date-time"):
            return "date" if fmt == "date" else "dateTime"
        if fmt:
            row["minqing::format"] = fmt
        if keywords.get("pattern") in TIME_PATTERNS and field.get("x-messages", {}).get("pattern") in TIME_MESSAGES \
                and set(keywords) == {"pattern"}:
            keywords.clear()
            row["_time"] = True
            return "time"
        if ui.get("ui:widget") == "textarea":
            row["appearance"] = "multiline"
            if ui.get("ui:rows"):
                row["parameters"] = f"rows={ui['ui:rows']}"
        return "text"

    def attachment_cells(self, item: dict, ui: dict, row: dict) -> str:
        spec = item.get("x-attachment", {})
        accept = spec.get("accept")
        if spec.get("maxBytes"):
            row["minqing::max_bytes"] = spec["maxBytes"]
        if ui.get("ui:capture"):
            row["appearance"] = "new-front" if ui["ui:capture"] == "user" else "new"
        if accept == ["image/*"]:
            return "image"
        if accept:
            row["body::accept"] = ",".join(accept)
        return "image" if accept and all(a.startswith("image/") for a in accept) else "file"

    def common(self, field: dict, path: str, row: dict, keywords: dict):
        messages = dict(field.get("x-messages", {}))
        if row.pop("_time", False):
            messages.pop("pattern", None)
        if field.get("readOnly"):
            row["read_only"] = "yes"
        if "default" in field:
            row["default"] = _default_text(field, row["type"])
        if "required" in messages:
            row[self.col("required_message")] = messages.pop("required")
        try:
            text = constraint_text(keywords)
        except ValueError:
            self.lost(path, "正则表达式同时含有单引号和双引号，无法写入 constraint", "constraint")
            keywords.pop("pattern", None)
            text = constraint_text(keywords)
        if text:
            row["constraint"] = text
            used = {messages.pop(k) for k in list(messages) if k in keywords}
            if len(used) > 1:
                self.lost(path, "各项限制的提示语不同，XLSForm 只能写一条 constraint_message，已用其中一条",
                          "constraint_message")
            if used:
                row[self.col("constraint_message")] = sorted(used)[0]
        for key in messages:
            self.lost(path, f"“{key}”的自定义提示语无法写入 XLSForm", "x-messages")
        for key in field:
            if key not in _FIELD_KEYS | KEYWORDS | {"format", "enum", "oneOf", "items", "uniqueItems", "x-attachment"}:
                self.lost(path, f"“{key}”无法写入 XLSForm", key)

    def option_list(self, name: str, item: dict, path: str, multiple: bool) -> str:
        list_name, n = name, 2
        while list_name in self.lists:
            list_name, n = f"{name}_{n}", n + 1
        self.lists.add(list_name)
        pairs = [(o["const"], o["title"]) for o in item["oneOf"]] if "oneOf" in item else \
            [(v, str(v)) for v in item["enum"]]
        if item["type"] != "string":
            self.lost(path, "数字选项值导出后将成为文本选项", "type")
        for value, label in pairs:
            value = str(value)
            if multiple and " " in value:
                self.lost(path, f"多选项“{value}”含空格，XLSForm 不允许，已改为下划线", "choices")
                value = value.replace(" ", "_")
            self.choices.append({"list_name": list_name, "name": value, self.col("label"): label})
        return list_name

    def boolean_list(self):
        if "boolean" not in self.lists:
            self.lists.add("boolean")
            for value, label in zip(BOOLEAN_NAMES, ("是", "否"), strict=True):
                self.choices.append({"list_name": "boolean", "name": value, self.col("label"): label})

    # -- containers ----------------------------------------------------------------------------

    def group(self, name, field, ui, path, extra, required):
        if required != _has_required(field):
            self.lost(path, "分组是否必填由组内必填题决定，此处的设置无法写入 XLSForm", "required")
        self.begin("begin_group", name, field, path, extra)
        self.object(field, ui, path + ".")
        self.rows.append({"type": "end_group"})

    def repeat(self, name, field, ui, path, extra, required):
        row = self.begin("begin_repeat", name, field, path, extra)
        if required:
            row["required"] = "yes"
        labels = {"ui:addLabel": "minqing::add_label", "ui:removeLabel": "minqing::remove_label",
                  "ui:rowLabel": "minqing::row_label"}
        row.update({col: ui[key] for key, col in labels.items() if ui.get(key)})
        if field["items"].get("title", field.get("title")) != field.get("title"):
            self.lost(path, "每项的标题无法单独写入 XLSForm，与重复组标题相同", "label")
        self.object(field["items"], ui.get("items", {}), path + "[].")
        self.rows.append({"type": "end_repeat"})

    def attachments(self, name, field, ui, path, extra, required):
        self.begin("begin_repeat", name, field, path, extra)
        row = {"name": "file", self.col("label"): field.get("title", name)}
        if required:
            row["required"] = "yes"
        row["type"] = self.attachment_cells(field["items"], ui, row)
        for key in field["items"]:
            if key not in ("type", "format", "x-attachment"):
                self.lost(path, f"附件项的“{key}”无法写入 XLSForm", key)
        self.rows.append(row)
        self.rows.append({"type": "end_repeat"})

    def begin(self, kind, name, field, path, extra) -> dict:
        row = {"type": kind, "name": name, **self.texts(field, name, path), **extra}
        for keyword, col in (("minItems", "minqing::min_items"), ("maxItems", "minqing::max_items")):
            if keyword in field:
                row[col] = field[keyword]
        for key in field:
            if key in ("x-messages", "readOnly", "default", "dependentRequired", "additionalProperties", "uniqueItems"):
                self.lost(path, f"“{key}”无法写入 XLSForm", key)
        self.rows.append(row)
        return row

    # -- the workbook ----------------------------------------------------------------------------

    def workbook(self, settings: dict) -> bytes:
        book = Workbook()
        survey = book.active
        survey.title = "survey"
        first = ["type", "name", self.col("label"), self.col("hint"), "required", self.col("required_message"),
                 "relevant", "constraint", self.col("constraint_message"), "default", "appearance", "parameters",
                 "read_only", "body::accept", *_EXTRA]
        _sheet(survey, first, self.rows)
        _sheet(book.create_sheet("choices"), ["list_name", "name", self.col("label")], self.choices)
        _sheet(book.create_sheet("settings"), list(settings), [settings])
        out = io.BytesIO()
        book.save(out)
        return out.getvalue()


def _sheet(sheet, columns: list[str], rows: list[dict]):
    used = [c for c in columns if c in ("type", "name", "list_name") or any(c in r for r in rows)]
    sheet.append(used)
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for row in rows:
        sheet.append([row.get(c) for c in used])


def _is_checkbox(field: dict, ui: dict) -> bool:
    return field.get("type") == "boolean" and ui.get("ui:widget") not in ("radio", "select")


def _has_required(obj: dict) -> bool:
    return bool(obj.get("required"))


def _default_text(field: dict, xls_type: str):
    value = field["default"]
    if isinstance(value, bool):
        return ("OK" if value else "false") if xls_type == "acknowledge" else ("true" if value else "false")
    if isinstance(value, list):
        return " ".join(str(v) for v in value)
    if isinstance(value, dict):
        return f"{value['lat']} {value['lon']} 0 0"
    return value
