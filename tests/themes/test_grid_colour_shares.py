"""Upper grids are coloured by the share of their small grids, not by their worst one: a large grid is red when
at least 20 % of its small grids are red, yellow when at least 30 % are red or yellow (both settable per city)."""
from __future__ import annotations

import collections
import datetime as dt

import pytest
from sqlalchemy import select

from minqing.core.geo.grid_tree import leaves, tally_leaves
from minqing.core.models import Case, Grid, utcnow
from minqing.themes import colour_plugin
from minqing.themes.colours import recompute_grid_colours

from tests.fixtures.city import build_places

REGIONS = [("620100000000", "兰州市", "city", None), ("620102000000", "城关区", "county", "620100000000")]
# One large grid, two medium grids of five small grids each
GRIDS = [("L", "大网格", "large", None, "620102000000", (103.0, 36.0, 104.0, 37.0))]
for m in (1, 2):
    GRIDS.append((f"M{m}", f"中网格{m}", "medium", "L", "620102000000", (103.0, 36.0, 104.0, 37.0)))
    GRIDS += [(f"S{m}{n}", f"小网格{m}{n}", "small", f"M{m}", "620102000000", (103.0, 36.0, 104.0, 37.0))
              for n in range(1, 6)]


@pytest.fixture
def tree(platform, system):
    """The tree above, with no plugin colouring grids but the default rule."""
    with platform.db.session() as session:
        grids = build_places(session, REGIONS, GRIDS).grids
        for hook in ("grid_colours", "grid_colour"):
            for name, _ in platform.plugins.implementations(hook, session):
                if name != "grid_colour_rule":
                    platform.plugins.set_enabled(name, False, session=session, actor=system)
    return grids


def _overdue(platform, grid_id: int, n: int) -> None:
    with platform.db.session() as session:
        session.add_all([Case(theme_key="t", title="事件", source="grid_worker", status="handling", grid_id=grid_id,
                              region_code="620102000000", due_at=utcnow() - dt.timedelta(hours=1))
                         for _ in range(n)])


def _colours(platform, system) -> dict[str, tuple[str, str]]:
    with platform.db.session() as session:
        recompute_grid_colours(platform, session, system)
        return {code: (colour, reason) for code, colour, reason
                in session.execute(select(Grid.code, Grid.colour, Grid.colour_reason))}


def test_the_tree_walk_counts_small_grids_under_every_upper_grid():
    parents = {1: None, 2: 1, 3: 1, 4: 2, 5: 2, 6: 3, 7: None}    # 7: a large grid without small grids
    assert leaves(parents) == {4, 5, 6, 7}
    tally = tally_leaves({4: "red", 5: "blue", 6: "yellow", 7: "red"}, parents)
    assert tally == {1: collections.Counter(red=1, blue=1, yellow=1), 2: collections.Counter(red=1, blue=1),
                     3: collections.Counter(yellow=1)}


def test_the_tree_walk_counts_leaves_at_every_depth_and_stops_at_a_cycle():
    # leaves at different depths under one chain, two leaves of one parent with the same value (counted as a pair
    # and carried up together), and bad data: 8 and 9 each other's parent, with leaf 11 under them
    parents = {1: None, 2: 1, 3: 2, 4: 3, 5: 3, 6: 2, 7: 3, 8: 9, 9: 8, 11: 8}
    tally = tally_leaves({4: "red", 5: "red", 6: "yellow", 7: "blue", 11: "red"}, parents)
    assert tally == {3: collections.Counter(red=2, blue=1), 2: collections.Counter(red=2, blue=1, yellow=1),
                     1: collections.Counter(red=2, blue=1, yellow=1), 8: collections.Counter(red=1),
                     9: collections.Counter(red=1)}


def test_an_upper_grid_is_judged_by_shares_with_the_shares_in_its_reason():
    rule = colour_plugin.upper_grid_colour
    assert rule(collections.Counter(red=2, blue=8), 20, 30) == (
        "red", "辖内小网格红色 20%（2/10），红黄合计 20%（2/10）；红色达到 20%")
    assert rule(collections.Counter(red=1, yellow=2, blue=7), 20, 30)[0] == "yellow"
    colour, reason = rule(collections.Counter(red=1, yellow=1, blue=8), 20, 30)
    assert colour == "blue" and reason.startswith("辖内小网格红色 10%（1/10），红黄合计 20%（2/10）")


def test_one_red_small_grid_no_longer_makes_the_large_grid_red(platform, system, tree):
    _overdue(platform, tree["S11"], 3)                      # S11 red: 1 of 10 small grids
    _overdue(platform, tree["S21"], 1)                      # S21 yellow
    colours = _colours(platform, system)
    assert colours["S11"] == ("red", "超期未办结事件 3 件") and colours["S21"][0] == "yellow"
    assert colours["M1"][0] == "red" and colours["M1"][1].startswith("辖内小网格红色 20%（1/5）")
    assert colours["M2"] == ("blue", "辖内小网格红色 0%（0/5），红黄合计 20%（1/5）；低于红色 20%、黄色 30% 的标准")
    assert colours["L"][0] == "blue" and "红色 10%（1/10）" in colours["L"][1]   # the worst child rule said red
    _overdue(platform, tree["S12"], 3)                      # 2 of 10 red: 20 %
    assert _colours(platform, system)["L"][0] == "red"


def test_the_shares_are_settings_of_the_city(platform, system, tree, monkeypatch):
    for code in ("S11", "S12"):
        _overdue(platform, tree[code], 3)
    _overdue(platform, tree["S21"], 1)
    monkeypatch.setenv("MINQING_GRID_RED_SHARE", "25")
    monkeypatch.setenv("MINQING_GRID_YELLOW_SHARE", "30%")
    large = _colours(platform, system)["L"]
    assert large == ("yellow", "辖内小网格红色 20%（2/10），红黄合计 30%（3/10）；红黄合计达到 30%")
    monkeypatch.setenv("MINQING_GRID_RED_SHARE", "二十")
    with pytest.raises(ValueError, match="MINQING_GRID_RED_SHARE 应为 0 到 100 之间的百分比数字"):
        colour_plugin.shares()
    monkeypatch.setenv("MINQING_GRID_RED_SHARE", "120")
    with pytest.raises(ValueError, match="应在 0 到 100 之间"):
        colour_plugin.shares()
