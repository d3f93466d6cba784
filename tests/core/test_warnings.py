"""Early warnings (预警): each rule's query (in its plugin, `plugins/early_warnings/`) fires on rows that call for
it, stays quiet otherwise, and counts only what the viewer may see; the city's calendar day (`core.warning_rules.city_today`)."""
import datetime as dt

import pytest
from sqlalchemy import select

from minqing.core import warning_rules as warnings
from minqing.plugins.early_warnings import overdue_visits, unvisited_households
from minqing.plugins.early_warnings import surges as surge_rule
from minqing.core.actors import Actor, Grant, system_actor
from minqing.core.models import Account, Case, Grid, Household, KeyPerson, KeyPlace, Region, Resident

from tests.fixtures.city import build_places

NOW = dt.datetime(2026, 5, 20, 4, 0, tzinfo=dt.UTC)       # 12:00 in Lanzhou
TODAY = dt.date(2026, 5, 20)
ADMIN = system_actor("test")


REGIONS = [("620100000000", "兰州市", "city", None), ("620102000000", "城关区", "county", "620100000000"),
           ("620102001000", "张掖路街道", "township", "620102000000"),
           ("620102002000", "酒泉路街道", "township", "620102000000"),
           ("620102001001", "永昌路社区", "village", "620102001000"),
           ("620102002001", "白银路社区", "village", "620102002000")]
GRIDS = [("G620102001001", "永昌路社区网格", "small", None, "620102001001", (0, 0, 1, 1)),
         ("G620102002001", "白银路社区网格", "small", None, "620102002001", (1, 0, 2, 1))]


@pytest.fixture
def town(session):
    """One county with two townships; a village and a grid in each."""
    places = build_places(session, REGIONS, GRIDS)
    grids = {"yongchang": session.get(Grid, places.grids["G620102001001"]),
             "baiyin": session.get(Grid, places.grids["G620102002001"])}
    regions = {key: session.get(Region, places.regions[code]) for key, code in (
        ("yongchang", "620102001001"), ("baiyin", "620102002001"), ("zhangye", "620102001000"),
        ("jiuquan", "620102002000"))}
    return {"grids": grids, **regions}


def operator_of(region) -> Actor:
    return Actor(7, "指挥所", (Grant("operator", region_code=region.code),))


def add_cases(session, grid, *, count, days_ago, category="0301", theme="urban_management.street_vending",
              status="reported"):
    """`count` cases of one category code (Case.subcategory; Case.category holds its group's title)."""
    for n in range(count):
        session.add(Case(theme_key=theme, category="市容环境", subcategory=category,
                         title=f"事件{category}-{days_ago}-{n}",
                         source="grid_worker", status=status, grid_id=grid.id, region_code=grid.region_code,
                         created_at=NOW - dt.timedelta(days=days_ago, hours=n % 5)))
    session.flush()


# -- (a) surges ----------------------------------------------------------------------------------------------

def test_a_surge_fires_when_the_last_week_exceeds_k_times_the_baseline_rate(session, town):
    grid = town["grids"]["yongchang"]
    add_cases(session, grid, count=3, days_ago=20)     # baseline: 3 in 30 days = 0.1 a day → 0.7 a week
    add_cases(session, grid, count=6, days_ago=2)      # recent: 6 in 7 days
    surges = surge_rule.event_surges(session, ADMIN, now=NOW, factor=3, minimum=5)
    assert len(surges) == 1
    surge = surges[0]
    assert (surge.area, surge.area_key, surge.subcategory, surge.recent, surge.baseline) == \
        ("grid", grid.id, "0301", 6, 3)
    assert surge.ratio == pytest.approx(6 / 0.7)
    by_village = surge_rule.event_surges(session, ADMIN, area="village", now=NOW, factor=3, minimum=5)
    assert [(s.area_key, s.recent) for s in by_village] == [("620102001001", 6)]


def test_no_surge_below_the_minimum_or_within_the_usual_rate(session, town):
    grid = town["grids"]["yongchang"]
    add_cases(session, grid, count=4, days_ago=1)                       # new, but fewer than the minimum
    assert surge_rule.event_surges(session, ADMIN, now=NOW, minimum=5) == []
    add_cases(session, grid, count=30, days_ago=15, category="0302")     # 1 a day as usual …
    add_cases(session, grid, count=8, days_ago=3, category="0302")       # … 8 a week is not 3 × 7
    assert surge_rule.event_surges(session, ADMIN, now=NOW, factor=3, minimum=5) == []
    # the same counts fire with a lower factor, and voided cases and cases older than the baseline never count
    assert [s.subcategory for s in surge_rule.event_surges(session, ADMIN, now=NOW, factor=1, minimum=5)] == ["0302"]
    add_cases(session, grid, count=9, days_ago=2, category="0303", status="voided")
    add_cases(session, grid, count=9, days_ago=60, category="0304")
    assert [s.subcategory for s in surge_rule.event_surges(session, ADMIN, now=NOW, factor=1, minimum=5)] == ["0302"]


def test_surges_are_counted_per_grid_and_within_scope(session, town):
    add_cases(session, town["grids"]["yongchang"], count=3, days_ago=1)
    add_cases(session, town["grids"]["baiyin"], count=3, days_ago=1)    # 6 across two grids, 3 in each
    assert surge_rule.event_surges(session, ADMIN, now=NOW, minimum=5) == []
    add_cases(session, town["grids"]["baiyin"], count=3, days_ago=2)
    assert [s.area_key for s in surge_rule.event_surges(session, ADMIN, now=NOW, minimum=5)] == \
        [town["grids"]["baiyin"].id]
    assert surge_rule.event_surges(session, operator_of(town["zhangye"]), now=NOW, minimum=5) == []
    assert len(surge_rule.event_surges(session, operator_of(town["jiuquan"]), now=NOW, minimum=5)) == 1
    with pytest.raises(ValueError):
        surge_rule.event_surges(session, ADMIN, area="street")


def test_the_panels_surges_from_the_stored_figures_equal_the_cases_query(session, town):
    """The dashboard panel adds up the figures the refresh stored (`surges.figures`) within the viewer's scope:
    the same surges, in the same order, as its query of the cases, for every viewer whose scope of cases is drawn
    by region; for others (a department, a report of their own elsewhere) there are no figures to add up."""
    from minqing.core import warning_store

    yongchang, baiyin = town["grids"]["yongchang"], town["grids"]["baiyin"]
    settings = dict(surge_rule.SETTINGS, minimum=3)
    for n in range(12):   # twelve categories surging alike: the panel's order and its limit of 10
        add_cases(session, yongchang, count=4, days_ago=1, category=f"05{n:02d}")
    add_cases(session, yongchang, count=3, days_ago=2)
    add_cases(session, baiyin, count=2, days_ago=3)            # in a grid of the other township …
    for case in session.scalars(select(Case).where(Case.grid_id == baiyin.id)):
        case.region_code = yongchang.region_code               # … but placed in 永昌路社区: a village surge
    add_cases(session, baiyin, count=4, days_ago=2, category="0302")
    add_cases(session, baiyin, count=2, days_ago=20, category="0302")          # a baseline
    add_cases(session, yongchang, count=6, days_ago=5, category="0303", status="voided")
    session.add_all([Case(theme_key="t", category="c", subcategory="0304", title="边界", source="grid_worker",
                          status="reported", grid_id=grid_id, region_code=code, created_at=at)
                     for at in (NOW - dt.timedelta(days=7), NOW - dt.timedelta(days=37), NOW)   # at the edges
                     for grid_id, code in ((baiyin.id, baiyin.region_code), (None, baiyin.region_code),
                                           (baiyin.id, ""))
                     for _ in range(3)])
    session.flush()
    stored = surge_rule.figures(session, ADMIN, settings, NOW)
    warning_store.replace(session, surge_rule.KEY, [], NOW, 0.0, figures=stored)
    within = dt.timedelta(days=settings["recent_days"] + settings["baseline_days"])
    county = Actor(8, "区指挥中心", (Grant("operator", region_code="620102000000"),))
    for viewer in (ADMIN, county, operator_of(town["zhangye"]), operator_of(town["jiuquan"]),
                   operator_of(town["baiyin"])):
        figures = warning_store.figures(session, viewer, surge_rule.KEY, within)
        assert figures is not None
        assert surge_rule.dashboard_surges(session, viewer, NOW, settings, figures) == \
            surge_rule.dashboard_surges(session, viewer, NOW, settings), viewer
    shown = surge_rule.dashboard_surges(session, ADMIN, NOW, settings, stored)
    assert [(s.subcategory, s.recent) for s in shown if s.area == "grid"] == \
        [("0304", 6)] + [(f"05{n:02d}", 4) for n in range(9)]   # six at the edges: 7 days ago in, now out
    assert ("village", "620102001001", "0301", 5) in {(s.area, s.area_key, s.subcategory, s.recent) for s in shown}
    # a department's scope, or an own report outside the operator's township: counted in the cases instead
    staff = Actor(9, "城管", (Grant("department_staff", department_id=1),))
    assert warning_store.figures(session, staff, surge_rule.KEY, within) is None
    account = Account(username="zhangye", display_name="张掖路街道指挥所")
    session.add(account)
    session.flush()
    reporter = Actor(account.id, account.display_name, (Grant("operator", region_code=town["zhangye"].code),))
    assert warning_store.figures(session, reporter, surge_rule.KEY, within) is not None
    session.add(Case(theme_key="t", category="c", subcategory="0305", title="自报", source="grid_worker",
                     status="reported", grid_id=baiyin.id, region_code=baiyin.region_code,
                     reporter_account_id=reporter.account_id, created_at=NOW - dt.timedelta(days=1)))
    session.flush()
    assert warning_store.figures(session, reporter, surge_rule.KEY, within) is None


# -- (b) overdue visits --------------------------------------------------------------------------------------

def add_resident(session, grid, name):
    resident = Resident(name=name, id_number="620102199001011234", id_digest=name, gender="male",
                        birth_date=dt.date(1960, 1, 1), grid_id=grid.id, region_code=grid.region_code)
    session.add(resident)
    session.flush()
    return resident


def test_overdue_visits_fire_only_for_dates_before_today(session, town):
    grid, other = town["grids"]["yongchang"], town["grids"]["baiyin"]
    for name, due in (("甲", TODAY - dt.timedelta(days=5)), ("乙", TODAY), ("丙", None),
                      ("丁", TODAY + dt.timedelta(days=3))):
        session.add(KeyPerson(resident_id=add_resident(session, grid, name).id, category="独居老人",
                              grid_id=grid.id, region_code=grid.region_code, next_visit_due=due))
    session.add(KeyPlace(name="金城加油站", category="加油站", grid_id=other.id, region_code=other.region_code,
                         next_visit_due=TODAY - dt.timedelta(days=1)))
    session.add(KeyPlace(name="永昌路学校", category="学校", grid_id=grid.id, region_code=grid.region_code,
                         next_visit_due=TODAY + dt.timedelta(days=1)))
    session.flush()
    result = overdue_visits.overdue_visits(session, ADMIN, today=TODAY)
    assert (result.persons, result.places, result.total) == (1, 1, 2)
    assert [(item.kind, item.label, item.days_overdue) for item in result.oldest] == \
        [("key_person", "独居老人", 5), ("key_place", "金城加油站", 1)]
    assert sorted(result.by_grid) == sorted([(grid.id, 1, 0), (other.id, 0, 1)])
    township = overdue_visits.overdue_visits(session, operator_of(town["zhangye"]), today=TODAY)
    assert (township.persons, township.places) == (1, 0)
    nothing_yet = overdue_visits.overdue_visits(session, ADMIN, today=TODAY - dt.timedelta(days=10))
    assert (nothing_yet.total, nothing_yet.oldest, nothing_yet.by_grid) == (0, [], [])


# -- (c) households never visited ------------------------------------------------------------------------------

def test_unvisited_households_are_counted_per_village_worst_first(session, town):
    visited = NOW - dt.timedelta(days=3)
    for village_key, never, seen in (("yongchang", 1, 3), ("baiyin", 4, 1)):
        grid = town["grids"][village_key]
        for n in range(never + seen):
            session.add(Household(number=f"{village_key}-{n}", grid_id=grid.id, region_code=grid.region_code,
                                  last_visit_at=None if n < never else visited))
    session.flush()
    result = unvisited_households.unvisited_households(session, ADMIN)
    assert (result.households, result.unvisited, result.villages_with_unvisited) == (9, 5, 2)
    assert [(v.region_code, v.households, v.unvisited) for v in result.worst] == \
        [("620102002001", 5, 4), ("620102001001", 4, 1)]
    township = unvisited_households.unvisited_households(session, operator_of(town["zhangye"]))
    assert (township.households, township.unvisited) == (4, 1)


def test_unvisited_households_equal_a_direct_count_after_moves_visits_and_removals(session, town):
    """The panel's households come from the kept per-grid counts, its unvisited ones from their index: after a
    household moves village, one is visited and one removed, the figures still equal a direct count."""
    from sqlalchemy import case, delete, func, select

    from minqing.core import scope

    yongchang, baiyin = town["grids"]["yongchang"], town["grids"]["baiyin"]
    added = [Household(number=f"m{n}", grid_id=grid.id, region_code=grid.region_code, last_visit_at=None)
             for n, grid in enumerate((yongchang, yongchang, yongchang, baiyin))]
    session.add_all(added)
    session.flush()
    added[0].grid_id, added[0].region_code = baiyin.id, baiyin.region_code     # moved to 白银路
    added[1].last_visit_at = NOW                                                 # visited
    session.flush()
    session.execute(delete(Household).where(Household.id == added[3].id))
    session.flush()
    village = func.substr(Household.region_code, 1, 12)
    for viewer in (ADMIN, operator_of(town["zhangye"])):
        result = unvisited_households.unvisited_households(session, viewer)
        never_visited = func.sum(case((Household.last_visit_at.is_(None), 1), else_=0))
        rows = session.execute(scope.restrict(select(village, func.count(), never_visited).group_by(village),
                                              Household, viewer))
        direct = {code.ljust(12, "0"): (int(households), int(never)) for code, households, never in rows}
        assert {v.region_code: (v.households, v.unvisited) for v in result.worst} == {
            code: counts for code, counts in direct.items() if counts[1]}
        assert (result.households, result.unvisited) == tuple(map(sum, zip(*direct.values())))
    assert unvisited_households.unvisited_households(session, ADMIN).unvisited == 2


def test_unvisited_households_of_a_village_and_its_groups_are_one_village(platform, session, town):
    """The never-visited households are grouped by their stored region code (a village's or one of its groups':
    the partial index's order, no expression per household) and added up per village."""
    from tests.fixtures.statements import counting

    grid = town["grids"]["yongchang"]
    for n, code in enumerate(("620102001001", "620102001001001", "620102001001002", "620102001001002")):
        session.add(Household(number=f"g{n}", grid_id=grid.id, region_code=code, last_visit_at=None))
    session.add(Household(number="seen", grid_id=grid.id, region_code="620102001001001", last_visit_at=NOW))
    session.flush()
    with counting(platform.db.engine) as statements:
        result = unvisited_households.unvisited_households(session, ADMIN)
    assert (result.households, result.unvisited, result.villages_with_unvisited) == (5, 4, 1)
    assert [(v.region_code, v.households, v.unvisited) for v in result.worst] == [("620102001001", 5, 4)]
    assert unvisited_households.unvisited_households(session, operator_of(town["jiuquan"])).unvisited == 0
    [never] = [statement for statement in statements if "last_visit_at IS NULL" in statement]
    assert "substr" not in never.lower(), never


def test_no_unvisited_household_warning_when_every_household_was_visited(session, town):
    grid = town["grids"]["yongchang"]
    session.add_all([Household(number=f"h{n}", grid_id=grid.id, region_code=grid.region_code,
                               last_visit_at=NOW) for n in range(3)])
    session.flush()
    result = unvisited_households.unvisited_households(session, ADMIN)
    assert (result.households, result.unvisited, result.worst) == (3, 0, [])


def test_city_today_is_the_local_date():
    assert warnings.city_today(dt.datetime(2026, 5, 19, 17, 0, tzinfo=dt.UTC)) == TODAY   # 01:00 on the 20th
