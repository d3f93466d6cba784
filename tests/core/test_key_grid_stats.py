"""`minqing stats --json` counts cadres (by post), key grids (live, removed, by colour) and 帮办实事 (by status)."""
from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys

from minqing.core.grassroots import key_grids, practical_matters
from minqing.core.actors import actor_for
from minqing.core.models import Account, Grid

from tests.fixtures import key_grids as kg


def test_stats_json_counts_cadres_key_grids_and_matters(platform, database_url):
    city = kg.build(platform)
    with platform.db.session() as session:
        operator = actor_for(session, session.get(Account, city.accounts["operator"]))
        for code in ("G620102001001001", "G620102001001002"):
            key_grids.assign(session, operator, grid_id=city.grids[code], holder_account_id=city.accounts["secretary"])
        removed = key_grids.assign(session, actor_for(session, session.get(Account, city.accounts["operator_b"])),
                                   grid_id=city.grids["G620103001001001"],
                                   holder_account_id=city.accounts["secretary_b"])
        key_grids.remove(session, actor_for(session, session.get(Account, city.accounts["admin"])),
                         key_grid_id=removed.id, reason="调整")
        session.get(Grid, city.grids["G620102001001001"]).colour = "blue"
        deadline = dt.date.today() + dt.timedelta(days=5)
        first = practical_matters.promise(session, operator, household_id=city.households["a"], title="修缮院墙",
                                          deadline=deadline)
        practical_matters.promise(session, operator, household_id=city.households["a"], title="代办医保",
                                  deadline=deadline)
        practical_matters.finish(session, operator, first.id, result="已修好")
        session.commit()
    result = subprocess.run([sys.executable, "-m", "minqing.core.cli", "--db", database_url, "stats", "--json"],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    figures = json.loads(result.stdout)
    assert figures["cadres"] == {"total": 3, "by_post": {"village_committee": 1, "township_liaison": 0,
                                                         "party_secretary": 2, "group_leader": 0}}
    assert figures["key_grids"] == {"total": 2, "removed": 1, "by_colour_now": {"red": 0, "yellow": 1, "blue": 1},
                                    "by_colour_at_assignment": {"red": 1, "yellow": 1, "blue": 0}}
    assert figures["practical_matters"] == {"promised": 1, "in_progress": 0, "done": 1, "cannot": 0, "total": 2}
