"""考核方案: the meta-schema's Chinese errors, scoring (linear, bands, their edges), deductions with caps, saving
versions, and every kind of unit ranked with figures checked against direct SQL on a small city."""
from __future__ import annotations

import copy
import dataclasses
import datetime as dt

import pytest
from sqlalchemy import bindparam, text

from minqing.core.models import (Address, AuditRecord, CadreGrid, CadrePost, Case, CaseMilestone, GridMember, House,
                                 Household, Person, Supervision, Visit)
from minqing.core.models.base import UTCDateTime
from minqing.workflows import schemes
from minqing.workflows.errors import FormInvalid, PermissionDenied
from minqing.workflows.evaluation import Indicators

from tests.fixtures.city import add_accounts, add_departments, build_places

CST = dt.timezone(dt.timedelta(hours=8))
HOUR, DAY = dt.timedelta(hours=1), dt.timedelta(days=1)
MONTH = "2026-03"
MARCH_2 = dt.datetime(2026, 3, 2, 10, tzinfo=CST)
AS_OF = dt.datetime(2026, 4, 2, 10, tzinfo=CST)


def document(**changes) -> dict:
    base = {"title": "测试方案", "units": ["department", "county", "township", "grid", "grid_worker", "cadre"],
            "response_hours": 2,
            "indicators": [{"indicator": "response_rate", "weight": 30, "scoring": "linear", "floor": 0.5,
                            "target": 1},
                           {"indicator": "resolution_rate", "weight": 35, "scoring": "linear", "floor": 0,
                            "target": 1},
                           {"indicator": "satisfaction_rate", "weight": 35, "scoring": "bands",
                            "bands": [{"min": 0.9, "score": 1}, {"min": 0.8, "max": 0.9, "score": 0.6}]}],
            "deductions": [{"count": "supervised", "points": 2, "cap": 3}]}
    base.update(changes)
    return base


# -- the meta-schema ----------------------------------------------------------------------------------------------

def test_the_default_and_a_12345_scheme_are_valid():
    assert schemes.problems(schemes.default_document()) == {}
    assert schemes.problems(document()) == {}
    assert schemes.meta_schema()["$id"].endswith("scheme.schema.json")


@pytest.mark.parametrize("change, path, message", [
    (lambda d: d.pop("title"), "/title", "缺少必填项“title”"),
    (lambda d: d["indicators"][0].update(indicator="speed"), "/indicators/0/indicator", "取值“speed”无效"),
    (lambda d: d["indicators"][0].update(weight="30"), "/indicators/0/weight", "类型应为 数字"),
    (lambda d: d["indicators"][0].update(scoring="curve"), "/indicators/0/scoring", "取值“curve”无效"),
    (lambda d: d.update(units=[]), "/units", "至少需要 1 项"),
    (lambda d: d.update(colour="red"), "/colour", "不支持的属性“colour”"),
    (lambda d: d["deductions"][0].update(points=-1), "/deductions/0/points", "应大于 0"),
    (lambda d: d.update(response_hours=0), "/response_hours", "应大于 0"),
    (lambda d: d["indicators"][0].update(weight=40), "/indicators", "各指标权重之和应为 100，现为 110"),
    (lambda d: d["indicators"][0].pop("floor"), "/indicators/0/floor", "线性计分须填写下限"),
    (lambda d: d["indicators"][0].update(floor=1), "/indicators/0/target", "目标值不能等于下限"),
    (lambda d: d["indicators"][1].update(target=95), "/indicators/1/target", "是比率，取值应在 0 到 1 之间"),
    (lambda d: d["indicators"][2].pop("bands"), "/indicators/2/bands", "分档计分须填写分档"),
    (lambda d: d["indicators"][2]["bands"][1].update(min=0.95), "/indicators/2/bands/1/max", "分档上限不能小于下限"),
    (lambda d: d["indicators"][1].update(indicator="response_rate"), "/indicators/1/indicator", "指标“响应率”重复"),
])
def test_an_invalid_scheme_is_refused_with_the_field_and_a_chinese_message(change, path, message):
    bad = copy.deepcopy(document())
    change(bad)
    found = schemes.problems(bad)
    assert path in found, found
    assert any(message in text for text in found[path]), found[path]
    with pytest.raises(FormInvalid) as refused:
        schemes.check(bad)
    assert path in refused.value.errors


def test_a_county_scheme_ranks_only_units_inside_the_county():
    found = schemes.problems(document(), scope="620102000000")
    assert set(found) == {"/units/0", "/units/1"}
    assert "不能考核职能部门" in found["/units/0"][0]
    assert schemes.problems(document(units=["township", "grid"]), scope="620102000000") == {}


@pytest.mark.parametrize("text_, message", [("", "请填写"), ("{", "不是有效的 JSON"), ("[1]", "JSON 对象"),
                                            ("{" + " " * 20_001 + "}", "最多")])
def test_text_that_is_not_a_scheme_object_is_refused(text_, message):
    with pytest.raises(FormInvalid) as refused:
        schemes.parse(text_)
    assert message in refused.value.errors["document"][0]


# -- scoring ------------------------------------------------------------------------------------------------------

LINEAR = {"scoring": "linear", "floor": 0.6, "target": 0.9}
LOWER = {"scoring": "linear", "floor": 48, "target": 24}        # hours: lower is better
BANDS = {"scoring": "bands", "bands": [{"min": 0.95, "score": 1}, {"min": 0.9, "max": 0.95, "score": 0.8},
                                      {"max": 0.5, "score": 0.1}]}


@pytest.mark.parametrize("item, value, expected", [
    (LINEAR, 0.6, 0.0), (LINEAR, 0.5, 0.0), (LINEAR, 0.75, 0.5), (LINEAR, 0.9, 1.0), (LINEAR, 1.0, 1.0),
    (LINEAR, None, 0.0), (LOWER, 24, 1.0), (LOWER, 12, 1.0), (LOWER, 36, 0.5), (LOWER, 48, 0.0), (LOWER, 60, 0.0),
    (BANDS, 0.95, 1.0), (BANDS, 1.0, 1.0), (BANDS, 0.9, 0.8), (BANDS, 0.92, 0.8), (BANDS, 0.7, 0.0),
    (BANDS, 0.5, 0.1), (BANDS, 0.0, 0.1), (BANDS, None, 0.0),
])
def test_scoring_linear_and_bands_at_their_edges(item, value, expected):
    assert schemes.fraction(item, value) == pytest.approx(expected)


def _row(**counts) -> Indicators:
    base = dict.fromkeys(("reported", "acceptance_due", "accepted_on_time", "closure_due", "closed_on_time",
                          "overdue", "with_feedback", "reworked", "rated", "satisfied", "closed",
                          "handling_seconds"), 0)
    base.update(counts)
    return Indicators(key=1, **base)


def test_a_score_adds_weighted_parts_and_takes_capped_deductions():
    scheme = document(deductions=[{"count": "supervised", "points": 2, "cap": 3},
                                  {"count": "overdue_reworked", "points": 1.5}])
    row = _row(reported=10, responded=9, closed=8, solved=6, rated=5, satisfied=4, supervised=4,
               overdue_reworked=1)
    score = schemes.score(scheme, row)
    parts = {part.indicator: part for part in score.parts}
    assert parts["response_rate"].value == 0.9 and parts["response_rate"].points == pytest.approx(24)  # 30 × 0.8
    assert parts["resolution_rate"].points == pytest.approx(26.25)                                   # 35 × 0.75
    assert parts["satisfaction_rate"].points == pytest.approx(21)                                    # 35 × 0.6
    assert [(d.count, d.cases, d.points) for d in score.deductions] == [("supervised", 4, 3),       # capped at 3
                                                                        ("overdue_reworked", 1, 1.5)]
    assert score.total == pytest.approx(24 + 26.25 + 21 - 3 - 1.5)
    empty = schemes.score(scheme, _row())
    assert empty.total == 0 and all(part.value is None for part in empty.parts)



def test_units_with_the_same_values_share_one_score_equal_to_their_own():
    """A ranking scores thousands of units by one document; units with equal values get the same (immutable)
    Score object, equal to the one scored alone, and a unit differing in one deduction count gets its own."""
    scheme = document(deductions=[{"count": "supervised", "points": 2, "cap": 3}])
    scoring = schemes.scorer(scheme)
    rows = [_row(reported=10, responded=9, closed=8, solved=6, rated=5, satisfied=4, supervised=1),
            _row(reported=20, responded=18, closed=16, solved=12, rated=10, satisfied=8, supervised=1),
            _row(reported=10, responded=9, closed=8, solved=6, rated=5, satisfied=4, supervised=5), _row()]
    scores = [scoring(row) for row in rows]
    assert scores == [schemes.score(scheme, row) for row in rows]
    assert scores[0] is scores[1]                      # 90 %, 75 %, 80 %, one supervised case: the same values
    assert scores[2] is not scores[0] and scores[2].total == pytest.approx(scores[0].total - 1)   # −2 → −3 (cap)
    assert scores[3].total == 0 and [part.value for part in scores[3].parts] == [None, None, None]


def test_added_rows_are_their_fields_summed():
    rows = [_row(reported=3, closed=2, handling_seconds=1.5, supervised=1), _row(reported=4, handling_seconds=2.25),
            dataclasses.replace(_row(reported=1), households=7, cadre_visited=3)]
    names = [field.name for field in dataclasses.fields(Indicators) if field.name != "key"]
    added = Indicators.added("g", rows)
    assert added == Indicators(key="g", **{name: sum(getattr(row, name) for row in rows) for name in names})
    assert (added.reported, added.handling_seconds, added.households) == (8, 3.75, 7)
    assert Indicators.added("none", []) == Indicators(key="none", **dict.fromkeys(names, 0))
    assert Indicators.added(5, rows[:1]) == dataclasses.replace(rows[0], key=5)

# -- versions -----------------------------------------------------------------------------------------------------

def test_saving_adds_a_version_only_when_the_document_changes_and_records_it(platform, city):
    with platform.db.session() as session:
        assert schemes.current(session).version == 0
        first, added = schemes.save(session, city.centre, document())
        same, again = schemes.save(session, city.centre, document())
        second, _ = schemes.save(session, city.centre, document(title="改过的方案"))
        session.commit()
        assert (first.version, added, same.version, again, second.version) == (1, True, 1, False, 2)
        assert schemes.current(session).title == "改过的方案"
        assert schemes.version(session, schemes.CITY, 1).title == "测试方案"
        assert [s.version for s in schemes.history(session)] == [2, 1]
        audit = session.query(AuditRecord).filter_by(action="scheme.save").all()
        assert [record.details["version"] for record in audit] == [1, 2]


def test_bad_documents_and_outsiders_change_nothing(platform, city):
    with platform.db.session() as session:
        with pytest.raises(FormInvalid):
            schemes.save(session, city.centre, document(title=""))
        with pytest.raises(PermissionDenied):
            schemes.save(session, city.water, document())
        with pytest.raises(PermissionDenied):   # a township's operator edits no scheme
            schemes.save(session, city.township, document(units=["grid"]), scope="620102000000")
        with pytest.raises(FormInvalid) as refused:
            schemes.save(session, city.centre, document(), scope="999999000000")
        assert "scope" in refused.value.errors
        assert schemes.history(session) == []


def test_a_county_scheme_applies_inside_the_county_only(platform, city):
    with platform.db.session() as session:
        schemes.save(session, city.centre, document(title="城关区方案", units=["township", "grid"]),
                     scope="620102000000")
        session.commit()
        assert schemes.for_region(session, "620102001001").title == "城关区方案"
        assert schemes.for_region(session, "620103000000").version == 0     # 七里河区: the city's
        assert schemes.for_region(session, None).version == 0


# -- units against direct SQL -------------------------------------------------------------------------------------

REGIONS = [("620100000000", "兰州市", "city", None), ("620102000000", "城关区", "county", "620100000000"),
           ("620102001000", "酒泉路街道", "township", "620102000000"),
           ("620102002000", "张掖路街道", "township", "620102000000"),
           ("620103000000", "七里河区", "county", "620100000000"),
           ("620103001000", "西园街道", "township", "620103000000")]
GRIDS = [("L1", "酒泉路大网格", "large", None, "620102001000", (103.0, 36.0, 103.2, 36.1)),
         ("G1", "酒泉路一网格", "small", "L1", "620102001000", (103.0, 36.0, 103.1, 36.1)),
         ("G2", "酒泉路二网格", "small", "L1", "620102001000", (103.1, 36.0, 103.2, 36.1)),
         ("G3", "张掖路一网格", "small", None, "620102002000", (103.2, 36.0, 103.3, 36.1)),
         ("G4", "西园一网格", "small", None, "620103001000", (103.3, 36.0, 103.4, 36.1))]
PEOPLE = {"cadre": ("cadre", "620102001000", "包村干部丁"), "cadre2": ("cadre", "620103001000", "包村干部戊")}
ROSTER = {"网格长甲": ["L1"], "网格员乙": ["G3"], "网格员丙": ["G3", "G4"]}   # 甲 answers for G1 and G2 under L1


@pytest.fixture
def small_city(platform):
    """Four grids in three townships of two counties, two departments; 24 cases of March with varied outcomes."""
    with platform.db.session() as session:
        places = build_places(session, REGIONS, GRIDS)
        departments = add_departments(session, {"water": ("水务局", "水务"), "urban": ("城管局", "城管")})
        accounts = add_accounts(session, PEOPLE, places, departments)
        people = {}
        for name, held in ROSTER.items():
            people[name] = Person(name=name)
            session.add(people[name])
            session.flush()
            session.add_all([GridMember(grid_id=places.grids[code], person_id=people[name].id, role="full_time")
                             for code in held])
        for name, township, grid in (("cadre", "620102001000", "G2"), ("cadre2", "620103001000", "G4")):
            post = CadrePost(account_id=accounts[name].id, post="township_liaison",
                             region_id=places.regions[township])
            session.add(post)
            session.flush()
            session.add(CadreGrid(cadre_post_id=post.id, grid_id=places.grids[grid]))
        n = 0
        for grid_code, region in (("G1", "620102001000"), ("G2", "620102001000"), ("G3", "620102002000"),
                                  ("G4", "620103001000")):
            for k in range(6):
                n += 1
                created = MARCH_2 + n * HOUR
                closed = created + (k + 1) * DAY if k < 4 else None
                case = Case(theme_key="water", title="井盖", source="grid_worker",
                            status="closed" if closed else "processing",
                            grid_id=places.grids[grid_code], region_code=region, created_at=created,
                            department_id=departments["water" if k % 2 else "urban"], closed_at=closed,
                            due_at=created + 3 * DAY, rework_count=1 if k == 3 else 0)
                session.add(case)
                session.flush()
                session.add(CaseMilestone(case_id=case.id, accepted_at=created + (k % 3 + 1) * HOUR,
                                          accept_deadline_at=created + 4 * HOUR, dispatched_at=created + 4 * HOUR,
                                          rating=None if k == 0 else (5 if k % 2 else 1),
                                          satisfied=None if k == 0 else bool(k % 2)))
                if k == 5 and grid_code != "G4":
                    session.add(Supervision(case_id=case.id, actor_name="市中心", deadline_at=created + DAY))
        session.commit()
        return {"grids": places.grids, "departments": departments, "worker": people["网格长甲"].id,
                "cadre": accounts["cadre"].id}


DIRECT = """
SELECT {key} AS key, count(*) AS reported,
       sum(CASE WHEN m.accepted_at IS NOT NULL AND {hours} <= 2.0001
           THEN 1 ELSE 0 END) AS responded,
       sum(CASE WHEN c.closed_at IS NOT NULL THEN 1 ELSE 0 END) AS closed,
       sum(CASE WHEN c.closed_at IS NOT NULL AND (m.satisfied IS NULL OR m.satisfied) THEN 1 ELSE 0 END) AS solved,
       sum(CASE WHEN c.closed_at IS NOT NULL AND c.closed_at <= c.due_at THEN 1 ELSE 0 END) AS closed_on_time,
       sum(CASE WHEN EXISTS (SELECT 1 FROM supervisions s WHERE s.case_id = c.id) THEN 1 ELSE 0 END) AS supervised
FROM cases c JOIN case_milestones m ON m.case_id = c.id {join}
WHERE c.created_at >= :start AND c.created_at < :end
GROUP BY {key}
"""
UNIT_SQL = {
    "department": ("c.department_id", ""),
    "county": ("substr(c.region_code, 1, 6) || '000000'", ""),
    "township": ("substr(c.region_code, 1, 9) || '000'", ""),
    "grid": ("c.grid_id", ""),
    "grid_worker": ("gm.person_id", "JOIN grids g ON g.id = c.grid_id "
                                    "JOIN grid_members gm ON gm.grid_id IN (g.id, g.parent_id)"),
    "cadre": ("p.account_id", "JOIN cadre_grids cg ON cg.grid_id = c.grid_id "
                              "JOIN cadre_posts p ON p.id = cg.cadre_post_id"),
}
HOURS = {"sqlite": "(julianday(m.accepted_at) - julianday(c.created_at)) * 24",
         "postgresql": "extract(epoch FROM m.accepted_at - c.created_at) / 3600"}
FIGURES = ("reported", "responded", "closed", "solved", "closed_on_time", "supervised")


@pytest.mark.parametrize("unit", list(UNIT_SQL))
def test_every_kind_of_unit_matches_direct_sql(platform, small_city, unit):
    key, join = UNIT_SQL[unit]
    start, end = schemes.months.bounds(MONTH)
    with platform.db.session() as session:
        hours = HOURS[session.get_bind().dialect.name]
        direct = text(DIRECT.format(key=key, join=join, hours=hours)).bindparams(bindparam("start", type_=UTCDateTime),
                                                                     bindparam("end", type_=UTCDateTime))
        expected = {row.key: {name: getattr(row, name) for name in FIGURES}
                    for row in session.execute(direct, {"start": start, "end": end})}
        ranked = schemes.rank(session, schemes.Scheme(schemes.CITY, 1, document()), MONTH, unit=unit, now=AS_OF)
    got = {row.key: {name: getattr(row.indicators, name) for name in FIGURES} for row in ranked}
    assert got == expected and len(got) >= 2
    assert [row.place for row in ranked] == list(range(1, len(ranked) + 1))
    totals = [row.score.total for row in ranked]
    assert totals == sorted(totals, reverse=True)
    for row in ranked:
        assert row.score == schemes.score(document(), row.indicators)


def test_a_cadre_is_scored_on_their_own_visits_and_their_grids(platform, small_city):
    with platform.db.session() as session:
        [cadre] = [row for row in schemes.rank(session, schemes.Scheme(schemes.CITY, 1, document()), MONTH,
                                               unit="cadre", now=AS_OF) if row.key == small_city["cadre"]]
        [worker] = [row for row in schemes.rank(session, schemes.Scheme(schemes.CITY, 1, document()), MONTH,
                                                unit="grid_worker", now=AS_OF) if row.key == small_city["worker"]]
    assert (cadre.key, cadre.name, cadre.indicators.reported) == (small_city["cadre"], "包村干部丁", 6)   # G2
    assert worker.indicators.reported == 12 and worker.name == "网格长甲"                              # G1 + G2


def _household(session, number: str, grid_id: int) -> int:
    place = Address(code=f"ADDR-{number}", text=f"酒泉路{number}号", grid_id=grid_id, region_code="620102001000")
    session.add(place)
    session.flush()
    house = House(address_id=place.id, kind="residential", grid_id=grid_id, region_code="620102001000")
    session.add(house)
    session.flush()
    household = Household(number=number, house_id=house.id, head_name="户主", size=3, grid_id=grid_id,
                          region_code="620102001000")
    session.add(household)
    session.flush()
    return household.id


def test_a_scheme_weighing_cadre_coverage_counts_the_cadres_own_visits(platform, small_city):
    """包村干部丁 answers for G2's two households and visited one in March (another's visit does not count)."""
    scheme = schemes.Scheme(schemes.CITY, 1, document(indicators=[
        {"indicator": "cadre_coverage_rate", "weight": 100, "scoring": "linear", "floor": 0, "target": 1}]))
    with platform.db.session() as session:
        homes = [_household(session, f"H{n}", small_city["grids"]["G2"]) for n in range(2)]
        session.add_all([Visit(target_kind="household", target_id=homes[0], visitor_account_id=small_city["cadre"],
                               visitor_post="township_liaison", grid_id=small_city["grids"]["G2"],
                               visited_at=MARCH_2 + DAY),
                         Visit(target_kind="household", target_id=homes[1], visitor_account_id=None,
                               visitor_post="village_committee", grid_id=small_city["grids"]["G2"],
                               visited_at=MARCH_2 + DAY)])
        session.commit()
        rows = {row.key: row for row in schemes.rank(session, scheme, MONTH, unit="cadre", now=AS_OF)}
        plain = schemes.rank(session, schemes.Scheme(schemes.CITY, 1, document()), MONTH, unit="cadre", now=AS_OF)
    cadre = rows[small_city["cadre"]]
    assert (cadre.indicators.households, cadre.indicators.cadre_visited) == (2, 1)
    assert cadre.score.total == 50 - 2 and cadre.place == 1            # one supervised case of G2: −2
    # not weighed: the cadre's own visit counts are skipped and the grids' (visits by any cadre) stand
    [same] = [row for row in plain if row.key == small_city["cadre"]]
    assert (same.indicators.households, same.indicators.cadre_visited) == (2, 2)


def test_a_county_scheme_ranks_the_units_inside_it(platform, small_city):
    county = schemes.Scheme("620102000000", 1, document(units=["township", "grid"]))
    with platform.db.session() as session:
        townships = schemes.rank(session, county, MONTH, unit="township", now=AS_OF)
        with pytest.raises(FormInvalid) as refused:
            schemes.rank(session, county, MONTH, unit="department", now=AS_OF)
    assert {row.key for row in townships} == {"620102001000", "620102002000"}
    assert "不考核职能部门" in refused.value.errors["unit"][0]


OLD_COUNTS = {name: 1 for name in ("reported", "acceptance_due", "accepted_on_time", "closure_due", "closed_on_time",
                                   "overdue", "with_feedback", "reworked", "rated", "satisfied", "closed",
                                   "handling_seconds", "dispatched", "returned")}   # what snapshots held before


def test_a_ranking_published_before_schemes_reads_without_scores():
    from minqing.core.models import RankingPublication
    from minqing.workflows import rankings

    old = RankingPublication(period_key="2026-01", dimension="department", starts_at=MARCH_2, ends_at=MARCH_2,
                             published_at=MARCH_2, published_by_name="centre", snapshot={
                                 "as_of": MARCH_2.isoformat(), "appeals": [],
                                 "standings": [{"department_id": 1, "name": "水务", "rank": 1, "baseline_rank": 1,
                                                "indicators": OLD_COUNTS, "baseline": None}]})
    published = rankings.from_snapshot(old)
    assert published.scheme is None and published.standings[0].score is None
    assert published.standings[0].indicators.responded == 0          # counts added later read as 0
    assert rankings.as_dict(published)["scheme"] is None
