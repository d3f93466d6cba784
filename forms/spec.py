"""The field tree: one Node per schema property, with the widget kind and UI options resolved.

The builder, documents, renderer and display all walk this tree rather than re-reading the raw
schema, so each decision (which widget, which choices, when a field applies) is made once here.
The schema must already have passed check_schema().
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .conditions import Gate, object_gates
from .describe import when_note

_STRING_FORMAT_KINDS = {"date": "date", "date-time": "datetime", "email": "email",
                        "cn-mobile": "mobile", "cn-id": "idcard", "attachment": "attachment"}


@dataclass
class Node:
    name: str                        # property name ("" for the root and for repeat rows)
    schema: dict
    kind: str                        # see kind_of(); "group" and "repeat" have children
    title: str
    help: str | None = None
    required: bool = False           # unconditionally required by its parent object
    read_only: bool = False
    default: Any = None
    ui: dict = field(default_factory=dict)
    choices: list[tuple[Any, str]] = field(default_factory=list)  # (JSON value, label)
    value_type: str = "string"       # JSON type of the scalar value (of items for arrays)
    children: list[Node] = field(default_factory=list)           # group: properties in UI order
    row: Node | None = None          # repeat: the row object node
    gates: list[Gate] = field(default_factory=list)              # empty: always applicable
    in_optional_group: bool = False  # inside a group the parent does not require
    required_when_shown: bool = False  # gated, and required while it applies (marked "*（显示时必填）")
    when_note: str | None = None     # the gates in words, shown when JavaScript is off

    @property
    def min_items(self) -> int:
        return self.schema.get("minItems", 0)

    @property
    def max_items(self) -> int | None:
        return self.schema.get("maxItems")

    @property
    def attachment(self) -> dict:
        """x-attachment of a single or multiple attachment field ({} when unconstrained)."""
        target = self.schema.get("items", self.schema) if self.kind == "attachments" else self.schema
        return target.get("x-attachment", {})

    def child(self, name: str) -> Node | None:
        return next((c for c in self.children if c.name == name), None)

    def choice_label(self, value) -> str | None:
        return next((label for v, label in self.choices if _same(v, value)), None)


def _same(a, b) -> bool:
    """JSON equality: 1 == 1.0 but true != 1."""
    return a == b and isinstance(a, bool) == isinstance(b, bool)


def build_tree(schema: dict, ui: dict | None = None) -> Node:
    return _object_node("", schema, ui or {}, required=True)


def _object_node(name: str, schema: dict, ui: dict, required: bool, optional: bool = False) -> Node:
    node = _base(name, schema, ui, "group", required)
    node.in_optional_group = optional
    props = schema.get("properties", {})
    base_required = set(schema.get("required", []))
    gates = object_gates(schema)
    inner_optional = optional or not required
    for prop in _ordered(props, ui.get("ui:order", [])):
        child = _node(prop, props[prop], ui.get(prop, {}), prop in base_required, inner_optional)
        child.gates = [] if prop in base_required else gates.get(prop, [])
        child.required_when_shown = bool(child.gates) and prop in _required_when_applicable(schema)
        node.children.append(child)
    for child in node.children:  # after the loop: a note may name any sibling
        child.when_note = when_note(child.gates, node)
    return node


def _required_when_applicable(schema: dict) -> set[str]:
    """Names an if/then/else branch requires, and the dependents of `dependentRequired`."""
    blocks = ([schema] if "if" in schema else []) + [b for b in schema.get("allOf", []) if "if" in b]
    names = {name for block in blocks for branch in ("then", "else")
             for name in block.get(branch, {}).get("required", [])}
    return names | {name for dependents in schema.get("dependentRequired", {}).values() for name in dependents}


def _ordered(props: dict, order: list[str]) -> list[str]:
    listed = [p for p in order if p in props]
    return listed + [p for p in props if p not in listed]


def _node(name: str, schema: dict, ui: dict, required: bool, optional: bool) -> Node:
    kind = kind_of(schema, ui)
    if kind == "group":
        return _object_node(name, schema, ui, required, optional)
    node = _base(name, schema, ui, kind, required)
    node.in_optional_group = optional
    if kind == "repeat":
        node.row = _object_node("", schema["items"], ui.get("items", {}), required=True, optional=optional)
        node.row.title = schema["items"].get("title", node.title)
    return node


def _base(name: str, schema: dict, ui: dict, kind: str, required: bool) -> Node:
    item = schema.get("items", {}) if schema.get("type") == "array" else schema
    value_type = item.get("type", "string")
    choices = _choices(item)
    if kind in ("checkbox", "yesno"):
        choices = [(True, "是"), (False, "否")]
    return Node(name=name, schema=schema, kind=kind, title=schema.get("title", name),
                help=schema.get("description"), required=required,
                read_only=bool(schema.get("readOnly")), default=schema.get("default"), ui=ui,
                choices=choices, value_type=value_type)


def _choices(schema: dict) -> list[tuple[Any, str]]:
    if "oneOf" in schema:
        return [(o["const"], o.get("title", str(o["const"]))) for o in schema["oneOf"]]
    return [(v, str(v)) for v in schema.get("enum", [])]


def kind_of(schema: dict, ui: dict) -> str:
    """The widget kind of a field schema, given its UI options."""
    widget = ui.get("ui:widget")
    json_type = schema.get("type")
    if json_type == "object":
        return "geo" if schema.get("format") == "geo-point" else "group"
    if json_type == "array":
        items = schema["items"]
        if items.get("type") == "object":
            return "repeat"
        return "attachments" if items.get("format") == "attachment" else "checkboxes"
    if json_type == "boolean":
        return "yesno" if widget in ("radio", "select") else "checkbox"
    if "enum" in schema or "oneOf" in schema:
        return "radio" if widget == "radio" else "select"
    if json_type in ("integer", "number"):
        return json_type
    if "format" in schema:
        return _STRING_FORMAT_KINDS[schema["format"]]
    return "textarea" if widget == "textarea" else "text"


def walk(node: Node, path: tuple = ()):
    """Yield (node, path template) for every node below `node`; repeat rows add "[]"."""
    for child in node.children:
        child_path = path + (child.name,)
        yield child, child_path
        if child.kind == "group":
            yield from walk(child, child_path)
        elif child.kind == "repeat":
            yield from walk(child.row, child_path + ("[]",))
