"""Answers in the spec's two formats: JSON (arrays at the top level) and XML built with ElementTree.

The XML of every answer is the JSON's content under the spec's element names: `services/service`,
`service_definition/attributes/attribute/values/value`, `service_requests/request`, `errors/error`. A None is an
empty element, a boolean "true"/"false", a list a run of child elements.
"""
from __future__ import annotations

import datetime as dt
import json
import re
from xml.etree import ElementTree

from flask import Response

from minqing.core.clock import isoformat_local

JSON_TYPE = "application/json; charset=utf-8"
XML_TYPE = "text/xml; charset=utf-8"
# For each list's key in the JSON, the element name of its items in the XML.
# Characters XML 1.0 cannot carry at all (ElementTree would write them and make the document ill-formed).
NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff\ud800-\udfff]")
ITEM_NAMES = {"services": "service", "service_requests": "request", "errors": "error", "attributes": "attribute",
              "values": "value"}


class Open311Error(Exception):
    """An answer in the spec's error format: one entry per problem, all with the HTTP status."""

    def __init__(self, status: int, *descriptions: str):
        super().__init__("；".join(descriptions))
        self.status = status
        self.descriptions = descriptions or ("请求无效",)


def timestamp(value: dt.datetime | None) -> str | None:
    """ISO 8601 with the offset, in the city's time: 2026-03-01T09:30:00+08:00 (as the REST API writes times)."""
    return isoformat_local(value) if value else None


def _text(value) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    return NOT_XML.sub("\ufffd", str(value))


def _fill(element: ElementTree.Element, value, name: str) -> None:
    if isinstance(value, dict):
        for key, item in value.items():
            _fill(ElementTree.SubElement(element, key), item, key)
    elif isinstance(value, list):
        item_name = ITEM_NAMES.get(name, "item")
        for item in value:
            _fill(ElementTree.SubElement(element, item_name), item, item_name)
    else:
        element.text = _text(value)


def xml_document(root: str, items: list | dict) -> bytes:
    """<root> holding `items` (a list: one child per item, named by ITEM_NAMES; a dict: its fields)."""
    element = ElementTree.Element(root)
    _fill(element, items, root)
    return ElementTree.tostring(element, encoding="utf-8", xml_declaration=True)


def answer(fmt: str, body: list | dict, xml_root: str, status: int = 200) -> Response:
    if fmt == "xml":
        return Response(xml_document(xml_root, body), status=status, content_type=XML_TYPE)
    return Response(json.dumps(body, ensure_ascii=False), status=status, content_type=JSON_TYPE)


def error_answer(fmt: str, error: Open311Error) -> Response:
    body = [{"code": error.status, "description": description} for description in error.descriptions]
    return answer(fmt, body, "errors", error.status)
