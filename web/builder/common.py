"""What the builder's views share: the role gate, loading a draft the viewer may edit, problems as JSON."""
from __future__ import annotations

import functools
import json

from flask import abort
from flask_login import current_user
from markupsafe import Markup
from minqing.core.models import ThemeDraft
from minqing.themes import authoring

from ..context import db, viewer

BUILDER_ROLES = ("admin", "department_staff")


def builder_required(view):
    """Signed in, and allowed to build themes for at least one department; 403 otherwise."""
    @functools.wraps(view)
    def wrapped(*args, **kwargs):
        if not current_user.is_authenticated:
            from ..extensions import login_manager
            return login_manager.unauthorized()
        if not viewer().has_role(*BUILDER_ROLES) or not authoring.can_build(viewer()):
            abort(403)
        return view(*args, **kwargs)
    return wrapped


def draft_or_404(key: str) -> ThemeDraft:
    """The draft, if this viewer may edit its department; 404 when there is none, 403 when it is not theirs."""
    try:
        return authoring.get_draft(db(), viewer(), key)
    except authoring.UnknownDraft:
        abort(404)
    except authoring.NotAllowed:
        abort(403)


def problems_json(problems) -> list[dict]:
    return [{"path": problem.path, "message": problem.message} for problem in problems]


def script_json(value) -> Markup:
    """JSON for a <script type="application/json"> block, keys in their order (Flask's tojson sorts them, which
    would reorder a form's fields), with the characters that could end the block escaped."""
    text = json.dumps(value, ensure_ascii=False)
    for char, escaped in (("<", "\\u003c"), (">", "\\u003e"), ("&", "\\u0026"), ("\u2028", "\\u2028"),
                          ("\u2029", "\\u2029")):
        text = text.replace(char, escaped)
    return Markup(text)
