"""The citizen's part of a theme's report form (小兰帮办): the fields a resident is asked, derived from the report
form the grid worker fills, so a citizen's report is still a valid document of the same form.

A theme names them in `citizen_fields` (docs/themes.md); without it a citizen sees the description, the place
(the address and the geo-point) and the photos. The derived form keeps the named properties with their rules and
requirements and drops the others (from `properties`, `required`, `dependentRequired` and every if/then/else block
that mentions them); the map point is always kept, and photos are never required of a citizen.
"""
from __future__ import annotations

import copy

DEFAULT_FIELDS = ("description", "content", "address")   # with the geo-point and the photo fields of the form


def _is_photo(field: dict) -> bool:
    target = field.get("items", field) if field.get("type") == "array" else field
    return isinstance(target, dict) and target.get("format") == "attachment"


def _geo(schema: dict) -> str | None:
    return next((name for name, field in schema.get("properties", {}).items()
                 if field.get("format") == "geo-point"), None)


def citizen_fields(document: dict) -> list[str]:
    """The names of the report form's properties a citizen is asked, in the form's order."""
    schema = (document.get("forms") or {}).get("report") or {}
    properties = schema.get("properties", {})
    declared = document.get("citizen_fields")
    if declared is None:
        wanted = {name for name in DEFAULT_FIELDS if name in properties}
        wanted |= {name for name, field in properties.items() if _is_photo(field)}
    else:
        wanted = set(declared)
    if geo := _geo(schema):
        wanted.add(geo)       # a case needs a place on the map
    return [name for name in properties if name in wanted]


def _mentions(block: dict) -> set[str]:
    names = set()
    for part in ("if", "then", "else"):
        branch = block.get(part) or {}
        names |= set(branch.get("required", ())) | set(branch.get("properties", {}))
    return names


def subset(schema: dict, keep: list[str], optional: set[str] = frozenset()) -> dict:
    """`schema` (an object form) with only the properties `keep`: their rules and requirements stay, the others
    leave `required`, `dependentRequired` and each if/then/else block that mentions one of them; the names in
    `optional` are kept but never required (nor a minimum number of items asked)."""
    kept = set(keep)
    result = copy.deepcopy(schema)
    result["properties"] = {name: field for name, field in result.get("properties", {}).items() if name in kept}
    for name in optional & kept:
        result["properties"][name].pop("minItems", None)
    required = [name for name in result.get("required", ()) if name in kept and name not in optional]
    if required:
        result["required"] = required
    else:
        result.pop("required", None)
    if "dependentRequired" in result:
        dependent = {trigger: [name for name in names if name in kept]
                     for trigger, names in result["dependentRequired"].items() if trigger in kept}
        dependent = {trigger: names for trigger, names in dependent.items() if names}
        if dependent:
            result["dependentRequired"] = dependent
        else:
            del result["dependentRequired"]
    if "if" in result and not _mentions(result) <= kept:
        for part in ("if", "then", "else"):
            result.pop(part, None)
    if "allOf" in result:
        blocks = [block for block in result["allOf"] if "if" not in block or _mentions(block) <= kept]
        if blocks:
            result["allOf"] = blocks
        else:
            del result["allOf"]
    return result


def citizen_report_form(document: dict, details: dict | None = None) -> dict | None:
    """The citizen's report form of a theme document: `details` (the report form as the report page carries it,
    e.g. with its location made required; the theme's own by default) reduced to `citizen_fields`. None when the
    theme has no report form."""
    details = details if details is not None else (document.get("forms") or {}).get("report")
    if not details:
        return None
    keep = citizen_fields({**document, "forms": {**(document.get("forms") or {}), "report": details}})
    photos = {name for name in keep if _is_photo(details["properties"][name])}
    return subset(details, keep, photos)


def citizen_report_ui(document: dict) -> dict | None:
    """The theme's report UI schema for the citizen's fields: the others' options and places in the order left
    out (the forms engine refuses a UI naming a field the form does not have)."""
    ui = (document.get("ui") or {}).get("report")
    if not ui:
        return None
    keep = set(citizen_fields(document))
    result = {name: value for name, value in ui.items() if name.startswith("ui:") or name in keep}
    if "ui:order" in result:
        result["ui:order"] = [name for name in result["ui:order"] if name in keep or name == "*"]
    return result


def citizen_field_problems(document: dict) -> list[tuple[str, str]]:
    """(JSON pointer, message) for each name in `citizen_fields` the report form does not have."""
    declared = document.get("citizen_fields")
    if declared is None:
        return []
    properties = ((document.get("forms") or {}).get("report") or {}).get("properties", {})
    return [(f"/citizen_fields/{index}", f"上报表单中没有字段“{name}”")
            for index, name in enumerate(declared) if name not in properties]
