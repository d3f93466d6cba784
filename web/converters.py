"""URL converters.

`<int:…>` in every route takes only numbers up to the largest id the database holds (a 32-bit integer column on
PostgreSQL): a larger one is no such object, answered by each interface's own 404, never an integer the database
refuses to bind (a 500). The bound is in the converter's regular expression, not a `max=`: a value failing a
converter's check makes werkzeug give up routing with a bare 404, while one its expression does not match falls
through to the catch-all routes (the API's and Open311's JSON 404, routed with `<everything:…>`).
"""
from __future__ import annotations

from flask import Flask
from werkzeug.routing import IntegerConverter, PathConverter

MAX_ID = 2**31 - 1


def digits_at_most(limit: int) -> str:
    """A regular expression for the decimal numbers 0…limit: shorter numbers, then, digit by digit, those that
    share a prefix with `limit` and are smaller at the next digit, then `limit` itself."""
    text = str(limit)
    parts = [rf"\d{{1,{len(text) - 1}}}"] if len(text) > 1 else []
    for position, digit in enumerate(text):
        lowest, rest = (1 if position == 0 and len(text) > 1 else 0), len(text) - position - 1
        if int(digit) > lowest:
            parts.append(text[:position] + f"[{lowest}-{int(digit) - 1}]" + (rf"\d{{{rest}}}" if rest else ""))
    parts.append(text)
    return "(?:" + "|".join(parts) + ")"


class DatabaseIdConverter(IntegerConverter):
    regex = digits_at_most(MAX_ID)


class EverythingConverter(PathConverter):
    """The rest of the address, whatever it holds (`path` stops at a line break): for the catch-all routes that
    answer an interface's own 404/405, so no address under it gets the web pages' HTML error."""

    regex = r"[\s\S]*?"
    part_isolating = False  # it spans segments (werkzeug guesses from a "/" in the expression)


def init_app(app: Flask) -> None:
    """Before any blueprint is registered: rules are compiled with the converters the map has then."""
    app.url_map.converters["int"] = DatabaseIdConverter
    app.url_map.converters["everything"] = EverythingConverter
