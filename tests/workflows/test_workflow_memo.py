"""The workflows memoise their lookups under the plugins counter (and, for a `resolve_workflow` answer, the themes
counter): a case list asks once per key, and a switch or a published theme version is seen at once."""
from __future__ import annotations

import copy

import pytest

from minqing.core import counters
from minqing.core.hooks import hookimpl
from minqing.workflows import UnknownWorkflow, definition, get_workflow
from tests.fixtures.database import migrated_database, platform_on

SIMPLE = {"key": "memo_simple", "title": "简易流程", "initial": "open",
          "states": {"open": {"title": "处理中"}, "done": {"title": "已办结", "final": True}},
          "transitions": [{"name": "finish", "title": "办结", "from": ["open"], "to": "done",
                           "roles": ["grid_worker"], "effects": ["close"]}]}
THEME_KEY = "memo.inline"


class Counted:
    """Registers SIMPLE and answers THEME_KEY with `self.inline`, counting how often it is asked."""

    def __init__(self):
        self.registered = self.resolved = 0
        self.inline = copy.deepcopy(SIMPLE)

    @hookimpl
    def register_workflows(self):
        self.registered += 1
        return [SIMPLE]

    @hookimpl
    def resolve_workflow(self, key, platform, session):
        if key != THEME_KEY:
            return None
        self.resolved += 1
        return self.inline


@pytest.fixture(scope="module")
def memo_database_url(tmp_path_factory) -> str:
    # A database of this module's own: in two full SQLite runs the session's shared file answered "disk I/O error"
    # by the time this module (the last one) ran, though the module passes alone and after test_worker.py; the
    # cause is not found yet (the session 6 closing note).
    return migrated_database(tmp_path_factory, "memo")


@pytest.fixture
def platform(memo_database_url):
    yield from platform_on(memo_database_url)


@pytest.fixture
def counted(platform):
    plugin = Counted()
    platform.plugins.register(plugin, "memo_counted")
    yield plugin
    platform.plugins.unregister("memo_counted")


def test_a_lookup_asks_the_plugins_once_until_a_switch(platform, counted, system):
    with platform.db.session() as session:
        assert get_workflow(platform, "memo_simple", session).title == "简易流程"
        asked = counted.registered
        for _ in range(5):
            assert get_workflow(platform, "memo_simple", session).key == "memo_simple"
    with platform.db.session() as session:
        assert get_workflow(platform, "memo_simple", session).key == "memo_simple"
    assert get_workflow(platform, "memo_simple").key == "memo_simple"          # without a session too
    assert counted.registered == asked
    with platform.db.session() as session:
        platform.plugins.set_enabled("memo_counted", False, session=session, actor=system)
        session.commit()
    with platform.db.session() as session, pytest.raises(UnknownWorkflow):
        get_workflow(platform, "memo_simple", session)


def test_a_switch_not_yet_committed_does_not_key_the_old_answer(platform, counted, system):
    with platform.db.session() as session:
        platform.plugins.set_enabled("memo_counted", False, session=session, actor=system)
        # register_workflows takes no session: it is asked under the switches as committed (still enabled)
        get_workflow(platform, "memo_simple", session)
        session.commit()
    with platform.db.session() as session, pytest.raises(UnknownWorkflow):
        get_workflow(platform, "memo_simple", session)


def test_an_inline_workflow_is_asked_again_when_a_theme_version_is_published(platform, counted):
    with platform.db.session() as session:
        assert get_workflow(platform, THEME_KEY, session).key == THEME_KEY
        assert get_workflow(platform, THEME_KEY, session).title == "简易流程"
        assert counted.resolved == 1
        counted.inline = {**copy.deepcopy(SIMPLE), "title": "新版流程"}
        counters.bump(session, definition.RESOLVED_COUNTER)      # what publishing a theme version does
        session.commit()
    with platform.db.session() as session:
        assert get_workflow(platform, THEME_KEY, session).title == "新版流程"
    assert counted.resolved == 2


def test_a_lookup_in_which_a_plugin_failed_is_not_kept(platform, counted):
    class Failing:
        @hookimpl
        def register_workflows(self):
            raise RuntimeError("坏了")

    platform.plugins.register(Failing(), "memo_failing")
    try:
        with platform.db.session() as session:
            get_workflow(platform, "memo_simple", session)
            get_workflow(platform, "memo_simple", session)
        assert counted.registered == 2
    finally:
        platform.plugins.unregister("memo_failing")
