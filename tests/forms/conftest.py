"""Fixtures for the forms engine tests.

Helpers are handed to tests through the `kit` fixture (test modules here do not import each other,
so nothing depends on how pytest puts this directory on sys.path).
"""
from __future__ import annotations

import copy
import datetime as dt
import io
import json
import types
from html.parser import HTMLParser
from importlib import resources

import pytest
from werkzeug.datastructures import FileStorage, MultiDict

from minqing.core.privacy import idcard

EXAMPLES = resources.files("minqing.forms") / "examples"
OWNER_ID = idcard.make("620102", dt.date(1980, 1, 1), 11)
RESIDENT_ID = idcard.make("620102", dt.date(1990, 6, 15), 22)
ID_BAD_CHECKSUM = OWNER_ID[:17] + ("0" if OWNER_ID[17] != "0" else "1")


def load_example(name: str) -> dict:
    return json.loads((EXAMPLES / name).read_text("utf-8"))


VALID_HOUSE = {
    "address": "兰州市城关区张掖路街道1号",
    "owner": {"name": "张三", "id_number": OWNER_ID, "mobile": "13800138000"},
    "floors": 3,
    "structure": "frame",
    "built_year": 1998,
    "usage": ["自住", "出租"],
    "has_cracks": True,
    "crack_description": "东侧山墙有一条斜向裂缝，长约1米",
    "photos": ["att-0001", "att-0002"],
    "inspection_date": "2024-05-01",
    "location": {"lon": 103.834, "lat": 36.061},
    "risk_level": 2,
    "residents": [
        {"name": "李四", "id_number": RESIDENT_ID, "relation": "租户"},
        {"name": "王五", "id_number": OWNER_ID, "mobile": "13912345678", "relation": "本人"},
    ],
}


def house_formdata(**overrides) -> MultiDict:
    """What a browser posts for VALID_HOUSE (photos kept as existing ids)."""
    pairs = [
        ("address", "兰州市城关区张掖路街道1号"), ("owner-name", "张三"), ("owner-id_number", OWNER_ID),
        ("owner-mobile", "13800138000"), ("floors", "3"), ("structure", "frame"), ("structure_other", ""),
        ("built_year", "1998"), ("usage", "自住"), ("usage", "出租"), ("has_cracks", "true"),
        ("crack_description", "东侧山墙有一条斜向裂缝，长约1米"), ("photos", "att-0001"), ("photos", "att-0002"),
        ("inspection_date", "2024-05-01"), ("location-lon", "103.834"), ("location-lat", "36.061"),
        ("risk_level", "2"),
        ("residents-0-name", "李四"), ("residents-0-id_number", RESIDENT_ID), ("residents-0-mobile", ""),
        ("residents-0-relation", "租户"),
        ("residents-1-name", "王五"), ("residents-1-id_number", OWNER_ID), ("residents-1-mobile", "13912345678"),
        ("residents-1-relation", "本人"),
        ("note", ""),
    ]
    data = MultiDict(pairs)
    for key, value in overrides.items():
        key = key.replace("__", "-")
        if value is None:
            data.poplist(key)
        elif isinstance(value, list):
            data.setlist(key, value)
        else:
            data.setlist(key, [value])
    return data


def upload(name: str = "photo.jpg", content: bytes = b"\xff\xd8\xff jpeg", mimetype: str = "image/jpeg") -> FileStorage:
    return FileStorage(io.BytesIO(content), filename=name, content_type=mimetype)


# -- a tiny "browser": what a form posts, from the rendered HTML, with no JavaScript -------------

_TEXTUAL = {"text", "email", "tel", "number", "date", "datetime-local", "hidden", "search", "url", ""}


class Page(HTMLParser):
    """Parses rendered HTML with html.parser and submits it the way a browser without JS would.

    <template> contents are inert (not rendered, not submitted), as in a browser.
    """

    def __init__(self, html: str):
        super().__init__(convert_charrefs=True)
        self.elements: list[tuple[str, dict]] = []   # every element outside <template>
        self.templates: list[str] = []               # raw text of template contents (for inspection)
        self.controls: list[dict] = []
        self._template_depth = 0
        self._select = None
        self._textarea = None
        self._option = None
        self.feed(html)
        self.close()

    # parsing
    def handle_starttag(self, tag, attrs):
        attrs = {k: ("" if v is None else v) for k, v in attrs}
        if tag == "template":
            self._template_depth += 1
            return
        if self._template_depth:
            self.templates.append(tag)
            return
        self.elements.append((tag, attrs))
        if tag == "input":
            self.controls.append({"tag": tag, "type": attrs.get("type", "text"), **self._common(attrs),
                                  "value": attrs.get("value", ""), "checked": "checked" in attrs})
        elif tag == "select":
            self._select = {"tag": tag, "type": "select", **self._common(attrs), "options": []}
            self.controls.append(self._select)
        elif tag == "option" and self._select is not None:
            self._option = {"value": attrs.get("value"), "selected": "selected" in attrs, "label": ""}
            self._select["options"].append(self._option)
        elif tag == "textarea":
            self._textarea = {"tag": tag, "type": "textarea", **self._common(attrs), "value": ""}
            self.controls.append(self._textarea)
        elif tag == "button":
            self.controls.append({"tag": tag, "type": attrs.get("type", "submit"), **self._common(attrs),
                                  "value": attrs.get("value", "")})

    def handle_startendtag(self, tag, attrs):
        self.handle_starttag(tag, attrs)

    def handle_endtag(self, tag):
        if tag == "template":
            self._template_depth -= 1
        elif self._template_depth:
            return
        elif tag == "select":
            self._select = None
        elif tag == "option":
            self._option = None
        elif tag == "textarea":
            if self._textarea["value"].startswith("\n"):  # HTML drops one newline after <textarea>
                self._textarea["value"] = self._textarea["value"][1:]
            self._textarea = None

    def handle_data(self, data):
        if self._template_depth:
            return
        if self._textarea is not None:
            self._textarea["value"] += data
        elif self._option is not None:
            self._option["label"] += data

    @staticmethod
    def _common(attrs):
        return {"name": attrs.get("name"), "id": attrs.get("id"), "disabled": "disabled" in attrs, "attrs": attrs}

    # inspection
    def by_id(self, element_id: str) -> tuple[str, dict] | None:
        return next(((t, a) for t, a in self.elements if a.get("id") == element_id), None)

    def named(self, name: str) -> list[dict]:
        return [c for c in self.controls if c["name"] == name]

    # interaction
    def fill(self, name: str, value: str):
        controls = [c for c in self.named(name) if c["type"] in _TEXTUAL | {"textarea", "select"}]
        assert controls, f"no text input/select named {name!r}"
        control = controls[0]
        if control["type"] == "select":
            assert any(o["value"] == value for o in control["options"]), f"{value!r} is not an option of {name}"
            for option in control["options"]:
                option["selected"] = option["value"] == value
        else:
            control["value"] = value

    def check(self, name: str, value: str, on: bool = True):
        matching = [c for c in self.named(name) if c["type"] in ("checkbox", "radio")]
        target = next((c for c in matching if c["value"] == value), None)
        assert target is not None, f"no checkbox/radio {name}={value}"
        if target["type"] == "radio" and on:
            for c in matching:
                c["checked"] = False
        target["checked"] = on

    def submit(self, button: str | None = None, files: dict | None = None) -> MultiDict:
        """The form data set: successful controls in tree order, plus the pressed button."""
        pairs = []
        for c in self.controls:
            if c["disabled"] or not c["name"]:
                continue
            kind = c["type"]
            if c["tag"] == "button":
                if c["name"] == button:
                    pairs.append((c["name"], c["value"]))
            elif kind in ("checkbox", "radio"):
                if c["checked"]:
                    pairs.append((c["name"], c["value"] or "on"))
            elif kind == "file":
                for f in (files or {}).get(c["name"], []) or [FileStorage(io.BytesIO(b""), filename="")]:
                    pairs.append((c["name"], f))
            elif kind == "select":
                chosen = [o for o in c["options"] if o["selected"]] or c["options"][:1]
                pairs.extend((c["name"], o["value"]) for o in chosen)
            else:
                pairs.append((c["name"], c["value"]))
        if button is not None:
            assert any(k == button for k, _ in pairs), f"no enabled button named {button!r}"
        return MultiDict(pairs)


@pytest.fixture
def house() -> dict:
    return load_example("self_built_house.json")


@pytest.fixture
def house_ui() -> dict:
    return load_example("self_built_house.ui.json")


@pytest.fixture
def valid_house() -> dict:
    return copy.deepcopy(VALID_HOUSE)


@pytest.fixture(scope="session")
def kit():
    """Constants and helpers: kit.OWNER_ID, kit.house_formdata(...), kit.upload(...), kit.Page(html)."""
    return types.SimpleNamespace(
        OWNER_ID=OWNER_ID, RESIDENT_ID=RESIDENT_ID, ID_BAD_CHECKSUM=ID_BAD_CHECKSUM, VALID_HOUSE=VALID_HOUSE,
        house_formdata=house_formdata, upload=upload, Page=Page, load_example=load_example)
