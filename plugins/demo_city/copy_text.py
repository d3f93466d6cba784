"""Rows as PostgreSQL's COPY text (`COPY … FROM STDIN`, text format), made without a connection, so that a process
that only generates rows can also format them and hand over bytes (`volume_write.py`).

The values are those `base_data.bulk` hands to psycopg: aware date-times are stored as naive UTC (the
`UTCDateTime` columns), documents as JSON, enums by value.
"""
from __future__ import annotations

import datetime as dt
import enum
import json

from .base_data import model_defaults

ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})
NULL = "\\N"


def columns_and_text(table, rows: list[dict]) -> tuple[list[str], bytes]:
    """The columns to name in the COPY (those of the rows, then the model's Python-side defaults they leave out,
    as an INSERT would fill them in) and the rows' text."""
    columns = list(rows[0])
    defaults = model_defaults(table, columns)
    extra = "".join("\t" + _field(value) for value in defaults.values())
    lines = ["\t".join([_field(row[name]) for name in columns]) + extra + "\n" for row in rows]
    return columns + list(defaults), "".join(lines).encode("utf-8")


def _field(value) -> str:
    kind = type(value)
    if kind is str:   # most text needs no escape: two scans in C are cheaper than a translation
        return value if value.isprintable() and "\\" not in value else value.translate(ESCAPES)
    if value is None:
        return NULL
    if kind is int or kind is float:
        return repr(value)
    if kind is dt.datetime:
        # a time zone given to a `timestamp without time zone` is ignored: UTC is written as it is, others in UTC
        return (value if value.tzinfo is dt.UTC or value.tzinfo is None else value.astimezone(dt.UTC)).isoformat(" ")
    if kind is bool:
        return "t" if value else "f"
    if kind is dt.date:
        return value.isoformat()
    if isinstance(value, dict | list):
        return _field(json.dumps(value, ensure_ascii=False))
    if isinstance(value, enum.Enum):
        return _field(value.value)
    if isinstance(value, str):
        return _field(str(value))
    raise TypeError(f"no COPY text for {kind.__name__}")
