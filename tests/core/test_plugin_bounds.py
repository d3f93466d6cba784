"""Which hooks get which time bound by default, and how the environment changes it."""
from minqing.core.pluginhost.calls import timeouts_from_environment

HOOKS = ["route_case", "register_themes", "register_workflows", "seed_demo", "web_blueprints"]


def test_defaults_per_kind_of_hook():
    assert timeouts_from_environment(HOOKS, environ={}) == {
        "route_case": 5.0, "register_themes": 60.0, "register_workflows": 60.0, "seed_demo": None,
        "web_blueprints": None}


def test_the_environment_sets_one_hook_or_all():
    bounds = timeouts_from_environment(HOOKS, environ={"MINQING_PLUGIN_TIMEOUT_REGISTER_THEMES": "2",
                                                       "MINQING_PLUGIN_TIMEOUT": "120"})
    assert bounds["register_themes"] == 2.0 and bounds["route_case"] == 120.0
    assert bounds["register_workflows"] == 120.0 and bounds["seed_demo"] is None
    unbounded = timeouts_from_environment(HOOKS, environ={"MINQING_PLUGIN_TIMEOUT": "none"})
    assert set(unbounded.values()) == {None}
