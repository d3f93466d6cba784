"""Point → smallest grid, single and bulk, with borders and points outside every grid."""
import numpy as np
import pytest
from shapely.geometry import box, mapping
from sqlalchemy import event

from minqing.core import counters
from minqing.core.geo.locator import GridLocator
from minqing.core.models import Grid, Region
from minqing.core.platform import GRIDS_COUNTER

# A 2×1 large grid, split into two medium grids; the left medium holds two small grids, the right none.
GRIDS = [
    (1, "large", mapping(box(0, 0, 2, 1))),
    (2, "medium", mapping(box(0, 0, 1, 1))),
    (3, "medium", mapping(box(1, 0, 2, 1))),
    (5, "small", mapping(box(0.5, 0, 1, 1))),
    (4, "small", mapping(box(0, 0, 0.5, 1))),
]


@pytest.fixture
def locator():
    return GridLocator(GRIDS)


def test_smallest_grid_wins(locator):
    assert locator.locate(0.25, 0.5) == 4
    assert locator.locate(0.75, 0.5) == 5
    assert locator.locate(1.5, 0.5) == 3  # no small grid there: the medium one


def test_outside_every_grid_is_none(locator):
    assert locator.locate(5, 5) is None
    assert locator.locate(-0.0001, 0.5) is None


def test_border_goes_to_the_lower_id(locator):
    assert locator.locate(0.5, 0.5) == 4
    assert locator.locate(1.0, 0.5) == 5  # on small 5's edge: the smallest level wins over medium 2 and 3
    assert locator.locate(0.75, 1.0) == 5


def test_bulk_agrees_with_single_lookups(locator):
    rng = np.random.default_rng(7)
    lons, lats = rng.uniform(-0.5, 2.5, 2000), rng.uniform(-0.5, 1.5, 2000)
    bulk = locator.locate_many(lons, lats)
    single = [locator.locate(lon, lat) for lon, lat in zip(lons, lats)]
    assert [None if found < 0 else found for found in bulk.tolist()] == single
    assert (bulk == -1).any() and (bulk == 3).any() and (bulk == 4).any()


def test_platform_rebuilds_the_locator_when_grids_change(platform):
    _one_grid(platform)
    with platform.db.session() as session:
        counters.bump(session, GRIDS_COUNTER)
    first = platform.locator()
    assert first.locate(0.5, 0.5) is not None and first.locate(1.5, 0.5) is None
    assert platform.locator() is first  # nothing changed: no rebuild
    with platform.db.session() as session:
        _second_grid(session)
        counters.bump(session, GRIDS_COUNTER)
    assert platform.locator().locate(1.5, 0.5) is not None


def test_any_orm_change_to_a_grid_rebuilds_the_locator(platform):
    with platform.db.session() as session:
        region = Region(code="620100000000", name="兰州市", level="city")
        session.add(region)
        session.flush()
        grid = Grid(code="G620102001", name="一号", level="large", region_id=region.id,
                    region_code=region.code, geometry=mapping(box(0, 0, 1, 1)))
        session.add(grid)
    assert platform.locator().locate(5.5, 0.5) is None
    with platform.db.session() as session:
        session.get(Grid, grid.id).geometry = mapping(box(5, 0, 6, 1))  # no explicit counter bump
    assert platform.locator().locate(5.5, 0.5) == grid.id


def _one_grid(platform) -> None:
    """A city region with one large grid over (0, 0)–(1, 1)."""
    with platform.db.session() as session:
        region = Region(code="620100000000", name="兰州市", level="city")
        session.add(region)
        session.flush()
        session.add(Grid(code="G620102001", name="一号", level="large", region_id=region.id,
                         region_code=region.code, geometry=mapping(box(0, 0, 1, 1))))


def _second_grid(session) -> None:
    """Another large grid beside the first, over (1, 0)–(2, 1)."""
    session.add(Grid(code="G620102002", name="二号", level="large", region_id=1, region_code="620100000000",
                     geometry=mapping(box(1, 0, 2, 1))))


def _counter_reads(platform):
    """A list that fills with every statement reading the change counters (the round trip per call)."""
    reads = []

    def seen(_conn, _cursor, statement, *_args):
        if "change_counters" in statement and statement.lstrip().upper().startswith("SELECT"):
            reads.append(statement)
    event.listen(platform.db.engine, "before_cursor_execute", seen)
    return reads


def test_the_counter_is_read_once_per_session_not_per_point(platform):
    _one_grid(platform)
    platform.locator()
    reads = _counter_reads(platform)
    with platform.db.session() as session:
        found = [platform.locator(session).locate(0.5, 0.5) for _ in range(50)]
    assert len(set(found)) == 1 and found[0] is not None
    assert len(reads) == 1


def test_a_change_by_another_node_is_seen_by_the_next_session(platform):
    from minqing.core.platform import Platform

    other_node = Platform(platform.db.url)
    _one_grid(platform)
    with platform.db.session() as session:
        assert platform.locator(session).locate(1.5, 0.5) is None
    with other_node.db.session() as session:
        _second_grid(session)
    other_node.close()
    with platform.db.session() as session:
        assert platform.locator(session).locate(1.5, 0.5) is not None


def test_a_grid_changed_in_the_session_is_located_in_that_session(platform):
    _one_grid(platform)
    with platform.db.session() as session:
        assert platform.locator(session).locate(1.5, 0.5) is None
        _second_grid(session)
        session.flush()
        assert platform.locator(session).locate(1.5, 0.5) is not None
