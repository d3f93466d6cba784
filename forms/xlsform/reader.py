"""read_xlsform(): an XLSForm spreadsheet -> a schema and UI schema our forms engine accepts.

pyxform reads the workbook (`get_xlsform`) and turns it into its JSON survey (`workbook_to_json`):
types de-aliased, `select_one list` split, labels grouped by language. We walk that tree; the survey
rows themselves (pyxform's de-aliased sheet) only give row numbers and the `repeat_count` cell.
"""
from __future__ import annotations

import json
import re
from pathlib import Path

from pyxform import aliases
from pyxform.errors import PyXFormError
from pyxform.parsing.sheet_headers import dealias_and_group_headers
from pyxform.question import MultipleChoiceQuestion
from pyxform.xls2json import workbook_to_json
from pyxform.xls2json_backends import get_xlsform

from ..schema_check import check_schema
from .model import XLSFormError, XLSFormImport
from . import references
from .names import Namer
from .context import Context, Question, yes_no
from .question_types import attachment_schema, canonical_type, skip_reason
from .questions import question
from .relevance import Sibling, relevant_gates
from .xpath import XPathError

_CHINESE = re.compile(r"中文|汉语|漢語|简体|繁體|普通话|chinese|mandarin|(^|[^a-z])zh([^a-z]|$)", re.IGNORECASE)


def read_xlsform(source, *, filename: str | None = None) -> XLSFormImport:
    """Convert an XLSForm (.xlsx, .xls or .csv: a path, bytes or a binary file) into our form schema.

    `filename` names the form when `source` is bytes and the settings sheet has no form_id.
    Raises XLSFormError when pyxform cannot read the file at all.
    """
    data, stem = _load(source, filename)
    warnings: list[str] = []
    try:
        definition = get_xlsform(data)
    except PyXFormError as exc:
        raise XLSFormError(f"无法读取 XLSForm：{exc}") from exc
    except Exception as exc:  # a hostile or damaged file: openpyxl/xlrd/csv raise their own errors
        raise XLSFormError("无法读取 XLSForm：文件不是 .xlsx、.xls 或 .csv 表格，或已损坏") from exc
    try:
        survey = workbook_to_json(definition, form_name=None, fallback_form_name=stem or "form",
                                  warnings=warnings)
        rows = _rows(definition)
    except PyXFormError as exc:
        raise XLSFormError(f"无法读取 XLSForm：{exc}") from exc
    default_language = survey.get("default_language")
    default_language = None if default_language in (None, "default") else default_language
    language = _language(survey, default_language)
    ctx = Context(language, default_language)
    walker = _Walker(ctx, rows)
    schema, ui = walker.root(survey)
    _make_acceptable(schema, ui, ctx)
    references.resolve(schema, known=references.field_names(schema), renamed=walker.namer.renamed,
                       lost=lambda path, reason, column: ctx.skip(None, path or None, reason, column))
    form_id = survey.get("id_string") or stem or "form"
    # where the form came from, so that its export keeps its form_id and its label language (docs/forms.md)
    schema["x-xlsform"] = {"form_id": str(form_id)[:100],
                           "language": None if language in (None, "default") else str(language)[:60]}
    ctx.unconverted.sort(key=lambda u: u.row or 0)
    return XLSFormImport(
        title=schema.get("title", ""), form_id=form_id, schema=schema, ui=ui,
        choices={name: [{"name": str(c.get("name")), "label": ctx.text(c.get("label")) or str(c.get("name"))}
                        for c in items] for name, items in survey.get("choices", {}).items()},
        default_language=default_language, language=None if language == "default" else language,
        unconverted=ctx.unconverted, renamed=walker.namer.renamed, warnings=warnings)


def _load(source, filename):
    if isinstance(source, (str, Path)):
        path = Path(source)
        return path.read_bytes(), Path(filename).stem if filename else path.stem
    if hasattr(source, "read"):
        name = filename or getattr(source, "name", None) or getattr(source, "filename", None)
        return source.read(), Path(name).stem if isinstance(name, str) else None
    return bytes(source), Path(filename).stem if filename else None


def _rows(definition) -> list[dict]:
    """The survey rows, de-aliased as pyxform sees them; index i is sheet row i + 2."""
    sheet = dealias_and_group_headers(
        sheet_name="survey", sheet_data=definition.survey or [], sheet_header=definition.survey_header,
        header_aliases=aliases.survey_header, header_columns=set(MultipleChoiceQuestion.get_slot_names()))
    return list(sheet.data)


def _language(survey: dict, default_language: str | None) -> str | None:
    """Prefer a Chinese label column; else the default language; else the plain `label`."""
    seen: list[str] = []

    def collect(element):
        for key in ("label", "hint"):
            if isinstance(element.get(key), dict):
                seen.extend(k for k in element[key] if k not in seen)
        choices = element.get("choices", [])
        choices = [c for items in choices.values() for c in items] if isinstance(choices, dict) else choices
        for child in element.get("children", []) + choices:
            collect(child)
    collect(survey)
    chinese = next((lang for lang in seen if _CHINESE.search(lang)), None)
    if chinese:
        return chinese
    if default_language in seen:
        return default_language
    return "default" if "default" in seen or not seen else seen[0]


class _Walker:
    def __init__(self, ctx: Context, rows: list[dict]):
        self.ctx, self.rows, self.cursor = ctx, rows, 0
        self.copying = False  # building the 2nd, 3rd… copy of a loop's questions: no rows of their own
        self.namer = Namer(ctx)

    def row_of(self, element: dict) -> tuple[int | None, dict]:
        """The sheet row of an element: the next row at or after the cursor with its name."""
        if self.copying:
            return None, {}
        name = element.get("name")
        for i in range(self.cursor, len(self.rows)):
            if self.rows[i].get("name") == name:
                self.cursor = i + 1
                return i + 2, self.rows[i]
        return None, {}

    def root(self, survey: dict) -> tuple[dict, dict]:
        schema, ui = self.object(survey.get("children", []), {"type": "object", "title": survey.get("title") or ""})
        if survey.get("version"):
            schema["version"] = str(survey["version"])
        return schema, ui

    def object(self, children: list[dict], schema: dict) -> tuple[dict, dict]:
        members: list[Question] = []
        names = self.namer.scope()
        for element in children:
            member = self.member(element)
            if member is not None:
                member.name = names.name(member.xls_name, member.row)
                members.append(member)
        return _assemble(schema, members, self.ctx)

    def member(self, element: dict) -> Question | None:
        kind = element.get("type")
        if kind in ("group", "repeat"):
            if element.get("control", {}).get("bodyless") and element.get("name") == "meta":
                for child in element.get("children", []):  # instanceID and friends, added by pyxform
                    row, _ = self.row_of(child)
                    if row is not None:
                        self.ctx.skip(row, child["name"], skip_reason(child) or "元数据已跳过")
                return None
            row, cells = self.row_of(element)
            return self.group(element, row) if kind == "group" else self.repeat(element, row, cells)
        if kind == "loop":
            return self.loop(element)
        row, _ = self.row_of(element)
        if row is None and kind == "calculate":
            return None  # pyxform's own helper, e.g. <repeat>_count for a fixed repeat_count
        return question(element, row, self.ctx)

    def loop(self, element: dict) -> Question | None:
        """`begin_loop over list`: a group holding one group per choice, as pyxform's XForm has it."""
        row, _ = self.row_of(element)
        q = self.container(element, row)
        names, members = self.namer.scope(), []
        for i, column in enumerate(element.get("columns", [])):
            label = column.get("label") or column["name"]
            group = {"type": "group", "name": column["name"], "label": label,
                     "children": [_with_label(child, label) for child in element.get("children", [])]}
            member = self.group(group, row) if i == 0 else self.copy(group, row)
            if member is not None:
                member.name = names.name(member.xls_name, row)
                members.append(member)
        if not members:
            self.ctx.skip(row, q.xls_name, "循环组中没有可转换的题目，已跳过", "type")
            return None
        title = self.ctx.text(element.get("label")) or q.xls_name
        q.schema, q.ui = _assemble({"type": "object", "title": title}, members, self.ctx)
        q.required = bool(q.schema.get("required"))
        return q

    def copy(self, group: dict, row) -> Question | None:
        """A further copy of a loop's questions: no rows of its own, its problems already listed once."""
        listed, self.ctx.unconverted, self.copying = self.ctx.unconverted, [], True
        try:
            return self.group(group, row)
        finally:
            self.ctx.unconverted, self.copying = listed, False

    def container(self, element: dict, row) -> Question:
        q = Question(xls_name=element["name"], schema={}, row=row)
        q.relevant = element.get("bind", {}).get("relevant")
        for key in ("required", "constraint", "readonly"):
            if key == "required" and element.get("type") == "repeat":
                continue  # a required repeat: at least one row (read in repeat())
            if element.get("bind", {}).get(key):
                self.ctx.skip(row, q.xls_name, f"分组的“{key}”无法转换，已忽略", key)
        return q

    def group(self, element: dict, row) -> Question | None:
        q = self.container(element, row)
        title = self.ctx.text(element.get("label")) or q.xls_name
        schema, ui = self.object(element.get("children", []), {"type": "object", "title": title})
        hint = self.ctx.text(element.get("hint"))
        if hint:
            schema = {"type": "object", "title": title, "description": hint,
                      **{k: v for k, v in schema.items() if k not in ("type", "title")}}
        if not schema["properties"]:
            self.ctx.skip(row, q.xls_name, "分组中没有可转换的题目，已跳过", "type")
            return None
        q.schema, q.ui, q.required = schema, ui, bool(schema.get("required"))
        return q

    def repeat(self, element: dict, row, cells: dict) -> Question | None:
        q = self.container(element, row)
        title = self.ctx.text(element.get("label")) or q.xls_name
        children = element.get("children", [])
        single = children[0] if len(children) == 1 else None
        if single is not None and canonical_type(single.get("type", "")) in ("photo", "image", "file") \
                and not single.get("bind", {}).get("relevant"):
            items = self.attachments(single)
            if items is None:
                return None
            q.schema = {"type": "array", "title": title, "items": items[0]}
            q.ui, q.required = items[1], items[2]
        else:
            q.required = yes_no(element.get("bind", {}).get("required"), self.ctx, row, q.xls_name, "required")
            schema, ui = self.object(element.get("children", []), {"type": "object", "title": title})
            if not schema["properties"]:
                self.ctx.skip(row, q.xls_name, "重复组中没有可转换的题目，已跳过", "type")
                return None
            q.schema = {"type": "array", "title": title, "items": schema}
            extra = element.get("minqing", {})
            labels = {"add_label": "ui:addLabel", "remove_label": "ui:removeLabel", "row_label": "ui:rowLabel"}
            q.ui = {key: extra[col] for col, key in labels.items() if extra.get(col)}
            if ui:
                q.ui["items"] = ui
        hint = self.ctx.text(element.get("hint"))
        if hint:
            q.schema = {"type": "array", "title": title, "description": hint,
                        **{k: v for k, v in q.schema.items() if k not in ("type", "title")}}
        self.item_counts(element, cells, q)
        return q

    def attachments(self, element: dict):
        row, _ = self.row_of(element)
        inner = Question(xls_name=element["name"], schema={}, row=row)
        schema = attachment_schema(element, inner, self.ctx, image=canonical_type(element["type"]) != "file")
        if schema is None:
            return None
        required = yes_no(element.get("bind", {}).get("required"), self.ctx, row, inner.xls_name, "required")
        return schema, inner.ui, required

    def item_counts(self, element: dict, cells: dict, q: Question):
        extra = element.get("minqing", {})
        for column, keyword in (("min_items", "minItems"), ("max_items", "maxItems")):
            if str(extra.get(column, "")).isdigit():
                q.schema[keyword] = int(extra[column])
        count = str(cells.get("repeat_count") or "").strip()
        if count.isdigit() and int(count) > 0:
            q.schema["minItems"] = q.schema["maxItems"] = int(count)
        elif count:
            self.ctx.skip(q.row, q.xls_name, f"重复次数（repeat_count）“{count}”不是固定数字，无法转换，已忽略",
                          "repeat_count")


def _assemble(schema: dict, members: list[Question], ctx: Context) -> tuple[dict, dict]:
    """Properties, required and the conditional blocks of one object (root, group or repeat row)."""
    properties, ui, required = {}, {}, []
    for m in members:
        properties[m.name] = m.schema
        if m.ui:
            ui[m.name] = m.ui
    scope = {m.xls_name: Sibling(m.name, m.schema, m.checkbox) for m in members
             if not _container(m.schema)}
    blocks: dict[str, dict] = {}
    dependent: dict[str, list[str]] = {}
    for m in members:
        gates = _gates(m, scope, ctx)
        if not gates:
            if m.required:
                required.append(m.name)
            continue
        if m.required and len(gates) == 1 and not gates[0].tests and len(gates[0].present) == 1 and gates[0].holds:
            dependent.setdefault(gates[0].present[0], []).append(m.name)
            continue
        for gate in gates:
            condition = gate.if_schema()
            block = blocks.setdefault(json.dumps(condition, sort_keys=True, ensure_ascii=False),
                                      {"if": condition, "then": {}, "else": {}})
            branch = block["then" if gate.holds else "else"]
            if m.required:
                branch.setdefault("required", []).append(m.name)
            else:
                branch.setdefault("properties", {})[m.name] = {}
    out = dict(schema, properties=properties)
    if required:
        out["required"] = required
    if dependent:
        out["dependentRequired"] = dependent
    cleaned = [{k: v for k, v in b.items() if v} for b in blocks.values()]
    if len(cleaned) == 1:
        out.update(cleaned[0])
    elif cleaned:
        out["allOf"] = cleaned
    return out, ui


def _with_label(element: dict, column_label):
    """A copy of a loop question with `%(label)s` replaced by the column's label (per language)."""
    def fill(value, language=None):
        if isinstance(value, dict):
            return {k: fill(v, k) for k, v in value.items()}
        if not isinstance(value, str):
            return value
        text = column_label.get(language, next(iter(column_label.values()), "")) \
            if isinstance(column_label, dict) else column_label
        return value.replace("%(label)s", text)
    copy = dict(element, label=fill(element.get("label")), hint=fill(element.get("hint")))
    if "children" in element:
        copy["children"] = [_with_label(child, column_label) for child in element["children"]]
    return {k: v for k, v in copy.items() if v is not None}


def _container(schema: dict) -> bool:
    return (schema["type"] == "object" and schema.get("format") != "geo-point") or \
        (schema["type"] == "array" and schema["items"]["type"] == "object")


def _gates(m: Question, scope: dict, ctx: Context):
    if not m.relevant:
        return []
    try:
        gates = relevant_gates(m.relevant, scope)
    except XPathError as exc:
        note = "，必填已取消" if m.required else ""
        ctx.skip(m.row, m.xls_name, f"显示条件“{m.relevant}”无法转换（{exc}），此题将始终显示{note}", "relevant")
        m.required = False
        return []
    if any(name == m.name for g in gates for name in list(g.tests) + g.present):
        ctx.skip(m.row, m.xls_name, "显示条件引用了本题自己，已忽略", "relevant")
        return []
    return gates


def _make_acceptable(schema: dict, ui: dict, ctx: Context):
    """A last line: whatever the engine still refuses is dropped (and listed), so the rest imports."""
    for _ in range(100):
        problems = check_schema(schema, ui)
        if not problems:
            return
        problem = problems[0]
        parts = [p.replace("~1", "/").replace("~0", "~") for p in problem.pointer.split("/")[1:]]
        if problem.source == "ui":
            dropped, column = _drop_ui(ui, parts), "ui"
        else:
            dropped, column = _drop_field(schema, ui, parts), "type"
        if dropped is None:
            raise XLSFormError(f"转换结果不被表单引擎接受：{problem.message}（{problem.pointer}）")
        ctx.skip(None, dropped, f"转换结果不被表单引擎接受（{problem.message}），已跳过", column)


def _drop_ui(ui: dict, parts: list[str]) -> str | None:
    node = ui
    for part in parts[:-1]:
        node = node.get(part) if isinstance(node, dict) else None
    if not parts or not isinstance(node, dict) or parts[-1] not in node:
        return None
    del node[parts[-1]]
    return ".".join(p for p in parts if p != "items")


def _drop_field(schema: dict, ui: dict, parts: list[str]) -> str | None:
    """Remove the field the pointer is inside of (and its UI); its dotted path, or None."""
    cut = None
    for i, part in enumerate(parts[:-1]):
        if part in ("if", "then", "else", "allOf", "dependentRequired"):
            break
        if part == "properties":
            cut = i
    if cut is None:
        return None
    parent, parent_ui = schema, ui
    for part in parts[:cut]:
        parent = parent[int(part)] if isinstance(parent, list) else parent[part]
        if part != "properties" and isinstance(parent_ui, dict):
            parent_ui = parent_ui.get(part, {})
    name = parts[cut + 1]
    parent["properties"].pop(name, None)
    if isinstance(parent_ui, dict):
        parent_ui.pop(name, None)
    _forget(parent, name)
    return ".".join(p for p in parts[:cut + 2] if p not in ("properties", "items"))


def _forget(obj: dict, name: str):
    """Remove every mention of a dropped property from its object; a condition on it goes too."""
    if name in obj.get("required", []):
        obj["required"].remove(name)
    dependent = {t: [d for d in deps if d != name] for t, deps in obj.get("dependentRequired", {}).items()
                 if t != name}
    obj.pop("dependentRequired", None)
    if any(dependent.values()):
        obj["dependentRequired"] = {t: deps for t, deps in dependent.items() if deps}
    kept = []
    for block in ([{k: obj.pop(k) for k in ("if", "then", "else") if k in obj}] if "if" in obj else []) + \
            obj.pop("allOf", []):
        if name in block["if"].get("properties", {}) or name in block["if"].get("required", []):
            continue
        for branch in (block.get("then", {}), block.get("else", {})):
            if name in branch.get("required", []):
                branch["required"].remove(name)
            branch.get("properties", {}).pop(name, None)
        kept.append(block)
    if len(kept) == 1:
        obj.update(kept[0])
    elif kept:
        obj["allOf"] = kept
