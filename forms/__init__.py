"""Forms engine: a department's JSON Schema -> WTForms form -> mobile HTML, validated server-side.

    FormClass = forms.build_form(schema, ui)          # cached per schema version
    form = FormClass(request_formdata, previous=stored_document_or_None)
    if form.apply_row_action():                       # no-JS "add/remove row" buttons
        return page(forms.render(form))
    if form.validate():                               # the JSON Schema is the truth
        document = forms.to_document(schema, form, store_upload=storage.save)
        save(document, forms.schema_version(schema))
    else:
        return page(forms.render(form))               # errors next to their fields

See docs/forms.md for the supported schema subset, UI schema keys, formats and conditions.
"""
from __future__ import annotations

from pathlib import Path

from . import documents as _documents
from .builder import SchemaForm
from .compiled import compiled, schema_version
from .display import display
from .formats import ATTACHMENT_ID
from .model import AttachmentSpec, DisplayRow, FieldError, SchemaError, SchemaProblem
from .render import jinja_environment, render, template_loader
from .schema_check import check_schema, meta_schema
from .spec import walk

STATIC_DIR = Path(__file__).parent / "static"
"""forms.js and forms.css, for the web app to serve (e.g. at /static/forms/)."""

__all__ = [
    "ATTACHMENT_ID", "AttachmentSpec", "DisplayRow", "FieldError", "STATIC_DIR", "SchemaError",
    "SchemaForm", "SchemaProblem", "apply_row_action", "attachment_refs", "attachment_specs", "build_form",
    "check_schema", "display", "from_document", "jinja_environment", "meta_schema", "render",
    "schema_version", "template_loader", "to_document", "validate",
]


def attachment_refs(schema: dict | None, value, path: str = "") -> list[tuple[str, str]]:
    """(path, id) of every attachment the document names, found through the schema's `format: attachment`."""
    if not isinstance(schema, dict):
        return []
    if schema.get("format") == "attachment" and isinstance(value, str):
        return [(path, value)]
    found = []
    if isinstance(value, dict):
        for name, item in value.items():
            found += attachment_refs(schema.get("properties", {}).get(name), item, f"{path}.{name}" if path else name)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found += attachment_refs(schema.get("items"), item, f"{path}[{index}]")
    return found


def build_form(schema: dict, ui: dict | None = None) -> type[SchemaForm]:
    """The WTForms form class for `schema` (+ UI schema); raises SchemaError for a bad schema."""
    return compiled(schema).form_class(ui)


def validate(schema: dict, data) -> list[FieldError]:
    """Validate a document against its schema version; [] when valid."""
    return compiled(schema).validate(data)


def to_document(schema: dict, formdata, *, store_upload=None, previous: dict | None = None,
                known_attachments=(), ui: dict | None = None) -> dict:
    """The JSON document for a submission (a form instance, or werkzeug/WTForms formdata).

    store_upload(field_path, FileStorage) -> attachment id is called for each new file. With a
    form instance, `previous` / `known_attachments` default to what the form was built with.
    """
    if isinstance(formdata, SchemaForm):
        form = formdata
        if previous is not None:
            form.previous = previous
        form.known_attachments |= frozenset(known_attachments)
    else:
        form = build_form(schema, ui)(formdata, previous=previous, known_attachments=known_attachments)
    return _documents.to_document(form, store_upload=store_upload)


def from_document(schema: dict, document: dict, ui: dict | None = None) -> SchemaForm:
    """A form pre-filled with a stored document, for editing it."""
    version = compiled(schema)
    return version.form_class(ui)(data=_documents.prefill(version.tree(ui), document), previous=document)


def apply_row_action(form: SchemaForm) -> bool:
    """Handle a no-JS add/remove-row button; True when the caller should just re-render."""
    return form.apply_row_action()


def attachment_specs(schema: dict) -> list[AttachmentSpec]:
    """Upload constraints per attachment field, for the code that receives and stores files."""
    out = []
    for node, path in walk(compiled(schema).tree()):
        if node.kind in ("attachment", "attachments"):
            spec = node.attachment
            out.append(AttachmentSpec(
                path=".".join(path).replace(".[]", "[]"), title=node.title,
                accept=tuple(spec.get("accept", ())), max_bytes=spec.get("maxBytes"),
                multiple=node.kind == "attachments",
                max_items=node.max_items if node.kind == "attachments" else 1))
    return out
