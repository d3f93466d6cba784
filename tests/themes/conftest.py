"""Theme documents, theme plugins and a small city for the theme tests."""
from __future__ import annotations

import copy
import json

import pytest

from minqing.core.hooks import hookimpl

from tests.fixtures.city import build_places


def make_theme(key: str = "urban_management.zz_stalls", department: str | None = None, **changes) -> dict:
    department = department or key.split(".")[0]
    document = {
        "key": key, "department": department, "title": "占道经营", "description": "沿街占道经营摊点",
        "guide": "城管执法队员巡查录入，网格员发现上报，城管局负责处置。", "icon": "store", "colour": "#e65100",
        "layer": {"geometry": "point", "style": {"color": "#e65100", "radius": 6}, "source": "records",
                  "visible_to": ["admin", "operator", "department_staff", "grid_worker", "leader"]},
        "forms": {
            "record": {"type": "object", "properties": {"name": {"type": "string", "title": "摊点名称"}},
                       "required": ["name"]},
            "report": {"type": "object", "properties": {"note": {"type": "string", "title": "情况说明"}}},
        },
        "workflow": "standard",
        "categories": [{"code": "0301", "title": "占道经营", "parent": "市容环境"},
                       {"code": "0302", "title": "店外经营", "parent": "市容环境", "department": "market_regulation"}],
        "patrol_every_days": 7,
    }
    document.update(changes)
    return document


class ThemePlugin:
    """A test plugin that brings the given theme documents (copied, so a test may change them later)."""

    def __init__(self, *documents):
        self.documents = list(documents)

    @hookimpl
    def register_themes(self):
        return copy.deepcopy(self.documents)


@pytest.fixture
def theme():
    return make_theme


@pytest.fixture
def theme_plugin():
    return ThemePlugin


@pytest.fixture
def theme_dir(tmp_path, monkeypatch):
    """An empty directory the loader reads (through MINQING_THEME_DIRS); `write(name, document)` adds a file."""
    directory = tmp_path / "themes"
    directory.mkdir()
    monkeypatch.setenv("MINQING_THEME_DIRS", str(directory))

    def write(name: str, document) -> str:
        path = directory / name
        path.write_text(document if isinstance(document, str) else json.dumps(document, ensure_ascii=False),
                        encoding="utf-8")
        return str(path)

    write.directory = directory
    return write


CITY_REGIONS = [("620100000000", "兰州市", "city", None), ("620102000000", "城关区", "county", "620100000000"),
                ("620102001000", "张掖路街道", "township", "620102000000"),
                ("620102002000", "酒泉路街道", "township", "620102000000")]
CITY_GRIDS = [("G620102001", "张掖路大网格", "large", None, "620102001000", (103.0, 36.0, 103.1, 36.1)),
              ("G620102002", "酒泉路大网格", "large", None, "620102002000", (103.1, 36.0, 103.2, 36.1)),
              ("G620102001001", "张掖路小网格", "small", "G620102001", "620102001000", (103.0, 36.0, 103.05, 36.05))]


@pytest.fixture
def city(platform):
    """A county with two townships; a large grid in each and a small grid inside the first (committed)."""
    with platform.db.session() as session:
        grids = build_places(session, CITY_REGIONS, CITY_GRIDS).grids
    return {"east": grids["G620102001"], "west": grids["G620102002"], "small": grids["G620102001001"],
            "zhangye": "620102001000", "jiuquan": "620102002000"}


@pytest.fixture
def departments(platform):
    """Two departments in the table (committed): 燃气 and 水务; answers key → id."""
    from minqing.core.models import Department

    with platform.db.session() as session:
        rows = [Department(key="gas", name="兰州市燃气管理处", short_name="燃气"),
                Department(key="water_affairs", name="兰州市水务局", short_name="水务")]
        session.add_all(rows)
        session.flush()
        return {row.key: row.id for row in rows}


@pytest.fixture
def staff(departments):
    """`staff("gas")`: an actor holding a department_staff grant for that department."""
    from minqing.core.actors import Actor, Grant

    def make(key: str, name: str | None = None) -> Actor:
        grant = Grant(role="department_staff", department_id=departments[key], department_key=key)
        return Actor(account_id=None, name=name or f"{key}科员", grants=(grant,), origin="test")

    return make
