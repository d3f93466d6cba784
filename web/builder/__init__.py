"""主题搭建: department staff build and change their department's business themes in the browser.

Pages only: every rule (who may edit, what a draft may hold, publishing, versions, imports) is
`minqing.themes.authoring`'s; the editor itself is `static/js/builder.js` editing the theme document as JSON.
"""
from flask import Blueprint

blueprint = Blueprint("builder", __name__, url_prefix="/builder")

from . import editor, pages, preview, versions  # noqa: E402,F401  (views register on the blueprint)
from .common import script_json  # noqa: E402

blueprint.add_app_template_filter(script_json, "script_json")
