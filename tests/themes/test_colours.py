"""Grid colours 红/黄/蓝: the default rule (overdue cases, risky key persons, counted up the grid tree) and
the plugins' `grid_colours` and `grid_colour` answers (the most severe wins, reasons joined)."""
import datetime as dt

import pytest
from sqlalchemy import func, select

from minqing.core.hooks import hookimpl
from minqing.core.models import AuditRecord, Case, Grid, KeyPerson, Resident, utcnow
from minqing.themes.colours import combine, recompute_grid_colours


class Colours:
    def __init__(self, answers):
        self.answers = answers

    @hookimpl
    def grid_colour(self, grid, session):
        return self.answers.get(grid.code)


@pytest.fixture
def quiet(platform, system):
    """No installed plugin colours grids but the default rule's (`grid_colour_rule`): only it and the test's own
    plugin."""
    with platform.db.session() as session:
        for hook in ("grid_colours", "grid_colour"):
            for name, _ in platform.plugins.implementations(hook, session):
                if name != "grid_colour_rule":
                    platform.plugins.set_enabled(name, False, session=session, actor=system)


class ColoursAtOnce:
    """A plugin answering for every grid in one call, by code, through the tree it is given."""

    def __init__(self, answers):
        self.answers, self.parents_seen = answers, None

    @hookimpl
    def grid_colours(self, parents, session):
        self.parents_seen = parents
        ids = dict(session.execute(select(Grid.code, Grid.id)).all())
        return {ids.get(code, code): answer for code, answer in self.answers.items()}


def _colours(platform):
    with platform.db.session() as session:
        return {code: (colour, reason) for code, colour, reason in
                session.execute(select(Grid.code, Grid.colour, Grid.colour_reason))}


def _case(grid_id, region_code, due, status="handling", closed=False):
    now = utcnow()
    return Case(theme_key="t", title="事件", source="grid_worker", status=status, grid_id=grid_id,
                region_code=region_code, due_at=now + due, closed_at=now if closed else None)


def _key_person(session, grid_id, region_code, risk, n):
    resident = Resident(name=f"人{n}", id_number="620102199001011234", id_digest=f"d{n}", gender="male",
                        birth_date=dt.date(1990, 1, 1), grid_id=grid_id, region_code=region_code)
    session.add(resident)
    session.flush()
    session.add(KeyPerson(resident_id=resident.id, category="社区矫正", risk_level=risk, grid_id=grid_id,
                          region_code=region_code))


def test_default_rule(platform, system, city, quiet):
    late, soon = dt.timedelta(hours=-2), dt.timedelta(hours=5)
    with platform.db.session() as session:
        _key_person(session, city["small"], city["zhangye"], "high", 1)
        _key_person(session, city["small"], city["zhangye"], "low", 2)
        session.add_all([_case(city["west"], city["jiuquan"], late),
                         _case(city["west"], city["jiuquan"], late, status="closed", closed=True),
                         _case(city["west"], city["jiuquan"], soon)])
    with platform.db.session() as session:
        result = recompute_grid_colours(platform, session, system)
    assert result == {"red": 2, "yellow": 1, "blue": 0, "changed": 3}
    colours = _colours(platform)
    assert colours["G620102001001"] == ("red", "高风险重点人员 1 人")
    assert colours["G620102001"] == ("red", "辖内小网格红色 100%（1/1），红黄合计 100%（1/1）；红色达到 20%")
    assert colours["G620102002"] == ("yellow", "超期未办结事件 1 件")

    with platform.db.session() as session:
        session.add_all([_case(city["west"], city["jiuquan"], late), _case(city["west"], city["jiuquan"], late)])
    with platform.db.session() as session:
        assert recompute_grid_colours(platform, session, system)["changed"] == 1
        west = session.scalar(select(Grid).where(Grid.code == "G620102002"))
        assert (west.colour, west.colour_reason) == ("red", "超期未办结事件 3 件") and west.colour_set_at
    with platform.db.session() as session:
        before = session.scalar(select(func.count()).select_from(AuditRecord)
                                .where(AuditRecord.action == "grid.colour"))
        assert before == 2
        assert recompute_grid_colours(platform, session, system)["changed"] == 0  # nothing changed: nothing recorded
        assert session.scalar(select(func.count()).select_from(AuditRecord)
                              .where(AuditRecord.action == "grid.colour")) == before


def test_plugins_extend_the_rule_most_severe_wins(platform, system, city, quiet):
    with platform.db.session() as session:
        session.add(_case(city["west"], city["jiuquan"], dt.timedelta(hours=-1)))
    platform.plugins.register(Colours({"G620102002": ("yellow", "燃气隐患 2 处"), "G620102001": ("red", "防汛重点"),
                                       "G620102001001": ("bogus", "?")}), "colour_a")
    platform.plugins.register(Colours({"G620102001": ("red", "危房 1 处")}), "colour_b")
    with platform.db.session() as session:
        recompute_grid_colours(platform, session, system)
    colours = _colours(platform)
    assert colours["G620102002"] == ("yellow", "超期未办结事件 1 件；燃气隐患 2 处")
    assert colours["G620102001"][0] == "red"
    assert set(colours["G620102001"][1].split("；")) == {"防汛重点", "危房 1 处"}
    assert colours["G620102001001"][0] == "blue"  # a malformed answer is ignored


def test_combine():
    assert combine([("blue", "无"), ("yellow", "甲"), ("red", "乙"), ("red", "丙"), ("red", "乙")]) == ("red", "乙；丙")
    assert combine([("blue", "无")]) == ("blue", "无")


def test_a_plugin_answers_for_every_grid_at_once(platform, system, city, quiet):
    at_once = ColoursAtOnce({"G620102002": ("red", "防汛重点区域"), "G620102001001": ("bogus", "?"),
                             "G620102001": "not a pair", 999_999: ("red", "?")})
    platform.plugins.register(at_once, "colour_at_once")
    platform.plugins.register(Colours({"G620102002": ("red", "危房 1 处"), "G620102001": ("yellow", "燃气隐患")}),
                              "colour_one")
    with platform.db.session() as session:
        result = recompute_grid_colours(platform, session, system)
        parents = dict(session.execute(select(Grid.id, Grid.parent_id)).all())
    assert at_once.parents_seen == parents                  # the whole tree, once
    colours = _colours(platform)
    assert colours["G620102002"][0] == "red"
    assert set(colours["G620102002"][1].split("；")) == {"防汛重点区域", "危房 1 处"}   # both hooks combined
    assert colours["G620102001"] == ("yellow", "燃气隐患")   # the malformed batch entry is ignored
    assert colours["G620102001001"][0] == "blue"
    assert result["red"] == 1
