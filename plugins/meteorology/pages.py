"""The 预警发布 page, built on `minqing.web.plugin_api`: for the staff who follow warnings (a citizen or an
auditor gets the site's 403 page, an anonymous visitor the sign-in page), counting only the relays the viewer may
see, in the site's layout.

The page brings its stylesheet as a static file: the site's Content-Security-Policy allows no inline styles.
"""
from __future__ import annotations

from flask import Blueprint

from minqing.core.models import Case
from minqing.web import plugin_api

from . import recent_warnings

LEVEL_CLASSES = {"红色": "red", "橙色": "orange", "黄色": "yellow", "蓝色": "blue"}
# Who follows warnings: the centres and command posts, leaders, grid workers (the villages' 信息员) and
# departments; each sees the relays of their own scope.
READERS = ("admin", "operator", "leader", "grid_worker", "department_staff")


def make_blueprint() -> Blueprint:
    blueprint = Blueprint("meteorology", __name__, url_prefix="/meteorology", template_folder="templates",
                          static_folder="static", static_url_path="/static")

    @blueprint.get("/warnings")
    @plugin_api.roles_required(*READERS)
    def warnings():
        rows = recent_warnings(plugin_api.db(), restrict=lambda statement: plugin_api.scoped(statement, Case))
        return plugin_api.render_page("meteorology/warnings.html", warnings=rows, level_classes=LEVEL_CLASSES)

    return blueprint
