"""Per-version compilation: check, snapshot, build the field tree and validators once.

A schema's version is its declared `version` (or `$id`) plus a hash of its content, so an edited
schema is a new version even if nobody bumped `version`. Lookups must be cheap because they
happen on every validate() call: the first-level cache is keyed by the schema's marshal bytes
(~5 µs, exact: true and 1 differ); a miss falls back to the canonical version string, so a dict
with the same content in another key order still reuses the compiled version.
"""
from __future__ import annotations

import copy
import hashlib
import json
import marshal
import threading
from collections import OrderedDict

from .model import SchemaError
from .schema_check import check_schema
from .spec import Node, build_tree
from .validation import CompiledValidator

_MAX_CACHED = 256
_lock = threading.Lock()
_by_bytes: OrderedDict[bytes, Compiled] = OrderedDict()
_by_version: OrderedDict[str, Compiled] = OrderedDict()


def schema_version(schema: dict) -> str:
    """E.g. "3@5f2c9a1b7e04": declared version (or $id), "@", 12 hex digits of the content hash."""
    canonical = json.dumps(schema, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    digest = hashlib.sha256(canonical.encode("utf-8")).hexdigest()[:12]
    label = schema.get("version", schema.get("$id", ""))
    return f"{label}@{digest}" if label != "" else digest


class Compiled:
    """Everything derived from one schema version. Immutable once built."""

    def __init__(self, schema: dict, version: str):
        problems = check_schema(schema)
        if problems:
            raise SchemaError(problems)
        self.schema = copy.deepcopy(schema)  # later in-place edits by the caller must not leak in
        self.version = version
        self.validator = CompiledValidator(self.schema)
        self._trees: dict[str, Node] = {}
        self._forms: dict[str, type] = {}

    def validate(self, document) -> list:
        return self.validator.errors(document)

    def tree(self, ui: dict | None = None) -> Node:
        key = _ui_key(ui)
        if key not in self._trees:
            if ui:
                from .ui_check import check_ui
                problems = check_ui(self.schema, ui)
                if problems:
                    raise SchemaError(problems)
            self._trees[key] = build_tree(self.schema, copy.deepcopy(ui))
        return self._trees[key]

    def form_class(self, ui: dict | None = None) -> type:
        key = _ui_key(ui)
        if key not in self._forms:
            from .builder import make_form_class
            self._forms[key] = make_form_class(self, self.tree(ui))
        return self._forms[key]


def _ui_key(ui: dict | None) -> str:
    return json.dumps(ui or {}, sort_keys=True, ensure_ascii=False)


def compiled(schema: dict) -> Compiled:
    """The compiled form of `schema` (raises SchemaError when check_schema finds problems)."""
    try:
        key = marshal.dumps(schema)
    except ValueError:  # not plain JSON data; the version string still identifies it
        key = None
    found = _by_bytes.get(key) if key is not None else None
    if found is not None:
        return found
    version = schema_version(schema)
    found = _by_version.get(version) or Compiled(schema, version)
    with _lock:
        _remember(_by_version, version, found)
        if key is not None:
            _remember(_by_bytes, key, found)
    return found


def _remember(cache: OrderedDict, key, value):
    cache[key] = value
    cache.move_to_end(key)
    while len(cache) > _MAX_CACHED:
        cache.popitem(last=False)
