"""The example third-party plugin under tests/example_plugin is built and installed with pip, then found through
its `minqing.plugins` entry point exactly as any plugin a city installs would be."""
import importlib
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from minqing import themes, workflows
from minqing.core.accounts import apikeys
from minqing.core.actors import system_actor
from minqing.core.cli import build_cli
from minqing.core.models import Case, Department
from minqing.core.platform import Platform
from minqing.web import create_app

from tests.fixtures.city import add_accounts, build_places
from tests.fixtures.web import login

EXAMPLE = Path(__file__).parent / "example_plugin"


@pytest.fixture
def installed(tmp_path):
    target = tmp_path / "site"
    subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--no-build-isolation",
                    "--target", str(target), str(EXAMPLE)], check=True)
    sys.path.insert(0, str(target))
    importlib.invalidate_caches()
    yield target
    sys.path.remove(str(target))
    importlib.invalidate_caches()


def test_a_pip_installed_plugin_is_found_used_and_switched_off(installed, database_url, platform, system,
                                                                password_hash):
    host_platform = Platform(database_url)  # loads entry points now that the package is installed
    assert "snow" in host_platform.plugins.names()
    assert host_platform.plugins.versions["snow"] == "1.0.0"
    # a city that installs a department plugin runs `minqing upgrade` (or restarts `minqing serve`): its
    # departments are created then, not only by the demo build
    upgraded = CliRunner().invoke(build_cli(), ["--db", database_url, "upgrade"])
    assert upgraded.exit_code == 0 and "winter_bridges" in upgraded.output, upgraded.output
    with host_platform.db.session() as session:
        assert session.scalar(select(Department.name).where(Department.key == "winter_bridges"))
        registry = themes.registry(host_platform, session)
        assert registry.get("winter_service.icy_roads").plugin == "snow"
        places = build_places(session, [("620100000000", "兰州市", "city", None)],
                              [("G620102001", "网格", "small", None, "620100000000", (103, 36, 104, 37))])
    with host_platform.db.session() as session:
        case = workflows.report_case(host_platform, session, system_actor("test"), theme_key="winter_service.icy_roads",
                                     title="中山桥桥面结冰", description="桥面结冰", lon=103.5, lat=36.5,
                                     source="grid_worker", form_data={"road_kind": "桥梁"},
                                     category="冬季保畅", subcategory="9901")
        assert host_platform.plugins.call_first("route_case", case=case, session=session) == ("snow", "winter_bridges")
        figures = dict(host_platform.plugins.collect("dashboard_figures", viewer=system, session=session))
        assert figures["snow"]["value"] == 1
        add_accounts(session, {"centre": ("operator", "620100000000"), "resident": ("citizen", None)}, places,
                     password_hash=password_hash)
        _row, key = apikeys.create(session, system, "centre", "open311")
        case_id = case.id
    app = create_app({"TESTING": True, "WTF_CSRF_ENABLED": False}, platform=host_platform)
    answer = app.test_client().get(f"/open311/v2/requests/{case_id}.json", query_string={"api_key": key})
    assert answer.status_code == 200 and answer.get_json()[0]["agency_responsible"] == "兰州市冬季除雪保畅指挥部", \
        answer.get_json()
    assert_the_page_is_signed_in_scoped_and_in_the_layout(app)
    with host_platform.db.session() as session:
        host_platform.plugins.set_enabled("snow", False, session=session, actor=system)
    with host_platform.db.session() as session:
        assert "winter_service.icy_roads" not in themes.registry(host_platform, session).themes
        assert host_platform.plugins.call_first("route_case", case=session.scalar(select(Case)), session=session) \
            is None
    assert signed_in(app, "centre").get("/snow/roads").status_code == 404
    host_platform.close()


def signed_in(app, username):
    client = app.test_client()
    assert login(client, username).status_code == 302
    return client


def assert_the_page_is_signed_in_scoped_and_in_the_layout(app):
    """The plugin's page (minqing_snow/pages.py) through minqing.web.plugin_api."""
    assert app.test_client().get("/snow/roads").location.startswith("/login")
    assert signed_in(app, "resident").get("/snow/roads").status_code == 403
    page = signed_in(app, "centre").get("/snow/roads")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and "中山桥桥面结冰" in html
    assert "<title>道路结冰 · 小兰善治</title>" in html and '<nav class="nav">' in html
    assert "<script" not in html and "<style" not in html
