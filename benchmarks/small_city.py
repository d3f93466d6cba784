"""The small signed-in city the HTTP benchmarks report into: the regions and nested grids of the page tests, the
departments, the published themes and a grid worker with an API key (as `minqing init` and an admin would)."""
from __future__ import annotations

from minqing import themes
from minqing.core import city
from minqing.core.accounts import apikeys
from minqing.core.actors import system_actor
from minqing.core.departments import sync_departments
from minqing.core.platform import Platform

THEME = "hotline.general_appeals"   # a report without photos: no upload per request
WORKER = "worker"
LEADER = "leader"   # the city's leader: sees every record of the city, phones and house numbers masked


def build(url: str, holder: str = WORKER) -> str:
    """The city in the (empty, migrated) database at `url`; returns the API key of `holder` (WORKER or LEADER)."""
    # the page tests' builders and places, imported here: the served baseline apps import this module's names
    from tests.fixtures.city import add_accounts, build_places
    from tests.fixtures.web import GRIDS, REGIONS

    platform = Platform(url)
    actor = system_actor("benchmark")
    with platform.db.session() as session:
        places = build_places(session, REGIONS, GRIDS, urban=True)
        city.initialise(session, actor, code="620100000000", name="兰州市")
        sync_departments(session, platform.plugins, actor, region_id=places.regions["620100000000"])
        themes.sync_themes(platform, session, actor)
        add_accounts(session, {WORKER: ("grid_worker", "G620102001001001"), LEADER: ("leader", "620100000000")},
                     places)
        _row, key = apikeys.create(session, actor, holder, "benchmark")
    platform.close()
    return key


def report_body() -> dict:
    """A grid worker's report of a hotline appeal, as a client posts it (the API tests' body)."""
    from tests.fixtures.web import INSIDE

    return {"theme": THEME, "title": "楼道灯不亮", "category": "4001", "urgency": "normal",
            "details": {"appeal_type": "求助", "content": "楼道灯坏了，请尽快修理", "urgent": False, "anonymous": True,
                        "address": "永昌路8号3单元", "location": {"lon": INSIDE[0], "lat": INSIDE[1]}}}
