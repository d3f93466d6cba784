"""The example third-party plugin under tests/example_plugin is built and installed with pip, then found through
its `minqing.plugins` entry point exactly as any plugin a city installs would be."""
import importlib
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import select

from minqing import themes, workflows
from minqing.core.actors import system_actor
from minqing.core.departments import sync_departments
from minqing.core.models import Case, Department, Grid, Region
from minqing.core.platform import Platform

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


def test_a_pip_installed_plugin_is_found_used_and_switched_off(installed, database_url, platform, system):
    host_platform = Platform(database_url)  # loads entry points now that the package is installed
    assert "snow" in host_platform.plugins.names()
    assert host_platform.plugins.versions["snow"] == "1.0.0"
    with host_platform.db.session() as session:
        sync_departments(session, host_platform.plugins, system)
        assert session.scalar(select(Department.name).where(Department.key == "winter_bridges"))
        registry = themes.registry(host_platform, session)
        assert registry.get("winter_service.icy_roads").plugin == "snow"
        city = Region(code="620100000000", name="兰州市", level="city")
        session.add(city)
        session.flush()
        session.add(Grid(code="G620102001", name="网格", level="small", region_id=city.id, region_code=city.code,
                         geometry={"type": "Polygon", "coordinates": [[[103, 36], [104, 36], [104, 37], [103, 37],
                                                                        [103, 36]]]}))
    with host_platform.db.session() as session:
        case = workflows.report_case(host_platform, session, system_actor("test"), theme_key="winter_service.icy_roads",
                                     title="中山桥桥面结冰", description="桥面结冰", lon=103.5, lat=36.5,
                                     source="grid_worker", form_data={"road_kind": "桥梁"})
        assert host_platform.plugins.call_first("route_case", case=case, session=session) == ("snow", "winter_bridges")
        figures = dict(host_platform.plugins.collect("dashboard_figures", viewer=system, session=session))
        assert figures["snow"]["value"] == 1
        host_platform.plugins.set_enabled("snow", False, session=session, actor=system)
    with host_platform.db.session() as session:
        assert "winter_service.icy_roads" not in themes.registry(host_platform, session).themes
        assert host_platform.plugins.call_first("route_case", case=session.scalar(select(Case)), session=session) \
            is None
    host_platform.close()
