"""Theme documents, theme plugins and a small city for the theme tests (made by tests/fixtures/themes.py)."""
from __future__ import annotations

import json

import pytest

from tests.fixtures.city import build_places
from tests.fixtures.themes import CITY_GRIDS, CITY_REGIONS, ThemePlugin, make_theme


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
