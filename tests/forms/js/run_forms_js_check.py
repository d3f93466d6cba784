"""Render two forms and run forms_js_check.js on them in Node + jsdom (a manual check, see there)."""
from __future__ import annotations

import json
import subprocess
import sys
from importlib import resources
from pathlib import Path

from minqing import forms

NESTED = {
    "type": "object",
    "properties": {
        "families": {"type": "array", "maxItems": 3, "items": {"type": "object", "properties": {
            "head": {"type": "string"},
            "members": {"type": "array", "items": {
                "type": "object",
                "properties": {"name": {"type": "string"}, "disabled": {"type": "boolean"}, "grade": {"type": "integer"}},
                "if": {"properties": {"disabled": {"const": True}}, "required": ["disabled"]},
                "then": {"required": ["grade"]}}}}}},
        "phone": {"type": "string", "format": "cn-mobile"}, "contact": {"type": "string"},
        "guardian": {"type": "object", "properties": {"name": {"type": "string"}, "mobile": {"type": "string"}},
                     "required": ["name"]},
        "home": {"type": "object", "format": "geo-point"},
    },
    "dependentRequired": {"phone": ["contact"]},
}


CONDITIONS = [
    {"properties": {"a": {"const": "是"}}, "required": ["a"]},
    {"properties": {"a": {"const": "是"}}},
    {"properties": {"n": {"minimum": 3, "exclusiveMaximum": 10}}, "required": ["n"]},
    {"properties": {"n": {"enum": [1, 2]}}},
    {"properties": {"b": {"const": True}}, "required": ["b"]},
    {"properties": {"tags": {"contains": {"const": "其他"}}}, "required": ["tags"]},
    {"properties": {"tags": {"contains": {"enum": ["x", "y"]}}}},
    {"required": ["a", "n"]},
]
OBJECTS = [{}, {"a": "是"}, {"a": "否"}, {"n": 3}, {"n": 10}, {"n": 2.5}, {"n": "abc"}, {"n": 1, "a": "是"},
           {"b": True}, {"b": False}, {"b": 1}, {"tags": ["其他"]}, {"tags": ["a", "y"]}, {"tags": "其他"}]
TEXTS = [" 5 ", "5.0", "1e1", "0x1F", "1_000", "NaN", "abc", "", ".5", "-3.", "+86 138-0013-8000",
         "11010519491231002x"]


def agreement_cases() -> dict:
    """What the server decides, for forms.js to decide the same way."""
    from jsonschema import Draft202012Validator

    from minqing.forms import raw
    from minqing.forms.spec import Node

    conditions = [[c, o, Draft202012Validator(c).is_valid(o)] for c in CONDITIONS for o in OBJECTS]
    parsed = []
    for json_type, kind in (("integer", "integer"), ("number", "number"), ("string", "idcard"),
                            ("string", "mobile"), ("string", "text")):
        node = Node(name="x", schema={}, kind=kind, title="x", value_type=json_type)
        for text in TEXTS:
            value = raw.parse(node, text)
            parsed.append([json_type, kind, text, None if value is raw.MISSING else value])
    return {"conditions": conditions, "parsed": parsed}


def main() -> int:
    examples = resources.files("minqing.forms") / "examples"
    house = json.loads((examples / "self_built_house.json").read_text("utf-8"))
    ui = json.loads((examples / "self_built_house.ui.json").read_text("utf-8"))
    pages = {"house": str(forms.render(forms.build_form(house, ui)())),
             "nested": str(forms.render(forms.build_form(NESTED)())), "agreement": agreement_cases()}
    here = Path(__file__).parent
    done = subprocess.run(["node", str(here / "forms_js_check.js"), str(forms.STATIC_DIR / "forms.js")],
                          input=json.dumps(pages), text=True)
    return done.returncode


if __name__ == "__main__":
    sys.exit(main())
