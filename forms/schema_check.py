"""check_schema(): reject what the engine cannot honour, naming the keyword and where it is.

Two passes. The meta-schema (form.schema.json, the published subset) catches unknown keywords
and malformed values; only when that passes do the semantic checks run (names that must exist,
patterns that must compile, enums that must match their type, conditions the browser can
evaluate, the UI schema), because they assume a well-formed tree.
"""
from __future__ import annotations

import functools
import json
import re
from importlib import resources

from jsonschema import Draft202012Validator

from . import regex
from .formats import FORMAT_CHECKER
from .model import SchemaProblem

_SCALAR = {"string", "integer", "number", "boolean"}


@functools.cache
def meta_schema() -> dict:
    return json.loads(resources.files("minqing.forms").joinpath("form.schema.json").read_text("utf-8"))


@functools.cache
def _meta_validator() -> Draft202012Validator:
    return Draft202012Validator(meta_schema())


def pointer(parts) -> str:
    return "".join("/" + str(p).replace("~", "~0").replace("/", "~1") for p in parts)


def check_schema(schema, ui: dict | None = None) -> list[SchemaProblem]:
    """Every problem that keeps `schema` (and `ui`, when given) from being used; [] when fine."""
    problems = _meta_problems(schema)
    if not problems:
        problems = _Semantic().run(schema)
    if not problems and ui is not None:
        from .ui_check import check_ui  # the UI check needs a sound schema to resolve fields
        problems = check_ui(schema, ui)
    return problems


# -- pass 1: the meta-schema ---------------------------------------------------------------

def _meta_problems(schema) -> list[SchemaProblem]:
    found: dict[tuple, SchemaProblem] = {}
    for error in _meta_validator().iter_errors(schema):
        for problem in _from_meta_error(error):
            found.setdefault((problem.pointer, problem.keyword, problem.code), problem)
    return sorted(found.values(), key=lambda p: p.pointer)


def _from_meta_error(error) -> list[SchemaProblem]:
    path = list(error.absolute_path)
    if error.validator == "additionalProperties":
        allowed = error.schema.get("properties", {})
        return [SchemaProblem(pointer(path + [k]), k, f"不支持的关键字“{k}”")
                for k in error.instance if k not in allowed]
    if error.validator == "required":
        return [SchemaProblem(pointer(path + [k]), k, f"缺少关键字“{k}”", "missing-keyword")
                for k in error.validator_value if k not in error.instance]
    if "propertyNames" in error.schema_path:
        return [_bad_name(path, error)]
    keyword = str(path[-1]) if path and isinstance(path[-1], str) else _last_keyword(path)
    return [SchemaProblem(pointer(path), keyword, _value_message(keyword, error), "invalid-value")]


def _bad_name(path, error) -> SchemaProblem:
    name = error.instance
    if path and path[-1] == "x-messages":
        return SchemaProblem(pointer(path + [name]), name, f"x-messages 不支持“{name}”", "invalid-value")
    return SchemaProblem(pointer(path + [name]), name,
                         f"字段名“{name}”无效：应以英文字母开头，只含字母、数字和下划线，最长64个字符",
                         "invalid-name")


def _last_keyword(path) -> str:
    return next((str(p) for p in reversed(path) if isinstance(p, str)), "")


def _value_message(keyword: str, error) -> str:
    if keyword == "type" and error.validator in ("enum", "const"):
        return f"不支持的类型“{error.instance}”"
    if keyword == "format" and error.validator in ("enum", "const"):
        return f"不支持的格式“{error.instance}”"
    if keyword == "$schema":
        return "只支持 JSON Schema 2020-12（https://json-schema.org/draft/2020-12/schema）"
    return f"关键字“{keyword}”的值无效"


# -- pass 2: semantics ----------------------------------------------------------------------

class _Semantic:
    """Checks the meta-schema cannot express; collects problems while walking the tree."""

    def __init__(self):
        self.problems: list[SchemaProblem] = []

    def add(self, parts, keyword, message, code):
        self.problems.append(SchemaProblem(pointer(parts), keyword, message, code))

    def run(self, schema: dict) -> list[SchemaProblem]:
        self.object(schema, [])
        return self.problems

    def object(self, schema: dict, at: list):
        props = schema.get("properties", {})
        for i, name in enumerate(schema.get("required", [])):
            self.known(props, name, at + ["required", i])
        for trigger, names in schema.get("dependentRequired", {}).items():
            if self.known(props, trigger, at + ["dependentRequired", trigger]):
                self.single(props[trigger], trigger, at + ["dependentRequired", trigger])
            for i, name in enumerate(names):
                self.known(props, name, at + ["dependentRequired", trigger, i])
        for block, block_at in _blocks_at(schema, at):
            self.block(block, props, block_at)
        for name, field in props.items():
            self.field(name, field, at + ["properties", name])

    def known(self, props: dict, name: str, at: list) -> bool:
        if name not in props:
            self.add(at, name, f"字段“{name}”未在 properties 中定义", "unknown-property")
            return False
        return True

    def single(self, field: dict, name: str, at: list):
        """Conditions test single fields: the browser cannot tell whether a group is "present"."""
        if _value_kind(field) in ("group", "repeat"):
            self.add(at, name, f"条件不能引用分组或重复填写组“{name}”", "inapplicable-keyword")

    def block(self, block: dict, props: dict, at: list):
        condition = block["if"]
        for i, name in enumerate(condition.get("required", [])):
            if self.known(props, name, at + ["if", "required", i]):
                self.single(props[name], name, at + ["if", "required", i])
        for name, test in condition.get("properties", {}).items():
            test_at = at + ["if", "properties", name]
            if self.known(props, name, test_at):
                for keyword in test:
                    self.applies(keyword, test[keyword], props[name], test_at + [keyword], "条件")
        for branch in ("then", "else"):
            self.branch(block.get(branch, {}), props, at + [branch])

    def branch(self, branch: dict, props: dict, at: list):
        for i, name in enumerate(branch.get("required", [])):
            self.known(props, name, at + ["required", i])
        for name, constraint in branch.get("properties", {}).items():
            if self.known(props, name, at + ["properties", name]):
                for keyword, value in constraint.items():
                    self.applies(keyword, value, props[name], at + ["properties", name, keyword], "约束")
                if "pattern" in constraint:
                    self.pattern(constraint["pattern"], at + ["properties", name, "pattern"],
                                 props[name].get("title", name))

    def applies(self, keyword: str, value, field: dict, at: list, what: str):
        """A condition/constraint keyword must suit the field's type (and its values too)."""
        kind = _value_kind(field)
        fits = {
            "const": kind in _SCALAR, "enum": kind in _SCALAR,
            "minLength": kind == "string", "maxLength": kind == "string", "pattern": kind == "string",
            "minimum": kind in ("integer", "number"), "maximum": kind in ("integer", "number"),
            "exclusiveMinimum": kind in ("integer", "number"),
            "exclusiveMaximum": kind in ("integer", "number"), "multipleOf": kind in ("integer", "number"),
            "minItems": kind in ("choices", "attachments", "repeat"),
            "maxItems": kind in ("choices", "attachments", "repeat"),
            "contains": kind == "choices",
        }.get(keyword, False)
        if not fits:
            self.add(at, keyword, f"{what}关键字“{keyword}”不适用于此字段的类型", "inapplicable-keyword")
        elif keyword in ("const", "enum") or keyword == "contains":
            self.values(keyword, value, field, at)

    def values(self, keyword: str, value, field: dict, at: list):
        item = field["items"] if field["type"] == "array" else field
        if keyword == "contains":
            candidates = [value["const"]] if "const" in value else value.get("enum", [])
        else:
            candidates = [value] if keyword == "const" else value
        bad = [v for v in candidates if not _fits_type(v, item["type"])]
        if bad:
            self.add(at, keyword, f"“{keyword}”中的值 {bad[0]!r} 与字段类型不符", "invalid-value")

    def field(self, name: str, field: dict, at: list):
        if name in _reserved_names():
            self.add(at, name, f"字段名“{name}”是保留名称，请换一个", "invalid-name")
        self.field_body(field, at)

    def field_body(self, field: dict, at: list):
        kind = field["type"]
        if kind == "object" and field.get("format") != "geo-point":
            self.object(field, at)
        elif kind == "array":
            self.array(field, at)
        elif kind in ("string", "integer", "number"):
            self.scalar(field, at)
        self.bounds(field, at)
        for keyword in ("default", "readOnly"):
            if keyword in field and _value_kind(field) == "repeat":
                self.add(at + [keyword], keyword, f"重复填写组不支持“{keyword}”", "inapplicable-keyword")
                return
        if "default" in field:
            self.default(field, at)

    def scalar(self, field: dict, at: list):
        if "pattern" in field:
            self.pattern(field["pattern"], at + ["pattern"], _title(field, at))
        if "x-attachment" in field and field.get("format") != "attachment":
            self.add(at + ["x-attachment"], "x-attachment", "x-attachment 只能用于 format 为 attachment 的字段",
                     "inapplicable-keyword")
        options = [o["const"] for o in field.get("oneOf", [])]
        for i, value in enumerate(options):
            if not _fits_type(value, field["type"]):
                self.add(at + ["oneOf", i, "const"], "oneOf", f"选项值 {value!r} 与字段类型不符", "invalid-value")
            elif any(_json_equal(value, other) for other in options[:i]):
                self.add(at + ["oneOf", i, "const"], "oneOf", f"选项值 {value!r} 重复", "invalid-value")
        for i, value in enumerate(field.get("enum", [])):
            if not _fits_type(value, field["type"]):
                self.add(at + ["enum", i], "enum", f"选项值 {value!r} 与字段类型不符", "invalid-value")

    def array(self, field: dict, at: list):
        items = field["items"]
        if items["type"] == "object" and items.get("format") != "geo-point":
            self.object(items, at + ["items"])
        elif _value_kind(field) in ("choices", "attachments"):
            self.scalar(items, at + ["items"])
        else:
            self.add(at + ["items"], "items", "列表项只能是对象（重复填写组）、带选项的值（多选）或附件",
                     "unsupported-items")

    def bounds(self, field: dict, at: list):
        for low, high in (("minLength", "maxLength"), ("minimum", "maximum"), ("minItems", "maxItems")):
            if low in field and high in field and field[low] > field[high]:
                self.add(at + [low], low, f"“{low}”不能大于“{high}”", "invalid-value")

    def pattern(self, pattern: str, at: list, title: str):
        try:
            regex.compile_pattern(pattern)
        except re.error as exc:
            self.add(at, "pattern", f"正则表达式无效：{exc}", "invalid-pattern")
            return
        reason = regex.slow_pattern_reason(pattern)
        if reason:
            self.add(at, "pattern", f"字段“{title}”的正则表达式“{pattern}”可能使校验极慢而拖垮服务：{reason}，请改写",
                     "slow-pattern")

    def default(self, field: dict, at: list):
        subject = {k: v for k, v in field.items() if k != "default"}
        if not Draft202012Validator(subject, format_checker=FORMAT_CHECKER).is_valid(field["default"]):
            self.add(at + ["default"], "default", "默认值不符合此字段的定义", "invalid-default")


def _title(field: dict, at: list) -> str:
    """The field's title, else its property name (the last name in `at` that follows "properties")."""
    names = [at[i + 1] for i in range(len(at) - 1) if at[i] == "properties"]
    return field.get("title") or (names[-1] if names else "")


def _blocks_at(schema: dict, at: list):
    if "if" in schema:
        yield schema, at
    for i, block in enumerate(schema.get("allOf", [])):
        yield block, at + ["allOf", i]


def _value_kind(field: dict) -> str:
    """string/integer/number/boolean, or geo, group, choices, attachments, repeat."""
    kind = field["type"]
    if kind == "object":
        return "geo" if field.get("format") == "geo-point" else "group"
    if kind != "array":
        return kind
    items = field["items"]
    if items["type"] == "object":
        return "repeat"
    if items.get("format") == "attachment":
        return "attachments"
    if items["type"] in ("string", "integer", "number") and ("enum" in items or "oneOf" in items):
        return "choices"
    return "unsupported"


def _fits_type(value, json_type: str) -> bool:
    if isinstance(value, bool):
        return json_type == "boolean"
    if json_type == "integer":
        return isinstance(value, int) or (isinstance(value, float) and value.is_integer())
    if json_type == "number":
        return isinstance(value, (int, float))
    return json_type == "string" and isinstance(value, str)


def _json_equal(a, b) -> bool:
    return a == b and isinstance(a, bool) == isinstance(b, bool)


@functools.cache
def _reserved_names() -> frozenset[str]:
    """Names a property cannot take: attributes of the generated WTForms classes."""
    from .builder import GroupForm, SchemaForm
    names = {n for cls in (SchemaForm, GroupForm) for n in dir(cls)}
    return frozenset(n for n in names if not n.startswith("__"))
