"""Where a sign-in sends the browser next (only a path of this site, whatever the encoding tricks), the session
cookie's Secure flag (over HTTPS, and by default anywhere but the loopback demo), and the work end for staff only:
a citizen is sent from the staff page of their own case to its citizen page."""
from __future__ import annotations

from urllib.parse import quote

import pytest
from sqlalchemy import select

from minqing.core.models import Attachment
from minqing.web import create_app
from minqing.web.security import safe_next

from tests.fixtures.citizen import OTHER_PHONE, PHONE, report, sign_in, the_case
from tests.fixtures.web import PASSWORD

# Each of these reached another site (or a 500 after the sign-in committed) through `next` before.
BYPASSES = [
    "/%09/evil.example/", "/%0A/evil.example/", "/%0D/evil.example/", "/\t/evil.example/", "/\n/evil.example/",
    "\\evil.example", "/\\evil.example", "/%5Cevil.example", "//evil.example", "///evil.example",
    "https://evil.example", "http:/evil.example", "//evil.example/%2F..", "/%2F%2Fevil.example",
    "/%252F%252Fevil.example", "javascript:alert(1)", "JavaScript:alert(1)", " /work/", "/work/ ",
    "/\u3000/evil.example", "/\u200b/evil.example", "evil.example", "",
]
SAFE = ["/work/", "/work/cases/7?tab=timeline", "/citizen/cases", "/map/#layer=cases"]


@pytest.mark.parametrize("target", BYPASSES)
def test_safe_next_refuses_every_known_bypass(target):
    assert safe_next(target, "/fallback") == "/fallback"


@pytest.mark.parametrize("target", SAFE)
def test_safe_next_keeps_paths_of_this_site(target):
    assert safe_next(target, "/fallback") == target


@pytest.mark.parametrize("target", ["/%09/evil.example/", "/%0A/evil.example/", "/\\evil.example",
                                    "/%2F%2Fevil.example", "https://evil.example", "javascript:alert(1)"])
def test_staff_sign_in_never_leaves_the_site(app, world, target):
    client = app.test_client()
    response = client.post(f"/login?next={quote(target, safe='')}",
                           data={"username": "worker", "password": PASSWORD})
    assert response.status_code == 302
    assert response.location == "/"  # the home page, which sends each role to its work


def test_staff_sign_in_follows_a_path_of_this_site(app, world):
    response = app.test_client().post("/login?next=/work/report", data={"username": "worker", "password": PASSWORD})
    assert response.status_code == 302 and response.location == "/work/report"


@pytest.mark.parametrize("target", ["/%09/evil.example/", "/%0A/evil.example/", "//evil.example",
                                    "/%2F%2Fevil.example"])
def test_citizen_sign_in_never_leaves_the_site(app, world, gateway, target):
    client = app.test_client()
    assert client.post("/citizen/login/code", data={"phone": PHONE}).status_code == 302
    response = client.post(f"/citizen/login?next={quote(target, safe='')}", data={"code": gateway.code_for(PHONE)})
    assert response.status_code == 302 and response.location == "/citizen/"


# -- the session cookie's Secure flag ------------------------------------------------------------------------------

def session_cookie(response) -> str:
    cookies = [value for value in response.headers.getlist("Set-Cookie") if value.startswith("session=")]
    assert len(cookies) == 1, response.headers.getlist("Set-Cookie")
    return cookies[0]


def signed_in_cookie(app, base_url: str) -> str:
    client = app.test_client()
    response = client.post("/login", data={"username": "worker", "password": PASSWORD}, base_url=base_url)
    assert response.status_code == 302
    return session_cookie(response)


def test_the_session_cookie_is_secure_over_https(app, world):
    cookie = signed_in_cookie(app, "https://minqing.example.gov.cn")
    assert "; Secure" in cookie and "; HttpOnly" in cookie and "SameSite=Lax" in cookie


def test_plain_http_is_secure_too_unless_on_loopback(app, world):
    # Behind a TLS proxy that forwards plain HTTP the request looks like http: the public name keeps the flag.
    assert "; Secure" in signed_in_cookie(app, "http://minqing.example.gov.cn")
    for loopback in ("http://127.0.0.1:5000", "http://localhost", "http://[::1]:8000"):
        cookie = signed_in_cookie(app, loopback)  # the demo keeps working on plain HTTP
        assert "; Secure" not in cookie and "; HttpOnly" in cookie, loopback


def test_insecure_cookies_is_a_setting_for_plain_http_development(platform, world):
    app = create_app({"TESTING": True, "WTF_CSRF_ENABLED": False, "INSECURE_COOKIES": True}, platform=platform)
    assert "; Secure" not in signed_in_cookie(app, "http://192.168.1.20:5000")
    assert "; Secure" in signed_in_cookie(app, "https://minqing.example.gov.cn")  # HTTPS still gets it
    assert app.config["REMEMBER_COOKIE_SECURE"] is False


def test_session_cookie_secure_forces_the_flag_and_remember_cookie_is_secure_by_default(platform, world):
    app = create_app({"TESTING": True, "WTF_CSRF_ENABLED": False, "SESSION_COOKIE_SECURE": True},
                     platform=platform)
    assert "; Secure" in signed_in_cookie(app, "http://127.0.0.1:5000")
    assert app.config["REMEMBER_COOKIE_SECURE"] is True and app.config["REMEMBER_COOKIE_HTTPONLY"] is True


# -- the work end is for staff -------------------------------------------------------------------------------------

def test_a_citizen_is_sent_from_the_staff_page_of_their_case_to_its_citizen_page(app, platform, world, gateway,
                                                                                  as_user):
    citizen = sign_in(app, gateway)
    report(citizen)
    case = the_case(platform)
    station = as_user("station")
    station.post(f"/work/cases/{case.id}/steps/accept", data={"comment": "内部意见：张三负责，勿告知群众"})
    assert "张三负责" in station.get(f"/work/cases/{case.id}").get_data(as_text=True)  # staff see it

    staff_page = citizen.get(f"/work/cases/{case.id}")
    assert staff_page.status_code == 302 and staff_page.location == f"/citizen/cases/{case.id}"
    assert "张三负责" not in staff_page.get_data(as_text=True)
    followed = citizen.get(staff_page.location).get_data(as_text=True)
    assert "张三负责" not in followed and "station" not in followed

    other = sign_in(app, gateway, OTHER_PHONE)
    assert other.get(f"/work/cases/{case.id}").status_code == 404  # not theirs: not even a redirect


def test_a_citizen_is_refused_every_other_staff_page_but_may_use_the_shared_ones(app, platform, world, gateway,
                                                                                 as_user):
    citizen = sign_in(app, gateway)
    report(citizen)
    case = the_case(platform)
    for method, path in [("get", "/work/"), ("get", "/work/report"), ("get", "/work/my-grid"),
                         ("get", "/work/appeals"), ("post", f"/work/cases/{case.id}/steps/accept"),
                         ("post", f"/work/cases/{case.id}/urge"), ("post", f"/work/cases/{case.id}/supervise"),
                         ("post", "/work/reveal")]:
        assert getattr(citizen, method)(path).status_code == 403, path
    with platform.db.session() as session:
        attachment = session.scalar(select(Attachment).where(Attachment.case_id == case.id))
    assert citizen.get(f"/work/attachments/{attachment.id}").status_code == 200  # their report's photo
    assert citizen.get("/work/duplicates/check", query_string={
        "theme": "urban_management.street_vending", "lon": "103.83", "lat": "36.05"}).status_code == 200
    assert as_user("auditor").get(f"/work/cases/{case.id}").status_code == 403
    assert as_user("station").get(f"/work/cases/{case.id}").status_code == 200
