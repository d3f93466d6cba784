"""Browser libraries served from their Python wheels (xstatic): the map works with no internet at all."""
from __future__ import annotations

import xstatic.pkg.leaflet as leaflet
import xstatic.pkg.leaflet_markercluster as markercluster
from flask import Blueprint, abort, send_from_directory

from minqing import forms

blueprint = Blueprint("vendor", __name__, url_prefix="/vendor")
PACKAGES = {"leaflet": leaflet.BASE_DIR, "markercluster": markercluster.BASE_DIR, "forms": str(forms.STATIC_DIR)}


@blueprint.get("/<package>/<path:filename>")
def asset(package: str, filename: str):
    if package not in PACKAGES:
        abort(404)
    response = send_from_directory(PACKAGES[package], filename, max_age=86400)
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response
