"""Server-side validation: JSON Schema 2020-12 semantics, errors as FieldError in Chinese.

Two engines, compiled once per schema version:
- fastjsonschema (generated Python code, about ten times faster) decides *whether* a document is valid;
- jsonschema (Draft 2020-12) runs only when it is not, to list *every* error with its path.
fastjsonschema may be stricter than jsonschema on exotic inputs (it never is more lenient on our
subset; tests/forms/test_forms_validation.py checks the two agree); a "no" from it only costs the slower
jsonschema pass, whose verdict is final. If fastjsonschema cannot compile a schema, jsonschema
alone is used.
"""
from __future__ import annotations

import decimal
import json
import logging

import fastjsonschema
from jsonschema import Draft202012Validator, ValidationError, validators

from . import effective, formats, messages, regex
from .model import FieldError

log = logging.getLogger(__name__)


def _multiple_of(validator, divisor, instance, schema):
    """multipleOf in decimal arithmetic: 0.3 is a multiple of 0.1, as the spec means."""
    if not validator.is_type(instance, "number"):
        return
    try:
        remainder = decimal.Decimal(repr(instance)) % decimal.Decimal(repr(divisor))
        ok = remainder == 0
    except decimal.InvalidOperation:
        ok = False
    if not ok:
        yield ValidationError(f"{instance!r} is not a multiple of {divisor}")


def _pattern(validator, pattern, instance, schema):
    """pattern, but never run on a value longer than PATTERN_INPUT_LIMIT: however safe the pattern's shape
    (check_schema refuses the exponential ones), its time still grows with the input."""
    if not validator.is_type(instance, "string"):
        return
    if len(instance) > regex.PATTERN_INPUT_LIMIT:
        yield ValidationError(f"longer than {regex.PATTERN_INPUT_LIMIT} characters, not matched",
                              validator="maxLength", validator_value=regex.PATTERN_INPUT_LIMIT)
    elif not regex.compile_python(pattern).search(instance):
        yield ValidationError(f"{instance!r} does not match {pattern!r}")


FormValidator = validators.extend(Draft202012Validator, {"multipleOf": _multiple_of, "pattern": _pattern})


class CompiledValidator:
    def __init__(self, schema: dict):
        self.schema = schema
        self._full = FormValidator(effective.for_jsonschema(schema), format_checker=formats.FORMAT_CHECKER)
        self._fast = _compile_fast(schema)
        self._has_pattern = '"pattern"' in json.dumps(schema)

    def _fast_says_valid(self, document) -> bool:
        if self._fast is None:
            return False
        if self._has_pattern and _longest_text(document) > regex.PATTERN_INPUT_LIMIT:
            return False   # fastjsonschema would run the pattern on it; jsonschema (_pattern) will not
        try:
            self._fast(document)
            return True
        except Exception:  # JsonSchemaValueException, or odd input such as non-str keys
            return False

    def is_valid(self, document) -> bool:
        return self._fast_says_valid(document) or self._full.is_valid(document)

    def errors(self, document) -> list[FieldError]:
        if self._fast_says_valid(document):
            return []
        found: dict[tuple[str, str], tuple[list, FieldError]] = {}
        for error in self._full.iter_errors(document):
            for parts, field_error in _field_errors(error, self.schema):
                found.setdefault((field_error.path, field_error.code), (_order_key(self.schema, parts), field_error))
        return [field_error for _, field_error in sorted(found.values(), key=lambda pair: pair[0])]


def _longest_text(document) -> int:
    """The length of the longest string in a document (a loop, not recursion: any depth is fine)."""
    longest, stack = 0, [document]
    while stack:
        value = stack.pop()
        if isinstance(value, str):
            longest = max(longest, len(value))
        elif isinstance(value, dict):
            stack += value.values()
        elif isinstance(value, list):
            stack += value
    return longest


def _compile_fast(schema: dict):
    custom = {name: (lambda value, check=check: check(value) is None)
              for name, check in formats.CHECKS.items() if name in formats.STRING_FORMATS}
    try:
        return fastjsonschema.compile(effective.for_fastjsonschema(schema), formats=custom,
                                      use_default=False)
    except Exception:  # pragma: no cover - depends on fastjsonschema's coverage of a schema
        log.warning("fastjsonschema cannot compile schema %s; using jsonschema only", schema.get("$id"))
        return None


# -- jsonschema errors -> FieldError ---------------------------------------------------------

def _field_errors(error: ValidationError, schema: dict) -> list[tuple[list, FieldError]]:
    path = list(error.absolute_path)
    kind = error.validator
    if kind == "required":
        missing = [p for p in error.validator_value if p not in error.instance]
        return [_make(schema, path + [p], "required", messages.detail("required")) for p in missing]
    if kind == "dependentRequired":
        return _dependent(error, schema, path)
    if kind == "additionalProperties":
        known = error.schema.get("properties", {})
        return [_make(schema, path + [k], "additionalProperties", messages.detail("additionalProperties"))
                for k in error.instance if k not in known]
    if kind == "format":
        name = error.validator_value
        return [_make(schema, path, name, formats.problem(name, error.instance) or "格式不正确")]
    return [_make(schema, path, kind, messages.detail(kind, error.validator_value))]


def _dependent(error: ValidationError, schema: dict, path: list) -> list[tuple[list, FieldError]]:
    out = []
    for trigger, names in error.validator_value.items():
        if trigger not in error.instance:
            continue
        trigger_title = title_at(schema, path + [trigger])
        for name in names:
            if name not in error.instance:
                body = f"填写了“{trigger_title}”时此项为必填项"
                out.append(_make(schema, path + [name], "required", body))
    return out


def _make(schema: dict, parts: list, code: str, body: str) -> tuple[list, FieldError]:
    return parts, field_error(schema, parts, code, body)


def field_error(schema: dict, parts: list, code: str, body: str) -> FieldError:
    """A FieldError for `parts`, titled, using the field's x-messages[code] when it has one."""
    chain = _schema_chain(schema, parts)
    codes = (code, "format") if code in formats.CHECKS else (code,)  # "format" covers every format
    custom = next((s["x-messages"][c] for s in reversed(chain) for c in codes
                   if c in s.get("x-messages", {})), None)
    return FieldError(format_path(parts), code, f"{title_at(schema, parts)}：{custom or body}")


def format_path(parts) -> str:
    """["household", "members", 2, "id_number"] -> "household.members[2].id_number"."""
    out = ""
    for part in parts:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def _schema_chain(schema: dict, parts) -> list[dict]:
    """The field schemas along a document path (unknown steps end the chain)."""
    chain, current = [], schema
    for part in parts:
        if isinstance(part, int):
            current = current.get("items") if isinstance(current.get("items"), dict) else None
        else:
            current = current.get("properties", {}).get(part)
        if not isinstance(current, dict):
            break
        chain.append(current)
    return chain


def title_at(schema: dict, parts) -> str:
    """The title a person knows the field by: that of the last named step of the path."""
    title, current = schema.get("title", "表单"), schema
    for part in parts:
        if isinstance(part, int):
            current = current.get("items", {}) if isinstance(current, dict) else {}
            continue
        field = current.get("properties", {}).get(part) if isinstance(current, dict) else None
        title, current = (field or {}).get("title", part), field or {}
    return title


def _order_key(schema: dict, parts) -> list:
    """Sort errors in form order: by property position, then by row index."""
    key, current = [], schema
    for part in parts:
        if isinstance(part, int):
            key.append(part)
            current = current.get("items", {})
            continue
        props = list(current.get("properties", {}))
        key.append(props.index(part) if part in props else len(props))
        current = current.get("properties", {}).get(part, {})
    return key
