"""One XLSForm question (as pyxform parsed it) -> one field schema and its UI, or a reason it cannot be.

Groups and repeats are built by reader.py, which calls `question()` for the other rows. Here: the
columns every question shares (label, hint, required, read_only, constraint, default, …); the types
themselves are in question_types.py. Extension columns `minqing::…` carry what XLSForm has no column
for (see docs/forms.md); ODK tools ignore them.
"""
from __future__ import annotations

import re

from jsonschema import Draft202012Validator

from .. import regex
from ..formats import FORMAT_CHECKER
from .constraints import constraint_keywords
from .context import Context, Question, yes_no
from .question_types import BUILDERS, canonical_type, skip_reason
from .xpath import XPathError

_QUIET_APPEARANCES = {"minimal", "autocomplete", "multiline", "numbers", "new", "new-front", "horizontal",
                      "horizontal-compact", "vertical", "compact", "quick", "field-list", "table-list",
                      "columns", "likert", "thousands-sep"}
_KNOWN_KEYS = {"type", "name", "label", "hint", "bind", "control", "default", "choices", "itemset", "list_name",
               "parameters", "children", "choice_filter", "minqing", "columns", "_dynamic_default", "actions",
               "guidance_hint", "sms_field"}
_KNOWN_BIND = {"required", "relevant", "constraint", "jr:constraintMsg", "jr:requiredMsg", "readonly",
               "orx:max-pixels"}
_KNOWN_CONTROL = {"appearance", "rows", "accept", "jr:count", "bodyless", "start", "end", "step"}


def question(element: dict, row: int | None, ctx: Context) -> Question | None:
    """The field for a non-container question, or None (recorded in ctx) when it cannot be converted."""
    name = element["name"]
    kind = canonical_type(element.get("type", ""))
    reason = skip_reason(element)
    if reason:
        ctx.skip(row, name, reason)
        return None
    builder = BUILDERS.get(kind)
    if builder is None:
        ctx.skip(row, name, f"不支持的题型“{kind}”，已跳过")
        return None
    q = Question(xls_name=name, schema={}, row=row)
    if builder(element, q, ctx) is False:
        return None
    _common(element, q, ctx)
    return q


def _common(element: dict, q: Question, ctx: Context):
    name, row = q.xls_name, q.row
    bind, control, extra = element.get("bind", {}), element.get("control", {}), element.get("minqing", {})
    title = ctx.text(element.get("label")) or name
    q.schema = {"type": q.schema.pop("type"), "title": title, **q.schema}
    if "${" in title:
        ctx.skip(row, name, "标签中的 ${…} 引用无法显示实际值，按原文显示", "label")
    hint = ctx.text(element.get("hint"))
    if hint:
        q.schema["description"] = hint
    q.required = yes_no(bind.get("required"), ctx, row, name, "required")
    if yes_no(bind.get("readonly"), ctx, row, name, "read_only"):
        q.schema["readOnly"] = True
    q.relevant = bind.get("relevant")
    messages = dict(q.schema.pop("x-messages", {}))
    if ctx.text(bind.get("jr:requiredMsg")):
        messages["required"] = ctx.text(bind["jr:requiredMsg"])
    if bind.get("constraint"):
        _constraint(bind, q, ctx, messages)
    if messages:
        q.schema["x-messages"] = messages
    if "placeholder" in extra and _placeholder_ok(q.schema):
        q.ui["ui:placeholder"] = extra["placeholder"]
    if element.get("default") is not None:
        _default(element, q, ctx)
    _leftovers(element, bind, control, q, ctx)


def _placeholder_ok(schema: dict) -> bool:
    return schema["type"] in ("string", "integer", "number") and "enum" not in schema and "oneOf" not in schema \
        and schema.get("format") != "attachment"


def _constraint(bind: dict, q: Question, ctx: Context, messages: dict):
    kind = q.schema["type"]
    if kind == "array" and q.schema["items"].get("format") != "attachment":
        kind = "choices"
    elif kind == "string" and (q.schema.get("format") or "enum" in q.schema or "oneOf" in q.schema):
        kind = "formatted"
    try:
        keywords = constraint_keywords(bind["constraint"], kind)
    except XPathError as exc:
        ctx.skip(q.row, q.xls_name, f"约束“{bind['constraint']}”无法转换（{exc}），已忽略", "constraint")
        return
    if "pattern" in keywords:
        try:
            regex.compile_pattern(keywords["pattern"])
        except re.error as exc:
            ctx.skip(q.row, q.xls_name, f"约束中的正则表达式无效（{exc}），已忽略", "constraint")
            return
        slow = regex.slow_pattern_reason(keywords["pattern"])
        if slow:  # the pattern would run on every submission: refuse it here, keep the question
            ctx.skip(q.row, q.xls_name, f"题目“{q.xls_name}”约束中的正则表达式可能使校验极慢（{slow}），已拒收此约束",
                     "constraint")
            return
    clash = [k for k in keywords if k in q.schema and q.schema[k] != keywords[k]]
    if clash:
        ctx.skip(q.row, q.xls_name, f"约束“{bind['constraint']}”与题型自带的限制冲突，已忽略", "constraint")
        return
    q.schema.update(keywords)
    message = ctx.text(bind.get("jr:constraintMsg"))
    if message:
        messages.update({k: message for k in keywords})


def _default(element: dict, q: Question, ctx: Context):
    raw = str(element["default"])
    if element.get("_dynamic_default"):
        ctx.skip(q.row, q.xls_name, f"动态默认值“{raw}”无法转换，已忽略", "default")
        return
    schema = q.schema
    try:
        value = _typed_default(raw, schema)
    except ValueError:
        value = None
    subject = {k: v for k, v in schema.items() if k != "default"}
    if value is None or not Draft202012Validator(subject, format_checker=FORMAT_CHECKER).is_valid(value):
        ctx.skip(q.row, q.xls_name, f"默认值“{raw}”不符合此题的类型或限制，已忽略", "default")
        return
    schema["default"] = value


def _typed_default(raw: str, schema: dict):
    kind = schema["type"]
    if kind == "integer":
        return int(raw)
    if kind == "number":
        number = float(raw)
        return int(number) if number.is_integer() and "." not in raw else number
    if kind == "boolean":
        word = raw.strip().lower()
        if word in ("true", "yes", "1", "ok", "false", "no", "0"):
            return word in ("true", "yes", "1", "ok")
        return None
    if kind == "array":
        return raw.split() if schema["items"].get("format") != "attachment" else None
    if kind == "object":
        parts = raw.split()
        return {"lon": float(parts[1]), "lat": float(parts[0])} if len(parts) >= 2 else None
    return raw


def _leftovers(element: dict, bind: dict, control: dict, q: Question, ctx: Context):
    """Columns we do not carry over are listed rather than silently dropped."""
    dropped = [k for k in element if k not in _KNOWN_KEYS]
    dropped += [f"bind::{k}" for k in bind if k not in _KNOWN_BIND]
    dropped += [f"body::{k}" for k in control if k not in _KNOWN_CONTROL]
    for column in dropped:
        ctx.skip(q.row, q.xls_name, f"“{column}”列无法转换，已忽略", column)
    appearance = control.get("appearance")
    if appearance:
        unknown = [a for a in str(appearance).split() if a not in _QUIET_APPEARANCES]
        if unknown:
            ctx.skip(q.row, q.xls_name, f"外观（appearance）“{' '.join(unknown)}”无法转换，已忽略", "appearance")
    if element.get("choice_filter"):
        ctx.skip(q.row, q.xls_name, f"选项筛选（choice_filter）“{element['choice_filter']}”无法转换，将显示全部选项",
                 "choice_filter")
