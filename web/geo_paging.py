"""Pages of GeoJSON for the map and the API: `limit`/`offset` from the query, and the link to the next page in
the body (`links`, as OGC API – Features does) and in a `Link` header (RFC 8288), so no list is ever cut silently.
The map's script follows `links` until there is no next page."""
from __future__ import annotations

from urllib.parse import urlencode

from flask import Response, request

from minqing.core.geo.geojson import Page, encode


MEDIA_TYPE = "application/geo+json"   # RFC 7946 §12


def geojson_response(body: dict, headers: dict[str, str] | None = None) -> Response:
    """A GeoJSON document as the map's pages answer it: JSON under GeoJSON's own media type."""
    return Response(encode(body), mimetype=MEDIA_TYPE, headers=headers or {})


def requested_page() -> Page:
    """The page the request asks for; `core.geojson.BadPage` (a Chinese message) for a bad limit or offset."""
    return Page.parse(request.args.get("limit"), request.args.get("offset"))


def next_url(page: Page, body: dict) -> str | None:
    """The URL of the page after `page`, or None when `body` (a collection with numberMatched) is the last."""
    matched, returned = body.get("numberMatched"), body.get("numberReturned", 0)
    if matched is None or page.offset + returned >= matched or returned == 0:
        return None
    args = request.args.to_dict(flat=True)
    args.update(offset=str(page.offset + returned), limit=str(page.limit))
    return f"{request.base_url}?{urlencode(args)}"


def add_links(body: dict, page: Page) -> tuple[dict, dict[str, str]]:
    """`body` with its `links` member, and the headers (a `Link` to the next page when there is one)."""
    links = [{"rel": "self", "href": request.url, "type": MEDIA_TYPE}]
    headers = {}
    following = next_url(page, body)
    if following:
        links.append({"rel": "next", "href": following, "type": MEDIA_TYPE})
        headers["Link"] = f'<{following}>; rel="next"'
    return {**body, "links": links}, headers
