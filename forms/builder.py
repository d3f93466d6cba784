"""Schema -> WTForms form class, and the form's validate() / no-JS row actions."""
from __future__ import annotations

from wtforms import Form

from . import fields as f
from .model import FieldError
from .spec import Node

_LEAF_CLASSES = {
    "text": f.TextField, "date": f.TextField, "datetime": f.TextField, "email": f.TextField,
    "mobile": f.TextField, "idcard": f.TextField, "integer": f.TextField, "number": f.TextField,
    "textarea": f.TextAreaField, "select": f.ChoiceField, "radio": f.ChoiceField, "yesno": f.ChoiceField,
    "checkbox": f.CheckboxField, "checkboxes": f.ChoicesField, "geo": f.GeoField,
    "attachment": f.AttachmentField, "attachments": f.AttachmentField,
}


class GroupForm(Form):
    """Form class of a nested object or a repeat row; the top-level SchemaForm validates."""

    mq_node: Node | None = None


class SchemaForm(Form):
    """Base of every generated form.

    Extra constructor arguments (not form data):
    - previous: the stored document being edited; read-only fields keep its values and only
      attachment ids found in it (or in known_attachments) are kept;
    - known_attachments: ids the caller stored for this person earlier (see docs/forms.md).
    """

    mq = None                       # the Compiled schema version this class was built from
    mq_node: Node | None = None
    previous: dict | None = None
    known_attachments: frozenset = frozenset()

    def __init__(self, formdata=None, obj=None, prefix="", data=None, meta=None, *,
                 previous=None, known_attachments=(), **kwargs):
        self.mq_formdata = formdata
        self.previous = previous
        self.known_attachments = frozenset(known_attachments)
        self.schema_errors: list[FieldError] = []
        self.error_links: list[tuple[str, str | None]] = []  # (message, element id) for the summary
        super().__init__(formdata, obj, prefix, data, meta, **kwargs)

    @property
    def schema_version(self) -> str:
        return self.mq.version

    def validate(self, extra_validators=None, *, store_upload=None) -> bool:
        """Validate the submission as the document it becomes, against the schema.

        Uploads are checked against x-attachment (type, size). They are stored only when
        `store_upload(path, file) -> id` is given: the new ids then show as already uploaded if
        the page is re-rendered, and are remembered in `known_attachments` for to_document().
        """
        from .documents import convert
        super().validate(extra_validators)
        self.form_errors = []
        for field in iter_fields(self):
            field.mq_errors = []
            if isinstance(field, (f.GroupField, f.GeoField)):
                field.form.form_errors = []
        result = convert(self, store_upload=store_upload, check_uploads=True)
        self.known_attachments |= frozenset(result.stored)
        errors = result.upload_errors + self.mq.validate(result.document)
        self.error_links = [(e.message, _attach(self, e, result.locations)) for e in errors]
        _collect_row_errors(self)
        self.schema_errors = errors
        return not errors

    def apply_row_action(self) -> bool:
        """Handle the no-JS "add row" / "remove row" submit buttons.

        Returns True when the submission was such a button press: the caller re-renders the
        form (now with one row more or less) instead of validating and saving it.
        """
        for key in self.mq_formdata or ():
            if key.startswith(f.ADD_PREFIX):
                repeat = find_field(self, key[len(f.ADD_PREFIX):])
                if isinstance(repeat, f.RepeatField):
                    repeat.add_row()
                    return True
            if key.startswith(f.REMOVE_PREFIX):
                row_name = key[len(f.REMOVE_PREFIX):]
                repeat = find_field(self, row_name.rpartition("-")[0])
                if isinstance(repeat, f.RepeatField):
                    repeat.remove_row(row_name)
                    return True
        return False


def make_form_class(compiled, tree: Node) -> type[SchemaForm]:
    cls = _form_class(tree, SchemaForm, f"Form_{compiled.version}")
    cls.mq = compiled
    return cls


def _form_class(node: Node, base: type, name: str) -> type:
    attrs = {child.name: _unbound(child) for child in node.children}
    attrs["mq_node"] = node
    return type(name.replace("@", "_"), (base,), attrs)


def _unbound(node: Node):
    common = dict(label=node.title, description=node.help or "", node=node)
    if node.kind == "group":
        return f.GroupField(_form_class(node, GroupForm, f"Group_{node.name}"), **common)
    if node.kind == "repeat":
        row_class = _form_class(node.row, GroupForm, f"Row_{node.name}")
        row = f.GroupField(row_class, label=node.row.title, node=node.row)
        # No max_entries: WTForms would silently drop extra rows; validation reports maxItems instead.
        return f.RepeatField(row, min_entries=max(node.min_items, 1), **common)
    return _LEAF_CLASSES[node.kind](default=node.default, **common)


def iter_fields(form):
    """Every NodeField of a form, depth first, including repeat rows."""
    for field in form:
        if not isinstance(field, f.NodeField):
            continue
        yield field
        if isinstance(field, f.GroupField):
            yield from iter_fields(field.form)
        elif isinstance(field, f.RepeatField):
            for row in field.entries:
                yield row
                yield from iter_fields(row.form)


def find_field(form, name: str):
    return next((field for field in iter_fields(form) if field.name == name), None)


def _attach(form: SchemaForm, error: FieldError, locations: dict) -> str | None:
    """Show an error at the field its path names, else at the closest enclosing field.

    Returns the id of the field's wrapper element, for the error summary's link.
    """
    path = error.path
    while path and path not in locations:
        path = path[: max(path.rfind("."), path.rfind("["), 0)]
    field = locations.get(path)
    if field is None:
        form.form_errors.append(error.message)
        return None
    field.mq_errors.append(error.message)
    if isinstance(field, (f.GroupField, f.GeoField)):
        field.form.form_errors.append(error.message)
    else:
        field.errors = [*field.errors, error.message]
    return f"{field.id}-field"


def _collect_row_errors(form):
    """FieldList.errors is a plain list filled by its own validate(); rebuild it, deepest first,
    so that form.errors shows errors attached to fields inside rows, in WTForms' usual shape."""
    for field in reversed(list(iter_fields(form))):
        if isinstance(field, f.RepeatField):
            rows = [row.errors for row in field.entries]
            field.errors = (rows if any(rows) else []) + field.mq_errors
