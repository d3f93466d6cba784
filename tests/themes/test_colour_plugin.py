"""The default grid-colour rule is an internal plugin (`grid_colour_rule`) answering the public `grid_colours`
hook and owning the hourly recolouring; the file-theme loader has nothing to do with either."""
import datetime as dt

from sqlalchemy import select

from minqing.core.models import Case, Grid, utcnow
from minqing.themes import colour_plugin
from minqing.themes.colours import recompute_grid_colours
from minqing.workflows.tasks import run_periodic


def _overdue_cases(platform, city, n):
    with platform.db.session() as session:
        session.add_all([Case(theme_key="t", title="事件", source="grid_worker", status="handling",
                              grid_id=city["west"], region_code=city["jiuquan"],
                              due_at=utcnow() - dt.timedelta(hours=2)) for _ in range(n)])


def _colour(platform, code):
    with platform.db.session() as session:
        return session.execute(select(Grid.colour, Grid.colour_reason).where(Grid.code == code)).one()


def _switch(platform, system, name, enabled):
    with platform.db.session() as session:
        platform.plugins.set_enabled(name, enabled, session=session, actor=system)


def test_disabling_the_file_themes_keeps_grids_recoloured(platform, system, city):
    _switch(platform, system, "declarative_themes", False)
    _overdue_cases(platform, city, 3)
    with platform.db.session() as session:
        declared = {(plugin, task["name"]) for plugin, task in platform.plugins.collect("periodic_tasks",
                                                                                        session=session)}
    assert ("grid_colour_rule", colour_plugin.TASK_NAME) in declared
    assert run_periodic(platform, colour_plugin.TASK_NAME)       # what `minqing beat` runs every hour
    assert _colour(platform, "G620102002") == ("red", "超期未办结事件 3 件")
    assert _colour(platform, "G620102001")[0] == "blue"


def test_the_default_rule_answers_the_public_hook(platform, system, city):
    _overdue_cases(platform, city, 1)
    with platform.db.session() as session:
        answers = dict(platform.plugins.call("grid_colours", parents={city["west"]: None}, session=session))
    assert answers["grid_colour_rule"] == {city["west"]: ("yellow", "超期未办结事件 1 件")}

    _switch(platform, system, "grid_colour_rule", False)   # no rule at all: nobody says a grid is at risk
    with platform.db.session() as session:
        assert recompute_grid_colours(platform, session, system)["yellow"] == 0
    assert _colour(platform, "G620102002") == ("blue", "")
    with platform.db.session() as session:
        tasks = [task["name"] for _, task in platform.plugins.collect("periodic_tasks", session=session)]
    assert colour_plugin.TASK_NAME not in tasks                # its recolouring goes with it
