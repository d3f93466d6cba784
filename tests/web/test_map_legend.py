"""The map explains itself: a legend of grid and case colours, the layers grouped with a search box, the grid
worker's own grid outlined, and an upper grid's colour reason giving the shares of its small grids."""
from __future__ import annotations

import datetime as dt

from minqing.core.actors import system_actor
from minqing.core.models import Case, utcnow
from minqing.themes.colours import recompute_grid_colours


def test_the_map_page_has_a_legend_and_a_layer_search(as_user):
    page = as_user("leader").get("/map/").get_data(as_text=True)
    legend = page.split('id="map-legend"', 1)[1].split("</details>", 1)[0]
    for words in ("红色", "黄色", "蓝色", "辖内红色小网格达到规定比例", "我负责的网格", "待受理", "办理中", "已超期",
                  "已办结"):
        assert words in legend, words
    panel = page.split('id="layer-panel"', 1)[1].split("</details>", 1)[0]
    assert 'type="search" id="layer-search"' in panel and 'id="layer-groups"' in panel
    assert "<style" not in page and " style=" not in page      # the CSP allows no inline style
    assert 'data-my-grids-url="/map/my-grids.geojson"' in page


def test_a_grid_worker_gets_their_own_grid_to_outline(as_user, world):
    mine = as_user("worker").get("/map/my-grids.geojson").get_json()
    assert [feature["properties"]["code"] for feature in mine["features"]] == ["G620102001001001"]
    assert mine["features"][0]["geometry"]["type"] == "Polygon"
    assert as_user("leader").get("/map/my-grids.geojson").get_json()["features"] == []


def test_an_upper_grids_reason_on_the_map_gives_the_shares(platform, world, as_user):
    with platform.db.session() as session:
        session.add_all([Case(theme_key="t", title="事件", source="grid_worker", status="handling",
                              grid_id=world.grids["G620102001001001"], region_code="620102001001",
                              due_at=utcnow() - dt.timedelta(hours=1)) for _ in range(3)])
    with platform.db.session() as session:
        recompute_grid_colours(platform, session, system_actor("test"))
    grids = as_user("leader").get("/map/grids.geojson?level=large").get_json()["features"]
    large = next(feature["properties"] for feature in grids if feature["properties"]["code"] == "G620102001")
    assert large["colour"] == "red" and "辖内小网格红色 100%（1/1）" in large["colour_reason"]
