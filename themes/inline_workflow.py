"""A theme's inline workflow (``"workflow": {...}`` in its document), as the workflow engine sees it.

A case names its workflow by a key (`Case.workflow_key`). A theme that uses a template gives its cases the
template's key; a theme with an inline workflow gives them its own theme key — a dotted key, which no
template can have (workflow keys are ``[a-z][a-z0-9_]*``). The engine asks the `resolve_workflow` hook for a
key it does not know, and the themes' bridge plugin (``theme_routing``) answers with `inline_workflow`.

Cases follow the theme's newest inline workflow: publishing a new version changes time limits and roles for
the cases already running (a deadline already set stays). If the theme has since gone back to a template,
or its plugin is disabled, its running cases keep the newest inline workflow that was ever published.
"""
from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from minqing.core.models import ThemeVersion

from .registry import registry


def is_theme_key(key: str) -> bool:
    return "." in key


def inline_workflow(platform, session: Session | None, theme_key: str) -> dict | None:
    """The inline workflow document of the theme `theme_key`, or None when it has none."""
    if session is None:
        with platform.db.session() as own:
            return inline_workflow(platform, own, theme_key)
    theme = registry(platform, session).themes.get(theme_key)
    if theme is not None and isinstance(theme.workflow, dict):
        return theme.workflow
    documents = session.scalars(select(ThemeVersion.document).where(ThemeVersion.theme_key == theme_key)
                                .order_by(ThemeVersion.version.desc()))
    return next((document["workflow"] for document in documents
                 if isinstance(document.get("workflow"), dict)), None)
