"""Security headers on every response: no inline scripts may run, no other site may frame us, browsers must not
guess content types, and addresses of our pages are not leaked to other sites; and every template is
autoescaped, whatever its name."""
from __future__ import annotations

from flask import Flask

CONTENT_SECURITY_POLICY = "; ".join([
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data: blob:",
    "connect-src 'self'",
    "font-src 'self'",
    "object-src 'none'",
    "base-uri 'self'",
    "form-action 'self'",
    "frame-ancestors 'none'",
])
HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    "Permissions-Policy": "geolocation=(self), camera=(self), microphone=()",
    "Cross-Origin-Opener-Policy": "same-origin",
}


def init_app(app: Flask) -> None:
    # Flask autoescapes only .html/.htm/.xml/.xhtml/.svg names; a .txt or .j2 template (a message, an export)
    # rendering a resident's text must escape it too. Set before any template is compiled.
    app.jinja_env.autoescape = True

    @app.after_request
    def _headers(response):
        for name, value in HEADERS.items():
            response.headers.setdefault(name, value)
        return response
