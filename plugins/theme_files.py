"""Theme documents that a department plugin keeps as JSON next to its module.

Keeping the documents as data (not Python dicts) lets the same checks and tools read them as the declarative
theme files, and keeps each plugin's Python down to the behaviour themes cannot declare.
"""
from __future__ import annotations

import json
from importlib import resources


def load(package: str, name: str = "themes.json") -> list[dict]:
    """The theme documents in `name` of `package`: a list, or a single document."""
    documents = json.loads(resources.files(package).joinpath(name).read_text("utf-8"))
    return documents if isinstance(documents, list) else [documents]


def category_codes(documents: list[dict], titles: set[str] | None = None) -> set[str]:
    """Codes of the documents' categories (only those titled in `titles`, when given)."""
    return {category["code"] for document in documents for category in document.get("categories", ())
            if titles is None or category["title"] in titles}
