"""WTForms field classes that know their spec Node.

Every field keeps the *raw* form representation in `data` (strings as typed, lists of strings,
kept ids + uploads), never a converted value: a page re-rendered after a failed validation must
show exactly what the person typed, and conversion to JSON types happens in one place
(documents.py). Accordingly none of these fields has WTForms validators; SchemaForm.validate()
validates the converted document against the schema and attaches the errors to the fields.
"""
from __future__ import annotations

import json

from markupsafe import Markup
from wtforms import Form
from wtforms.fields import BooleanField, Field, FieldList, FormField, SelectField, SelectMultipleField, StringField
from wtforms.utils import unset_value
from wtforms.widgets import html_params

from . import raw
from .messages import size
from .regex import html_pattern

INDEX_PLACEHOLDER = "__INDEX__"   # stands for the row index in a repeat group's row template
ADD_PREFIX, REMOVE_PREFIX = "__add__", "__remove__"   # names of the no-JS row buttons

_INPUT_TYPES = {"text": "text", "date": "date", "datetime": "datetime-local", "email": "email",
                "mobile": "tel", "idcard": "text", "integer": "number", "number": "number"}
_TEXT_KINDS = set(_INPUT_TYPES) | {"textarea"}
_PAGE_PATTERNS = {"mobile": "1[3-9][0-9]{9}", "idcard": "[0-9]{17}[0-9Xx]"}


class NodeField:
    """Mixin: the spec Node, schema errors for the page, and shared HTML attributes."""

    node = None
    in_optional_row = False  # set by RepeatField for rows beyond minItems

    def __init__(self, *args, node=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.node = node
        self.mq_errors: list[str] = []

    @property
    def help_id(self) -> str:
        return f"{self.id}-help"

    @property
    def error_id(self) -> str:
        return f"{self.id}-error"

    def described_by(self) -> str:
        ids = [self.help_id] if self.node.help else []
        return " ".join(ids + ([self.error_id] if self.mq_errors else []))

    @property
    def when(self) -> str | None:
        """JSON for data-mq-when: the gates forms.js evaluates (None: always applies)."""
        return json.dumps([g.rule for g in self.node.gates], ensure_ascii=False) if self.node.gates else None

    @property
    def default_raw(self) -> str | None:
        """The default as the page shows it, for forms.js's "row left as offered" test."""
        return raw.default_text(self.node)

    @property
    def optional_scope(self) -> bool:
        """Inside an optional group or row: its required fields are only required once it is used.

        Such fields get data-mq-required instead of required, and forms.js turns it into
        `required` when something in the group/row is filled; otherwise the browser would refuse
        to submit a spare empty row that the server would simply drop.
        """
        return self.node.in_optional_group or self.in_optional_row

    def control_attrs(self, required: bool = False, **extra) -> Markup:
        """Attributes every control of this field gets (name/id come from the template).

        required=True: this control takes part in `required` (text, select, radio, geo inputs).
        """
        attrs = {"aria-describedby": self.described_by() or False,
                 "aria-invalid": "true" if self.mq_errors else False}
        if required and self.node.required and not self.node.read_only:
            attrs["data-mq-required" if self.optional_scope else "required"] = True
        if self.node.read_only:  # readonly only exists for text-like controls
            attrs["readonly" if self.node.kind in _TEXT_KINDS else "disabled"] = True
        attrs.update(extra)
        return Markup(html_params(**attrs))


class RawField(StringField):
    """A text input whose data is exactly the submitted string ("" when absent)."""

    def process_data(self, value):
        self.data = raw.scalar(getattr(self, "node", None), value)

    def process_formdata(self, valuelist):
        first = valuelist[0] if valuelist else ""
        self.data = first if isinstance(first, str) else ""


class TextField(NodeField, RawField):
    """Single-line text, formats, integers and numbers; the input type follows the node kind."""

    def input_attrs(self) -> Markup:
        node, schema = self.node, self.node.schema
        attrs = {"type": _INPUT_TYPES[node.kind], "minlength": schema.get("minLength", False),
                 "maxlength": schema.get("maxLength", False), "placeholder": node.ui.get("ui:placeholder", False)}
        pattern = _PAGE_PATTERNS.get(node.kind) or html_pattern(schema.get("pattern", ""))
        attrs["pattern"] = pattern or False
        if node.kind in ("integer", "number"):
            attrs.update(min=schema.get("minimum", False), max=schema.get("maximum", False),
                         step=schema.get("multipleOf", 1 if node.kind == "integer" else "any"),
                         inputmode="numeric" if node.kind == "integer" else "decimal")
        if node.kind == "idcard":
            attrs.update(maxlength=18, autocomplete="off", autocapitalize="characters")
        return self.control_attrs(required=True, **{k: _attr(v) for k, v in attrs.items()})


class TextAreaField(TextField):
    def input_attrs(self) -> Markup:
        schema = self.node.schema
        return self.control_attrs(
            required=True, rows=self.node.ui.get("ui:rows", 4), minlength=schema.get("minLength", False),
            maxlength=schema.get("maxLength", False), placeholder=self.node.ui.get("ui:placeholder", False))


class ChoiceField(NodeField, SelectField):
    """select / radio for enum, oneOf and yes/no; data is the raw option value.

    The options are kept in `options_raw` rather than WTForms' `choices`: the templates render
    them, and the schema (not WTForms) decides what is a valid choice.
    """

    def __init__(self, *args, node=None, **kwargs):
        super().__init__(*args, node=node, validate_choice=False, **kwargs)
        self.options_raw = [(raw.scalar(node, value), label) for value, label in node.choices]

    def process_data(self, value):
        self.data = raw.scalar(self.node, value)

    def process_formdata(self, valuelist):
        first = valuelist[0] if valuelist else ""
        self.data = first if isinstance(first, str) else ""

    def options(self):
        """(raw value, label, selected) for the template."""
        return [(value, label, value == self.data) for value, label in self.options_raw]


class CheckboxField(NodeField, BooleanField):
    def process_data(self, value):
        self.data = bool(value)

    def process_formdata(self, valuelist):
        self.data = bool(valuelist) and valuelist[0] not in ("", "false")


class ChoicesField(NodeField, SelectMultipleField):
    """Checkboxes for an array of options; data is the list of raw values."""

    def __init__(self, *args, node=None, **kwargs):
        super().__init__(*args, node=node, validate_choice=False, **kwargs)
        self.options_raw = [(raw.scalar(node, value), label) for value, label in node.choices]

    def process_data(self, value):
        self.data = [raw.scalar(self.node, v) for v in value] if isinstance(value, list) else []

    def process_formdata(self, valuelist):
        self.data = [v for v in valuelist if isinstance(v, str)]

    def options(self):
        return [(value, label, value in self.data) for value, label in self.options_raw]


class GeoForm(Form):
    lon = RawField("经度")
    lat = RawField("纬度")


class GeoField(NodeField, FormField):
    """Two number inputs, `<name>-lon` and `<name>-lat`; data is {"lon": raw, "lat": raw}."""

    def __init__(self, *args, node=None, **kwargs):
        super().__init__(GeoForm, *args, node=node, **kwargs)

    def process(self, formdata, data=unset_value, extra_filters=None):
        value = self.default if data is unset_value else data  # None: an edited record without one
        value = value if isinstance(value, dict) else {}
        super().process(formdata, {k: value.get(k) for k in ("lon", "lat")}, extra_filters)


class AttachmentField(NodeField, Field):
    """File input(s) plus a checked checkbox per already stored id (uncheck to remove it).

    data = {"keep": [ids], "new": [FileStorage]}.
    """

    def process_data(self, value):
        ids = value if isinstance(value, list) else ([value] if value else [])
        self.data = {"keep": [i for i in ids if isinstance(i, str)], "new": []}

    def process_formdata(self, valuelist):
        self.data = {"keep": [v for v in valuelist if isinstance(v, str) and v.strip()],
                     "new": [v for v in valuelist if getattr(v, "filename", None)]}

    @property
    def multiple(self) -> bool:
        return self.node.kind == "attachments"

    @property
    def pick_label(self) -> str:
        accept = self.node.attachment.get("accept", [])
        photos = bool(accept) and all(a.startswith("image/") for a in accept)
        noun = "照片" if photos else "文件"
        return f"{'拍照或' if photos else ''}选择{'新的' if self.data['keep'] else ''}{noun}"

    @property
    def hint(self) -> str:
        """What may be uploaded, e.g. "可上传 image/jpeg、image/png，每个文件不超过 5 MB"."""
        spec, parts = self.node.attachment, []
        if spec.get("accept"):
            parts.append("可上传 " + "、".join(spec["accept"]))
        if spec.get("maxBytes"):
            parts.append(f"每个文件不超过 {size(spec['maxBytes'])}")
        if self.multiple and self.node.max_items:
            parts.append(f"最多 {self.node.max_items} 个")
        return "，".join(parts)

    def input_attrs(self) -> Markup:
        spec = self.node.attachment
        return self.control_attrs(
            type="file", accept=",".join(spec.get("accept", [])) or False, multiple=self.multiple,
            capture=self.node.ui.get("ui:capture", False),
            **{"data-mq-max-bytes": spec.get("maxBytes", False)})


class GroupField(NodeField, FormField):
    """A nested object (fieldset) or one row of a repeat group."""


class RepeatField(NodeField, FieldList):
    """Rows of a repeat group; always at least max(minItems, 1) rows so a row can be filled."""

    @property
    def add_label(self) -> str:
        return self.node.ui.get("ui:addLabel", "添加一项")

    @property
    def remove_label(self) -> str:
        return self.node.ui.get("ui:removeLabel", "删除此项")

    def row_label(self, number) -> str:
        return self.node.ui.get("ui:rowLabel", "第{n}项").replace("{n}", str(number))

    def process(self, formdata, data=unset_value, extra_filters=None):
        super().process(formdata, data, extra_filters)
        self.mark_rows()

    def mark_rows(self):
        """Flag the fields of rows beyond minItems (and of every row in an optional scope)."""
        for position, row in enumerate(self.entries):
            _mark(row, self.optional_scope or position >= self.node.min_items)

    def prototype(self) -> GroupField:
        """An unattached empty row named with INDEX_PLACEHOLDER, for forms.js to clone."""
        options = dict(name=f"{self.name}-{INDEX_PLACEHOLDER}", id=f"{self.id}-{INDEX_PLACEHOLDER}",
                       _meta=self.meta, translations=self._translations)
        row = self.meta.bind_field(self._form, self.unbound_field, options)
        row.process(None)
        _mark(row, True)
        return row

    @property
    def can_add(self) -> bool:
        return self.node.max_items is None or len(self.entries) < self.node.max_items

    @property
    def can_remove(self) -> bool:
        return len(self.entries) > self.node.min_items

    def add_row(self) -> bool:
        if not self.can_add:
            return False
        self.append_entry()
        self.mark_rows()
        return True

    def remove_row(self, row_name: str) -> bool:
        index = next((i for i, e in enumerate(self.entries) if e.name == row_name), None)
        if index is None or not self.can_remove:
            return False
        del self.entries[index]  # the others keep their names; FieldList accepts gaps on submit
        self.mark_rows()
        return True


def _mark(field, optional: bool):
    field.in_optional_row = optional
    if isinstance(field, GroupField):
        for sub in field.form:
            _mark(sub, optional)
    elif isinstance(field, RepeatField):
        field.mark_rows()  # its rows: optional if this is, or if beyond its own minItems


def _attr(value):
    """html_params drops False; numbers become strings."""
    if value is None or value is False:
        return False
    return value if value is True else str(value)
