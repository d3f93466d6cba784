"""Security headers on every response: no inline scripts may run, no other site may frame us, browsers must not
guess content types, and addresses of our pages are not leaked to other sites; and every template is
autoescaped, whatever its name. Also: where a sign-in may send the browser next (`safe_next`), and when the
session cookie carries the `Secure` flag (`cookie_secure`)."""
from __future__ import annotations

import ipaddress
import re
import unicodedata
from urllib.parse import unquote, urlsplit

from flask import Flask, g, has_request_context, request
from flask.sessions import SecureCookieSessionInterface

IMAGE_SOURCES = ("'self'", "data:", "blob:")
_ORIGIN = re.compile(r"https?://[^\s/\\;,'\"<>`*@]+")   # scheme://host[:port], nothing that ends a CSP source


def content_security_policy(image_origins: tuple[str, ...] = (), frame_ancestors: str = "'none'") -> str:
    """The site's policy; `image_origins` are other origins a page may load images from (a map's tiles);
    `frame_ancestors` who may frame the page (only the builder's preview lets the builder frame it: 'self')."""
    return "; ".join([
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src " + " ".join((*IMAGE_SOURCES, *image_origins)),
        "connect-src 'self'",
        "worker-src 'self'",      # the work end's service worker (web/static/js/sw.js, served at /work/sw.js)
        "manifest-src 'self'",
        "font-src 'self'",
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
        f"frame-ancestors {frame_ancestors}",
    ])


CONTENT_SECURITY_POLICY = content_security_policy()
HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    "Permissions-Policy": "geolocation=(self), camera=(self), microphone=()",
    "Cross-Origin-Opener-Policy": "same-origin",
}


MAX_NEXT = 2000


def allow_images_from(origin: str) -> None:
    """Let this request's response load images from `origin` (scheme://host[:port]) too: the page of a map with the
    city's tiles. Anything but a plain origin is refused (ValueError), so no directive can be slipped in."""
    if not _ORIGIN.fullmatch(origin):
        raise ValueError(f"not an origin: {origin!r}")
    origins = g.setdefault("extra_img_origins", [])
    if origin not in origins:
        origins.append(origin)


def _suspicious(text: str) -> bool:
    """Browsers drop tabs and newlines inside a URL and read a backslash as a slash, so "/\t/evil" or "/\\evil"
    would leave the site; a control or space character has no business in our own paths at all."""
    if any(ch.isspace() or unicodedata.category(ch).startswith("C") for ch in text) or "\\" in text:
        return True
    parts = urlsplit(text)
    return not text.startswith("/") or text.startswith("//") or bool(parts.scheme or parts.netloc)


def safe_next(target: str | None, fallback: str) -> str:
    """Where to go after signing in: `target` when it is a path on this site, else `fallback`.

    The percent-decoded forms are checked too (up to three rounds), so "/%2F%2Fevil" or "/%09/evil" is refused
    whatever a proxy or browser later decodes. Every sign-in path (staff, second factor, citizens) uses this."""
    if not target or len(target) > MAX_NEXT:
        return fallback
    seen = target
    for _ in range(3):
        if _suspicious(seen):
            return fallback
        decoded = unquote(seen)
        if decoded == seen:
            return target
        seen = decoded
    return fallback


def is_loopback(host: str) -> bool:
    """Whether a Host header names this machine (127.0.0.0/8, ::1, localhost): the plain-HTTP demo."""
    name = (urlsplit(f"//{host}").hostname or "").rstrip(".")
    if name == "localhost" or name.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


def cookie_secure(app: Flask) -> bool:
    """Whether the session cookie of this response is marked `Secure` (sent back over HTTPS only).

    SESSION_COOKIE_SECURE=True: always. Otherwise Secure whenever the request came over HTTPS, and also over plain
    HTTP unless the site was addressed as loopback (the demo on http://127.0.0.1) or INSECURE_COOKIES is set (plain
    HTTP development on another address). Deciding by the address, not only by the scheme, keeps the flag behind a
    TLS proxy that forwards plain HTTP without telling us."""
    config = app.config
    if config.get("SESSION_COOKIE_SECURE"):
        return True
    if not has_request_context():
        return not config.get("INSECURE_COOKIES")
    if request.is_secure:
        return True
    return not (config.get("INSECURE_COOKIES") or is_loopback(request.host))


# The work end's service worker fetches the pages a phone keeps for offline use with this header (web/static/js/sw.js)
OFFLINE_KEEP_HEADER = "X-Offline-Keep"


def offline_keep() -> bool:
    """Whether this request is the service worker keeping a page for offline use, not the worker opening it."""
    return has_request_context() and request.headers.get(OFFLINE_KEEP_HEADER) == "1"


class SessionInterface(SecureCookieSessionInterface):
    """Flask's signed-cookie sessions, with the `Secure` flag decided per request (see `cookie_secure`)."""

    def get_cookie_secure(self, app: Flask) -> bool:
        return cookie_secure(app)

    def should_set_cookie(self, app: Flask, session) -> bool:
        # The service worker fetches pages while the worker uses the site; answering those with the cookie as it was
        # when they started would undo what a request in between stored (the message after a form is sent).
        return not offline_keep() and super().should_set_cookie(app, session)


def init_app(app: Flask) -> None:
    app.session_interface = SessionInterface()
    # Flask autoescapes only .html/.htm/.xml/.xhtml/.svg names; a .txt or .j2 template (a message, an export)
    # rendering a resident's text must escape it too. Set before any template is compiled.
    app.jinja_env.autoescape = True

    @app.after_request
    def _headers(response):
        response.headers.setdefault("Content-Security-Policy",
                                    content_security_policy(tuple(g.get("extra_img_origins", ()))))
        for name, value in HEADERS.items():
            response.headers.setdefault(name, value)
        return response
