"""The 预警发布 page. The platform object is the one the web application keeps in `app.extensions["minqing"]`.

The page brings its stylesheet as a static file: the site's Content-Security-Policy allows no inline styles.
"""
from __future__ import annotations

from flask import Blueprint, current_app, render_template

from . import recent_warnings

LEVEL_CLASSES = {"红色": "red", "橙色": "orange", "黄色": "yellow", "蓝色": "blue"}


def make_blueprint() -> Blueprint:
    """A new blueprint for each application: the host adds its own hooks to it, which Flask allows only before
    a blueprint's first registration."""
    blueprint = Blueprint("meteorology", __name__, url_prefix="/meteorology", template_folder="templates",
                          static_folder="static", static_url_path="/static")

    @blueprint.get("/warnings")
    def warnings():
        platform = current_app.extensions["minqing"]
        with platform.db.session() as session:
            rows = recent_warnings(session)
        return render_template("meteorology/warnings.html", warnings=rows, level_classes=LEVEL_CLASSES)

    return blueprint
