"""Form submissions <-> stored JSON documents.

to_document() turns a submission into the document that is stored:
- values get their JSON types (integers, numbers, booleans, arrays, nested objects);
- empty optional inputs are omitted, and so are empty arrays and empty optional groups;
- a repeat row left as it was offered (empty, or only defaults) is dropped, so the spare row a
  phone without JavaScript shows never produces errors;
- values of fields whose condition is false are dropped (see conditions.py): a hidden field's
  stale value is never stored;
- readOnly fields take the previous document's value (else their default), never the submission;
- new uploads go to store_upload(path, file) -> id; kept ids must appear in the previous
  document or in known_attachments, so a crafted id cannot claim someone else's file.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from . import messages, raw
from .conditions import prune
from .model import FieldError
from .raw import MISSING
from .spec import Node
from .validation import field_error, format_path


@dataclass
class Conversion:
    document: dict
    locations: dict[str, Any]                   # document path -> WTForms field, for errors
    upload_errors: list[FieldError] = field(default_factory=list)
    stored: list[str] = field(default_factory=list)  # ids store_upload returned


class _Context:
    def __init__(self, form, store_upload, check_uploads):
        self.form, self.store_upload, self.check_uploads = form, store_upload, check_uploads
        self.previous = form.previous or {}
        self.vouched = attachment_ids(form.mq_node, self.previous) | set(form.known_attachments)
        self.result = Conversion({}, {})
        self.pending = 0

    def upload(self, node: Node, parts: list, file) -> str | None:
        if self.check_uploads:
            error = upload_problem(self.form.mq.schema, node, parts, file)
            if error:
                self.result.upload_errors.append(error)
                return None
        if self.store_upload is None:
            if not self.check_uploads:
                raise ValueError("an upload was submitted but to_document() got no store_upload")
            self.pending += 1  # validating without storing: a stand-in id of the right shape
            return f"pending-upload-{self.pending}"
        attachment_id = self.store_upload(format_path(parts), file)
        self.result.stored.append(attachment_id)
        return attachment_id


def convert(form, *, store_upload=None, check_uploads=False) -> Conversion:
    ctx = _Context(form, store_upload, check_uploads)
    ctx.result.document = _object(form.mq_node, form, [], ctx)
    return ctx.result


def _object(node: Node, form, parts: list, ctx: _Context) -> dict:
    out = {}
    for child in node.children:
        field_ = form[child.name]
        child_parts = parts + [child.name]
        ctx.result.locations[format_path(child_parts)] = field_
        if child.read_only:
            value = _previous(ctx.previous, child_parts, child.default)
        else:
            value = _value(child, field_, child_parts, ctx)
        if value is not MISSING:
            out[child.name] = value
    return prune(node.children, out)


def _value(node: Node, field_, parts: list, ctx: _Context):
    kind = node.kind
    if kind == "group":
        obj = _object(node, field_.form, parts, ctx)
        return obj if obj or node.required else MISSING
    if kind == "repeat":
        return _rows(node, field_, parts, ctx)
    if kind == "checkbox":
        return bool(field_.data)
    if kind == "checkboxes":
        values = [raw.parse(node, text) for text in field_.data]
        return _array([v for v in values if v is not MISSING], node)
    if kind == "geo":
        return _geo(field_.data)
    if kind in ("attachment", "attachments"):
        return _attachments(node, field_, parts, ctx)
    return raw.parse(node, field_.data or "")


def _rows(node: Node, field_, parts: list, ctx: _Context):
    rows = []
    for entry in field_.entries:
        if _pristine(node.row, entry.form):
            continue
        row_parts = parts + [len(rows)]  # document index: dropped rows leave no gap
        ctx.result.locations[format_path(row_parts)] = entry
        rows.append(_object(node.row, entry.form, row_parts, ctx))
    return _array(rows, node)


def _geo(data: dict):
    lon, lat = data.get("lon", "").strip(), data.get("lat", "").strip()
    if not lon and not lat:
        return MISSING
    point = {}
    for key, text in (("lon", lon), ("lat", lat)):
        if text:  # a half-filled point stays visible to validation, which reports it
            point[key] = raw.parse_number(text)
    return point


def _attachments(node: Node, field_, parts: list, ctx: _Context):
    kept = [i for i in field_.data["keep"] if i in ctx.vouched]
    new = []
    for i, upload in enumerate(field_.data["new"]):
        item_parts = parts + [len(kept) + i] if node.kind == "attachments" else parts
        attachment_id = ctx.upload(node, item_parts, upload)
        if attachment_id is not None:
            new.append(attachment_id)
    if ctx.store_upload is not None and ctx.check_uploads:
        field_.data = {"keep": kept + new, "new": []}  # stored: show as uploaded if re-rendered
    if node.kind == "attachment":
        ids = new[-1:] or kept[:1]  # a new file replaces the kept one
        return ids[0] if ids else MISSING
    return _array(kept + new, node)


def _array(items: list, node: Node):
    """An empty array is left out, unless minItems asks for items: then [] lets validation say so."""
    return items if items or node.min_items > 0 else MISSING


def _previous(previous: dict, parts: list, default):
    value = previous
    for part in parts:
        try:
            value = value[part]
        except (KeyError, IndexError, TypeError):
            return MISSING if default is None else default
    return value


def _pristine(node: Node, form) -> bool:
    """True when a repeat row holds nothing but what it was offered with (blank or defaults)."""
    for child in node.children:
        field_ = form[child.name]
        if child.kind == "group":
            same = _pristine(child, field_.form)
        elif child.kind == "repeat":
            same = all(_pristine(child.row, row.form) for row in field_.entries)
        elif child.kind == "checkbox":
            same = bool(field_.data) == bool(child.default)
        elif child.kind == "checkboxes":
            same = not field_.data or "\n".join(sorted(field_.data)) == raw.default_text(child)
        elif child.kind == "geo":
            same = not any(v.strip() for v in field_.data.values())
        elif child.kind in ("attachment", "attachments"):
            same = not field_.data["keep"] and not field_.data["new"]
        else:
            same = field_.data.strip() in ("", raw.default_text(child))
        if not same:
            return False
    return True


def attachment_ids(tree: Node, document: dict) -> set[str]:
    """Every attachment id referenced by `document`."""
    found: set[str] = set()
    _collect_ids(tree, document, found)
    return found


def _collect_ids(node: Node, value, found: set):
    if not isinstance(value, dict):
        return
    for child in node.children:
        item = value.get(child.name)
        if child.kind == "attachment" and isinstance(item, str):
            found.add(item)
        elif child.kind == "attachments" and isinstance(item, list):
            found.update(i for i in item if isinstance(i, str))
        elif child.kind == "group":
            _collect_ids(child, item, found)
        elif child.kind == "repeat" and isinstance(item, list):
            for row in item:
                _collect_ids(child.row, row, found)


def upload_problem(schema: dict, node: Node, parts: list, file) -> FieldError | None:
    spec = node.attachment
    accept = spec.get("accept", [])
    mimetype = (getattr(file, "mimetype", "") or "").lower()
    if accept and not any(_mime_matches(pattern, mimetype) for pattern in accept):
        body = messages.detail("attachment-type", "、".join(accept))
        return field_error(schema, parts, "attachment-type", body)
    limit = spec.get("maxBytes")
    if limit is not None and _size(file) > limit:
        return field_error(schema, parts, "attachment-size", messages.detail("attachment-size", messages.size(limit)))
    return None


def _mime_matches(pattern: str, mimetype: str) -> bool:
    if pattern.endswith("/*"):
        return mimetype.startswith(pattern[:-1])
    return mimetype == pattern


def _size(file) -> int:
    stream = file.stream
    position = stream.tell()
    stream.seek(0, 2)
    size = stream.tell()
    stream.seek(position)
    return size


# -- the public side -------------------------------------------------------------------------

def to_document(form, *, store_upload=None) -> dict:
    return convert(form, store_upload=store_upload).document


def prefill(tree: Node, document: dict) -> dict:
    """Form `data` for a stored document: every field present, None where the document has none.

    Absent values must be explicit, or WTForms would show the schema default in an edited record.
    """
    out = {}
    for child in tree.children:
        value = document.get(child.name) if isinstance(document, dict) else None
        if child.kind == "group":
            value = prefill(child, value or {})
        elif child.kind == "repeat":
            value = [prefill(child.row, row) for row in value] if isinstance(value, list) else []
        out[child.name] = value
    return out

