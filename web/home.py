"""The start page: each role lands where its work is."""
from __future__ import annotations

from flask import Blueprint, redirect, render_template, url_for
from flask_login import current_user

from minqing.core import stats

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
