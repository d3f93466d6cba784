"""Plugin pages through `minqing.web.plugin_api`: signed-in by default, role checks answering the site's 403 page in
Chinese, the platform's scope rule, the site's layout under its Content-Security-Policy, and `web_blueprints`
given the platform. A small plugin registered for each test serves the pages."""
from __future__ import annotations

import re

import pytest
from flask import Blueprint
from sqlalchemy import select

from minqing.core.hooks import hookimpl
from minqing.core.models import Case
from minqing.web import create_app, plugin_api

from tests.fixtures.web import PASSWORD, login

LAYOUT_PAGE = """{% extends layout %}
{% block title %}积雪路段{% endblock %}
{% block main %}<h1>积雪路段</h1><p>{{ note | personal }}</p>{% endblock %}"""


class SnowPages:
    """A plugin with a page of each kind; remembers the platform its hook was given."""

    def __init__(self):
        self.given = []

    @hookimpl
    def web_blueprints(self, platform):
        self.given.append(platform)
        pages = Blueprint("snow_pages", __name__, url_prefix="/snow")
        pages.add_url_rule("/plain", "plain", lambda: "积雪")   # no decorator: signed-in users only all the same
        pages.add_url_rule("/operators", "operators", plugin_api.roles_required("operator")(lambda: "调度"))
        pages.add_url_rule("/cases", "cases", cases)
        pages.add_url_rule("/page", "page", lambda: plugin_api.render_page(
            LAYOUT_PAGE, note=f"联系人电话13912345678，身份证{plugin_api.viewer().name}620102194105018154"))
        open_pages = plugin_api.public(Blueprint("snow_open", __name__, url_prefix="/snow-open"))
        open_pages.add_url_rule("/notice", "notice", lambda: "道路结冰预警")
        return [pages, open_pages]


def cases():
    statement = plugin_api.scoped(select(Case.title).order_by(Case.title), Case)
    return "、".join(plugin_api.db().scalars(statement))


@pytest.fixture
def snow(platform):
    plugin = SnowPages()
    platform.plugins.register(plugin, "snow_pages")
    yield plugin
    platform.plugins.unregister("snow_pages")


@pytest.fixture
def snow_app(platform, world, snow):
    return create_app({"TESTING": True, "WTF_CSRF_ENABLED": False}, platform=platform)


def signed_in(app, username: str):
    client = app.test_client()
    assert login(client, username, PASSWORD).status_code == 302
    return client


def test_web_blueprints_is_given_the_platform(platform, snow, snow_app):
    assert snow.given == [platform]


def test_plugin_pages_are_for_signed_in_users_unless_made_public(snow_app):
    anonymous = snow_app.test_client()
    for path in ("/snow/plain", "/snow/operators", "/snow/cases", "/snow/page"):
        answer = anonymous.get(path)
        assert answer.status_code == 302 and answer.location.startswith("/login"), path
    assert anonymous.get("/snow-open/notice").get_data(as_text=True) == "道路结冰预警"
    assert signed_in(snow_app, "worker").get("/snow/plain").get_data(as_text=True) == "积雪"


def test_roles_required_refuses_other_roles_in_chinese(snow_app):
    assert signed_in(snow_app, "station").get("/snow/operators").get_data(as_text=True) == "调度"
    refused = signed_in(snow_app, "worker").get("/snow/operators")
    assert refused.status_code == 403
    assert "您没有权限访问此页面" in refused.get_data(as_text=True)


def test_a_disabled_plugins_page_answers_404_even_when_public(platform, system, snow_app):
    with platform.db.session() as session:
        platform.plugins.set_enabled("snow_pages", False, session=session, actor=system)
    assert snow_app.test_client().get("/snow-open/notice").status_code == 404
    assert signed_in(snow_app, "worker").get("/snow/plain").status_code == 404


def test_the_scoped_query_returns_only_what_the_viewer_may_see(platform, world, snow_app):
    with platform.db.session() as session:
        for title, grid, region in (("永昌路结冰", "G620102001001001", "620102001001"),
                                    ("酒泉路结冰", "G620102002", "620102002000")):
            session.add(Case(theme_key="winter_service.icy_roads", title=title, source="grid_worker", status="open",
                             grid_id=world.grids[grid], region_code=region))
    assert signed_in(snow_app, "worker").get("/snow/cases").get_data(as_text=True) == "永昌路结冰"
    assert signed_in(snow_app, "jiuquan").get("/snow/cases").get_data(as_text=True) == "酒泉路结冰"
    assert signed_in(snow_app, "centre").get("/snow/cases").get_data(as_text=True) == "永昌路结冰、酒泉路结冰"
    assert signed_in(snow_app, "citizen").get("/snow/cases").get_data(as_text=True) == ""


def test_a_plugin_page_uses_the_site_layout_under_the_csp(snow_app):
    answer = signed_in(snow_app, "leader").get("/snow/page")
    html = answer.get_data(as_text=True)
    assert answer.status_code == 200
    assert "<title>积雪路段 · 小兰善治</title>" in html and '<header class="top">' in html
    assert '<nav class="nav">' in html and "小兰民情" in html     # the leader's navigation
    assert "退出" in html and "site.css" in html
    assert "script-src 'self'" in answer.headers["Content-Security-Policy"]
    assert not re.search(r"<script(?![^>]*\bsrc=)", html) and "<style" not in html and " style=" not in html
    assert "620102********8154" in html and "139****5678" in html    # a leader sees people's numbers masked


def test_mask_shows_each_kind_as_the_viewer_may_see_it(snow_app):
    with snow_app.test_request_context():
        assert plugin_api.mask("620102194105018154", "id_number") == "620102********8154"
        assert plugin_api.mask("城关区张掖路12号楼3单元502室", "address") == "城关区张掖路*号楼*单元*室"
        with pytest.raises(ValueError):
            plugin_api.mask("13912345678", "phone_number")
