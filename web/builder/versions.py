"""版本记录: who published which version of a theme and when, and what changed between two versions."""
from __future__ import annotations

from flask import abort, render_template, request

from minqing import themes
from minqing.themes import authoring

from ..context import db, viewer
from . import blueprint
from .common import builder_required


@blueprint.get("/<key>/versions")
@builder_required
def versions(key: str):
    history = authoring.version_history(db(), key)      # newest first
    if not history:
        abort(404)
    if not authoring.can_edit(viewer(), themes.theme_version(db(), key).department_key):
        abort(403)
    numbers = [info.version for info in history]
    newest = numbers[0]
    old = request.args.get("old", type=int, default=numbers[1] if len(numbers) > 1 else newest)
    new = request.args.get("new", type=int, default=newest)
    diff = None
    if old in numbers and new in numbers and old != new:
        diff = authoring.diff_versions(themes.theme_version(db(), key, old).document,
                                       themes.theme_version(db(), key, new).document)
    return render_template("builder/versions.html", key=key, history=history, old=old, new=new, diff=diff,
                           title=history[0].title)
