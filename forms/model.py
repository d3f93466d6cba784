"""Plain value types shared by the forms engine."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import NamedTuple


@dataclass(frozen=True)
class FieldError:
    """One validation failure: where (document path), what (machine code) and a Chinese message."""

    path: str          # e.g. "household.members[2].id_number"; "" for the whole document
    code: str          # e.g. "required", "pattern", "cn-id", "minimum"
    message: str       # e.g. "身份证号：校验位不正确"


@dataclass(frozen=True)
class SchemaProblem:
    """Why a theme schema (or UI schema) cannot be used, located by a JSON pointer."""

    pointer: str       # JSON pointer into the schema, e.g. "/properties/name/allOf"
    keyword: str       # the offending keyword or property name
    message: str       # Chinese, for the theme editor
    code: str = "unsupported-keyword"
    source: str = "schema"  # "schema", or "ui" when the pointer is into the UI schema


class SchemaError(ValueError):
    """Raised when a schema that fails check_schema() is used to build forms or validate."""

    def __init__(self, problems: list[SchemaProblem]):
        self.problems = problems
        lines = "; ".join(f"{p.pointer or '/'}: {p.message}" for p in problems[:5])
        super().__init__(f"表单定义无效（{len(problems)}处问题）：{lines}")


class DisplayRow(NamedTuple):
    """One read-only line: label path (titles joined by " › ") and a human value."""

    label: str
    value: str
    path: str = ""     # document path of the value
    kind: str = "text"  # node kind, e.g. "attachment" so the caller can show thumbnails


@dataclass(frozen=True)
class AttachmentSpec:
    """Upload constraints of one attachment field, for the caller that stores files."""

    path: str          # document path; "[]" marks a repeat row, e.g. "members[].photo"
    title: str
    accept: tuple[str, ...] = field(default_factory=tuple)
    max_bytes: int | None = None
    multiple: bool = False
    max_items: int | None = None
