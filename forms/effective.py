"""The schema as handed to the validation engines: same meaning, engine-friendly spelling.

- `pattern`s are translated from ECMA-262 to Python (see regex.py);
- `oneOf` lists of const options become `enum` (equivalent: check_schema makes consts distinct),
  which is faster and reports one clear "enum" error instead of one per option;
- for fastjsonschema (draft-07 only): `dependentRequired` becomes draft-07 `dependencies`, and
  `geo-point` is spelled out as an object schema, since it only applies formats to strings.
"""
from __future__ import annotations

from . import regex

DRAFT7 = "http://json-schema.org/draft-07/schema#"
GEO_POINT = {
    "type": "object",
    "properties": {"lon": {"type": "number", "minimum": -180, "maximum": 180},
                   "lat": {"type": "number", "minimum": -90, "maximum": 90}},
    "required": ["lon", "lat"],
    "additionalProperties": False,
}


def for_jsonschema(schema: dict) -> dict:
    return _object(schema, fast=False)


def for_fastjsonschema(schema: dict) -> dict:
    out = _object(schema, fast=True)
    out["$schema"] = DRAFT7
    out.pop("$id", None)  # fastjsonschema would treat it as a resolution scope
    return out


def _object(obj: dict, fast: bool) -> dict:
    out = dict(obj)
    if "properties" in obj:
        out["properties"] = {k: _field(v, fast) for k, v in obj["properties"].items()}
    if "if" in obj:
        out.update(_block(obj))
    if "allOf" in obj:
        out["allOf"] = [_block(b) for b in obj["allOf"]]
    if fast and "dependentRequired" in obj:
        out["dependencies"] = out.pop("dependentRequired")
    return out


def _field(field: dict, fast: bool) -> dict:
    if field.get("type") == "object":
        if field.get("format") == "geo-point":
            return dict(GEO_POINT) if fast else field
        return _object(field, fast)
    out = _constraint(field)
    if "oneOf" in field:
        out["enum"] = [option["const"] for option in out.pop("oneOf")]
    if "items" in field:
        out["items"] = _field(field["items"], fast)
    return out


def _block(block: dict) -> dict:
    out = {"if": block["if"]}
    for branch in ("then", "else"):
        if branch in block:
            props = block[branch].get("properties", {})
            out[branch] = dict(block[branch], properties={k: _constraint(v) for k, v in props.items()})
    return out


def _constraint(schema: dict) -> dict:
    out = dict(schema)
    if isinstance(schema.get("pattern"), str):
        out["pattern"] = regex.to_python(schema["pattern"])
    return out
