"""The start page: what the platform holds."""
from __future__ import annotations

from flask import Blueprint, current_app, render_template

from minqing.core import stats

blueprint = Blueprint("home", __name__)


@blueprint.get("/")
def index():
    platform = current_app.extensions["minqing"]
    with platform.db.session() as session:
        figures = stats.collect(session)
    return render_template("home/index.html", figures=figures)
