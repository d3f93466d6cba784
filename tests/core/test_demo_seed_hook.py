"""The demo's policies and service guides are seeded through the `seed_demo` hook by the built-in
`demo_publications` plugin, like every plugin's demo data: nothing is seeded beside the hook."""
from sqlalchemy import func, select

from minqing.core import publications
from minqing.core.actors import system_actor
from minqing.core.departments import sync_departments
from minqing.core.models import Publication


def _seed(platform, system):
    with platform.db.session() as session:
        # only the plugins under test: demo_history would report cases in a city this test has not built
        platform.plugins.set_enabled("demo_history", False, session=session, actor=system)
    with platform.db.session() as session:
        sync_departments(session, platform.plugins, system_actor("test"))
        platform.plugins.call("seed_demo", platform=platform, session=session, seed=1)
    with platform.db.session() as session:
        return session.scalar(select(func.count()).select_from(Publication))


def test_seed_demo_publishes_the_demo_content(platform, system):
    assert _seed(platform, system) == len(publications.DEMO)


def test_without_the_plugin_the_demo_has_no_publications(platform, system):
    with platform.db.session() as session:
        platform.plugins.set_enabled("demo_publications", False, session=session, actor=system)
    assert _seed(platform, system) == 0
