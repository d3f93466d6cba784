"""Conversions between JSON values and the strings a form shows and submits.

parse() is lenient about how people type on phones (spaces in phone numbers, a lowercase x in ID
numbers, 2024/5/1) but never guesses: text it cannot convert is returned unchanged, so schema
validation reports it (e.g. "层数：应为整数") instead of the value silently disappearing.
"""
from __future__ import annotations

import datetime as dt
import decimal
import re

from minqing.core import city

from .messages import number

MISSING = object()   # "no value": the key is left out of the document
# datetime-local inputs carry no offset: they are read and shown in the city's time zone (`core.city`, as this
# process read it for the request).

_LOOSE_DATE = re.compile(r"(\d{4})[-/.年](\d{1,2})[-/.月](\d{1,2})日?")
_MOBILE_NOISE = re.compile(r"[\s-]")
_NUMBER = re.compile(r"[+-]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]+)?")


def scalar(node, value) -> str:
    """How a JSON value is shown in an input (node may be None for plain numbers)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return number(value)
    if node is not None and node.kind == "datetime" and isinstance(value, str):
        return _local_datetime(value)
    return str(value)


def default_text(node) -> str | None:
    """A node's default as submitted text (checkbox lists sorted and joined by newlines).

    Used to decide whether a repeat row was left as offered, identically here and in forms.js.
    """
    if node.kind == "checkbox":
        return "true" if node.default else "false"
    if node.default is None:
        return None
    if node.kind == "checkboxes":
        return "\n".join(sorted(scalar(node, v) for v in node.default))
    return scalar(node, node.default)


def _local_datetime(value: str) -> str:
    try:
        moment = dt.datetime.fromisoformat(value.upper().replace("Z", "+00:00"))
    except ValueError:
        return value
    if moment.tzinfo is not None:
        moment = moment.astimezone(city.zone())
    return moment.strftime("%Y-%m-%dT%H:%M:%S" if moment.second else "%Y-%m-%dT%H:%M")


def parse(node, text: str):
    """The JSON value for what was submitted in a single input, or MISSING when it is empty."""
    if node.kind == "textarea":
        text = text.replace("\r\n", "\n")
        return text if text.strip() else MISSING
    text = text.strip()
    if not text:
        return MISSING
    if node.choices:
        chosen = next((value for value, _ in node.choices if scalar(node, value) == text), MISSING)
        if chosen is not MISSING:
            return chosen
    parser = _PARSERS.get(node.kind) or _PARSERS.get(node.value_type)  # not an option: validation says so
    return parser(text) if parser else text


def parse_number(text: str):
    """Plain decimal notation only (no "1_000", "NaN", "0x1F"), exactly as forms.js reads numbers."""
    if not _NUMBER.fullmatch(text):
        return text
    value = decimal.Decimal(text)
    if value == value.to_integral_value():
        return int(value)
    return float(value)  # a fraction in an integer field stays a number, so "应为整数" is reported


def _mobile(text: str) -> str:
    text = _MOBILE_NOISE.sub("", text)
    return text[3:] if text.startswith("+86") else text


def _date(text: str) -> str:
    match = _LOOSE_DATE.fullmatch(text)
    if not match:
        return text
    year, month, day = (int(g) for g in match.groups())
    return f"{year:04d}-{month:02d}-{day:02d}"


def _datetime(text: str) -> str:
    if len(text) <= 10:  # a bare date is not a moment; let validation say so
        return text
    try:
        moment = dt.datetime.fromisoformat(text.replace(" ", "T", 1))
    except ValueError:
        return text
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=city.zone())
    return moment.isoformat(timespec="seconds")


_PARSERS = {
    "integer": parse_number, "number": parse_number, "idcard": str.upper, "mobile": _mobile,
    "date": _date, "datetime": _datetime,
}
