"""Open311 GeoReport v2 at /open311/v2: the platform's event categories as services, reports as service requests.

    GET  services.{json,xml}                  one service per event category of every usable theme
    GET  services/{service_code}.{json,xml}   the service definition: the theme's report form as attributes
    GET  requests.{json,xml}                  cases; without a key only the public view (see docs/open311.md)
    POST requests.{json,xml}                  report a case through the normal workflow (api_key required)
    GET  requests/{id}.{json,xml}             one case
    GET  tokens/{token}.{json,xml}            the service_request_id of a token

Errors answer in the spec's format, [{"code": 400, "description": "…"}], with the same HTTP status. The rules stay
in core, forms, workflows and themes: this package only translates between them and the spec.
"""
from __future__ import annotations

from flask import Blueprint

from ..extensions import csrf

blueprint = Blueprint("open311", __name__, url_prefix="/open311/v2")
csrf.exempt(blueprint)  # machine clients post form-encoded bodies with an api_key, never a browser session

from . import openapi, views  # noqa: E402,F401  (routes)
