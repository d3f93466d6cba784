"""HTTP semantics every route of the API shares (RFC 9110), done once here instead of in each view.

- `OPTIONS` answers 204 with the `Allow` of the methods the address really has (werkzeug's url map knows them);
  it needs no key, as it tells no more than the public OpenAPI document.
- Every successful `GET`/`HEAD` carries a strong `ETag` computed from its bytes, and an `If-None-Match` naming it
  answers 304 without a body (werkzeug's `make_conditional`).
- `If-Match` is evaluated where a route declares it (`route(..., if_match=True)`): `require_match(document)` with
  the document the route answers, 412 when the client's tag is stale. Any other route refuses an `If-Match` with
  412 as well: it has no versioned representation, so the condition cannot hold (RFC 9110 §13.1.1).
"""
from __future__ import annotations

import hashlib

from flask import Response, request

from . import blueprint
from .errors import ApiError, allowed_methods, dumps

# Endpoints that evaluate If-Match themselves; filled by `common.route(..., if_match=True)`.
IF_MATCH_ENDPOINTS: set[str] = set()
SAFE_METHODS = ("GET", "HEAD", "OPTIONS")


def etag_of(text: str | bytes) -> str:
    """The strong entity tag (unquoted) of a representation."""
    data = text.encode() if isinstance(text, str) else text
    return hashlib.sha256(data).hexdigest()[:32]


def document_etag(document) -> str:
    """The ETag a GET of `document` answers with (the same bytes as `json_response`)."""
    return etag_of(dumps(document))


def require_match(current_document) -> None:
    """412 unless the request's If-Match names the current representation (or `*`); nothing without If-Match."""
    if "If-Match" not in request.headers:
        return
    current = document_etag(current_document)
    if not request.if_match.contains(current):
        raise ApiError(412, "version_conflict", "该事件已被他人改动（If-Match 与当前 ETag 不符），请重新读取后再办理",
                       {"If-Match": ["与当前 ETag 不符"]}, headers={"ETag": f'"{current}"'})


@blueprint.before_request
def _options_and_preconditions():
    if request.method == "OPTIONS":
        response = Response(status=204)
        del response.headers["Content-Type"]  # no content, so no type (never text/html)
        response.headers["Allow"] = ", ".join(allowed_methods())
        return response
    if (request.method not in SAFE_METHODS and "If-Match" in request.headers
            and request.endpoint not in IF_MATCH_ENDPOINTS):
        raise ApiError(412, "precondition_failed", "此地址没有可比对版本的资源，不接受 If-Match 请求头",
                       {"If-Match": ["此地址不接受 If-Match"]})
    return None


@blueprint.after_request
def _conditional_get(response: Response) -> Response:
    if request.method in ("GET", "HEAD") and response.status_code == 200 and not response.is_streamed:
        if "ETag" not in response.headers:
            response.set_etag(etag_of(response.get_data()))
        response.make_conditional(request)
    return response

