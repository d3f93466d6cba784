"""The REST API at /api/v1: themes and forms, cases and their workflow, grids, regions and layers as GeoJSON,
visits and base data — with token authentication, the same roles and scope as the web, masked personal data,
idempotent creates and an OpenAPI 3 document at /api/v1/openapi.json. See docs/api.md.

Helpers other machine interfaces reuse:
    minqing.web.api.auth          key from the request, the actor it stands for, role checks (401/403)
    minqing.web.api.idempotency   Idempotency-Key: replay the first answer, refuse a reused key (422)
    minqing.web.api.errors        ApiError and the problem details body (RFC 9457)
    minqing.web.api.semantics     OPTIONS, ETag and conditional requests (304, 412)
"""
from __future__ import annotations

from flask import Blueprint

from ..extensions import csrf

blueprint = Blueprint("api", __name__, url_prefix="/api/v1")
csrf.exempt(blueprint)  # token authentication only: no browser session, so no cross-site request to forge

from . import errors  # noqa: E402,F401  (error handlers)
from . import semantics  # noqa: E402,F401  (before auth: OPTIONS needs no key)
from . import auth  # noqa: E402,F401  (before_request: the key's actor)
from . import attachments_view, basedata, cases, geo, openapi, themes_view, visits_view  # noqa: E402,F401
from . import suggestions_view  # noqa: E402,F401
from . import appeals_view  # noqa: E402,F401
from . import joint_view  # noqa: E402,F401  (协同处置)
from . import duplicates_view  # noqa: E402,F401  (重复件)
from . import records_view  # noqa: E402,F401  (台账: department ledgers)
