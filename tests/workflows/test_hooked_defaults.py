"""The engine's defaults come through the public hooks, answered last by the workflows plugin: the built-in
templates through `register_workflows`, China's 2026 calendar through `working_calendar`. A plugin answering the
same hooks replaces them."""
import copy
import datetime as dt

from minqing.core.hooks import hookimpl
from minqing.core.models import Case
from minqing.workflows import definition
from minqing.workflows.calendar import default_calendar, for_platform

from tests.fixtures.workflow import CST, report


class Calendar:
    """A city whose office is closed on Monday 2 March 2026 and opens at nine."""

    @hookimpl
    def working_calendar(self):
        return {"periods": [["09:00", "17:00"]], "holidays": ["2026-03-02"], "workdays": []}


class OwnStandard:
    def __init__(self, document):
        self.document = document

    @hookimpl
    def register_workflows(self):
        return [self.document]


def test_the_builtin_templates_come_through_register_workflows(platform):
    registered = platform.plugins.collect("register_workflows")
    assert [(plugin, document["key"]) for plugin, document in registered] == \
        [("workflows", key) for key in definition.builtin_keys()]
    assert definition.get(platform, "standard").document == definition.builtin("standard").document

    own = copy.deepcopy(definition.builtin("standard").document)
    own["title"] = "本市标准流程"
    platform.plugins.register(OwnStandard(own), "own_standard")
    try:
        assert definition.get(platform, "standard").title == "本市标准流程"       # the plugin's replaces it
        assert [w.title for w in definition.all_workflows(platform) if w.key == "standard"] == ["本市标准流程"]
    finally:
        platform.plugins.unregister("own_standard")


def test_the_working_calendar_is_a_hook_answer(platform, city):
    assert platform.plugins.call_first("working_calendar") == ("workflows", default_calendar())
    ordinary = report(platform, city.worker)
    platform.plugins.register(Calendar(), "city_calendar")
    try:
        assert for_platform(platform).is_workday(dt.date(2026, 3, 2)) is False
        on_holiday = report(platform, city.worker)
    finally:
        platform.plugins.unregister("city_calendar")
    with platform.db.session() as session:
        first, second = session.get(Case, ordinary), session.get(Case, on_holiday)
        # China 2026: an ordinary Monday, 4 working hours over the lunch break
        assert first.state_deadline_at == dt.datetime(2026, 3, 2, 15, 30, tzinfo=CST)
        # the city's Monday is a holiday and its office opens at nine: 4 working hours end Tuesday 13:00
        assert second.state_deadline_at == dt.datetime(2026, 3, 3, 13, 0, tzinfo=CST)
