"""The start page: each role lands where its work is."""
from __future__ import annotations

from flask import Blueprint, current_app, redirect, render_template, send_from_directory, url_for
from flask_login import current_user

from minqing.core.ops import stats

from .context import db, viewer
from .navigation import nav_items

blueprint = Blueprint("home", __name__)


@blueprint.app_context_processor
def _navigation():
    return {"nav_items": nav_items}


@blueprint.get("/")
def index():
    if not current_user.is_authenticated:
        return render_template("home/index.html", figures=stats.collect(db()))
    items = nav_items(viewer())
    return redirect(url_for(items[0][0])) if items else render_template("home/index.html", figures=stats.collect(db()))


@blueprint.get("/favicon.ico")
def favicon():
    """Browsers ask for /favicon.ico whatever the page says; answer it rather than log a 404 on every visit."""
    response = send_from_directory(current_app.static_folder, "favicon.ico", mimetype="image/vnd.microsoft.icon")
    response.cache_control.public, response.cache_control.max_age = True, 7 * 24 * 3600
    return response
