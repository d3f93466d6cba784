"""Checking a transition's form: the shared forms engine when it is installed, else JSON Schema Draft 2020-12
with a Chinese message per field."""
from __future__ import annotations

import functools
import json

import jsonschema

from .errors import FormInvalid

MAX_DEPTH = 10                # levels of objects and lists in a document
MAX_BYTES = 64 * 1024         # the document as compact JSON (UTF-8)
UNKNOWN_FIELD = "含有表单未定义的字段"

TYPE_NAMES = {"string": "文本", "integer": "整数", "number": "数字", "boolean": "是/否", "array": "列表",
              "object": "对象", "null": "空值"}


def validate(schema: dict | None, data: dict) -> None:
    """Raise FormInvalid (errors per field path) unless `data` satisfies `schema`."""
    if not schema:
        return
    shared = _shared_validator()
    errors = shared(schema, data) if shared else _errors(schema, data)
    if errors:
        raise FormInvalid(errors)


@functools.cache
def _shared_validator():
    """`minqing.forms.validate(schema, data)` when the forms engine is installed; its answer (field errors with
    `.path` and `.message`, or (path, message) pairs) is normalised to {path: [messages]}."""
    try:
        from minqing.forms import validate as shared
    except ImportError:
        return None

    def call(schema, data):
        try:
            answer = shared(schema, data)
        except Exception as error:  # noqa: BLE001 - a forms error carries its field messages
            if not hasattr(error, "errors"):
                raise
            answer = error.errors
        return _normalise(answer)
    return call


def _normalise(answer) -> dict[str, list[str]]:
    if not answer:
        return {}
    if isinstance(answer, dict):
        return {str(path): messages if isinstance(messages, list) else [str(messages)]
                for path, messages in answer.items()}
    errors: dict[str, list[str]] = {}
    for item in answer:
        path, message = (item.path, item.message) if hasattr(item, "message") else item
        errors.setdefault(str(path), []).append(str(message))
    return errors


def _errors(schema: dict, data) -> dict[str, list[str]]:
    validator = jsonschema.Draft202012Validator(schema, format_checker=jsonschema.FormatChecker())
    errors: dict[str, list[str]] = {}
    for error in sorted(validator.iter_errors(data), key=lambda error: list(map(str, error.path))):
        path, message = _describe(error, schema)
        errors.setdefault(path, []).append(message)
    return errors


def _title(schema: dict, path: list) -> str:
    node = schema
    for part in path:
        node = (node.get("properties", {}).get(part) if isinstance(part, str) else node.get("items")) or {}
    return node.get("title") or (str(path[-1]) if path else "")


def _describe(error: jsonschema.ValidationError, schema: dict) -> tuple[str, str]:
    path = list(error.absolute_path)
    keyword, value = error.validator, error.validator_value
    if keyword == "required":
        missing = error.message.split("'")[1]
        path = [*path, missing]
        return ".".join(map(str, path)), f"请填写“{_title(schema, path)}”"
    label = _title(schema, path) or "内容"
    types = [value] if isinstance(value, str) else list(value) if keyword == "type" else []
    messages = {
        "type": lambda: f"“{label}”应为{'、'.join(TYPE_NAMES.get(name, name) for name in types)}",
        "minLength": lambda: f"“{label}”至少 {value} 个字",
        "maxLength": lambda: f"“{label}”最多 {value} 个字",
        "minimum": lambda: f"“{label}”不能小于 {value}",
        "maximum": lambda: f"“{label}”不能大于 {value}",
        "minItems": lambda: f"“{label}”至少需要 {value} 项",
        "maxItems": lambda: f"“{label}”最多 {value} 项",
        "enum": lambda: f"“{label}”只能是：{'、'.join(map(str, value))}",
        "pattern": lambda: f"“{label}”格式不正确",
        "format": lambda: f"“{label}”格式不正确（应为 {value}）",
        "oneOf": lambda: f"“{label}”的取值不正确",
        "anyOf": lambda: f"“{label}”的取值不正确",
        "additionalProperties": lambda: "含有表单未定义的字段",
    }
    describe = messages.get(keyword)
    return ".".join(map(str, path)), describe() if describe else f"“{label}”不符合要求（{keyword}）"


def schema_problems(schema: dict) -> list[str]:
    """Why a form cannot be used: by the forms engine's rules when installed, else JSON Schema's own."""
    try:
        from minqing.forms import check_schema
    except ImportError:
        check_schema = None
    if check_schema is not None:
        return [f"{problem.pointer or '/'}: {problem.message}" for problem in check_schema(schema)]
    try:
        jsonschema.Draft202012Validator.check_schema(schema)
    except jsonschema.SchemaError as error:
        return [error.message]
    return []


# -- document bounds and unknown fields: a report's document and a step's form data alike -----------------------

def _depth(value) -> int:
    """Levels of objects and lists, counted without recursion (stops once past the bound)."""
    deepest, stack = 0, [(value, 1)]
    while stack:
        item, level = stack.pop()
        if isinstance(item, dict | list):
            deepest = max(deepest, level)
            if deepest > MAX_DEPTH:
                return deepest
            stack.extend((child, level + 1) for child in (item.values() if isinstance(item, dict) else item))
    return deepest


def bounds(document: dict, what: str) -> dict[str, list[str]]:
    """{field: [message]} when the document (`what`, as the message names it: 整份上报, 本步表单) nests deeper than
    MAX_DEPTH or is larger than MAX_BYTES as JSON: stored, such a document made the case unreadable for every
    viewer (a field nested 500 deep) or filled the database (a 5 MB field)."""
    errors: dict[str, list[str]] = {}
    for name, value in document.items():
        if _depth(value) > MAX_DEPTH - 1:  # the document itself is the first level
            errors[name] = [f"内容嵌套层数过多（{what}最多 {MAX_DEPTH} 层）"]
    if errors:
        return errors
    size = len(json.dumps(document, ensure_ascii=False, separators=(",", ":"), default=str).encode())
    if size > MAX_BYTES:
        sizes = {name: len(json.dumps(value, ensure_ascii=False, default=str).encode())
                 for name, value in document.items()}
        largest = max(sizes, key=sizes.get) if sizes else ""
        errors[largest] = [f"提交的内容过大（约 {size // 1024} KB，{what}最多 {MAX_BYTES // 1024} KB）"]
    return errors


def unknown_fields(schema: dict | None, value, path: str = "") -> dict[str, list[str]]:
    """{path: [message]} for every field of `value` its schema does not declare (stored, they would bypass
    every rule of the form)."""
    if not isinstance(schema, dict):
        return {}
    found: dict[str, list[str]] = {}
    if isinstance(value, dict) and schema.get("type") == "object" and schema.get("format") != "geo-point":
        properties = schema.get("properties", {})
        for name, item in value.items():
            where = f"{path}.{name}" if path else str(name)
            if name not in properties:
                found[where] = [UNKNOWN_FIELD]
            else:
                found.update(unknown_fields(properties[name], item, where))
    elif isinstance(value, list) and isinstance(schema.get("items"), dict):
        for index, item in enumerate(value):
            found.update(unknown_fields(schema["items"], item, f"{path}[{index}]"))
    return found
