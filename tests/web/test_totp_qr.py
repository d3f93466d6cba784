"""TOTP enrolment shows a QR code of the otpauth:// link: an <svg> drawn on the server, allowed by the CSP as is."""
from __future__ import annotations

import html
import re

import pyotp
import segno
from sqlalchemy import select

from minqing.core.models import Account, RoleGrant
from minqing.web import create_app

from tests.fixtures.web import PASSWORD, login


def test_enrolment_page_shows_the_link_as_a_qr_code(platform, password_hash):
    with platform.db.session() as session:
        account = Account(username="admin", display_name="admin", password_hash=password_hash)
        account.grants.append(RoleGrant(role="admin"))
        session.add(account)
    app = create_app({"TESTING": True, "WTF_CSRF_ENABLED": False, "REQUIRE_TOTP_ROLES": "admin"}, platform=platform)
    client = app.test_client()
    assert login(client, "admin", PASSWORD).status_code == 302
    page = client.get("/account/totp")
    text = page.get_data(as_text=True)
    uri = html.unescape(re.search(r'href="(otpauth://totp/[^"]+)"', text).group(1))
    svg = re.search(r'<svg[^>]*class="totp-qr"[^>]*>.*?</svg>', text, re.S)
    assert svg, "no QR code on the enrolment page"
    # The drawing is exactly the QR code of this page's own link (no decoder is installed: compare the modules)
    assert svg.group(0) == segno.make(uri, error="m", micro=False).svg_inline(
        scale=5, border=4, dark="#000", light="#fff", omitsize=True, svgclass="totp-qr", title="动态口令二维码")
    assert pyotp.parse_uri(uri).secret in uri and "<script" not in svg.group(0) and "style=" not in svg.group(0)
    assert "img-src" in page.headers["Content-Security-Policy"]   # nothing inline needs allowing: it is markup
    with platform.db.session() as session:
        assert session.scalar(select(Account.totp_secret).where(Account.username == "admin")) is not None
