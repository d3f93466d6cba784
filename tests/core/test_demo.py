"""The demo city reproduces the seed platform's numbers exactly and is consistent with itself."""
import json

import numpy as np
from click.testing import CliRunner
from shapely.geometry import shape
from sqlalchemy import func, select

from minqing.core.privacy import idcard, uscc
from minqing.core import scope
from minqing.core.ops import stats
from minqing.core.actors import actor_for
from minqing.core.cli import build_cli
from minqing.core.demo import spec
from minqing.core.demo.build import DEMO_PASSWORD, demo_accounts
from minqing.core.models import Account, Case, Grid, KeyPerson, Resident, Unit
from minqing.core.accounts.passwords import verify_password


def test_stats_print_exactly_the_seed_numbers(demo_platform):
    result = CliRunner().invoke(build_cli(), ["--db", str(demo_platform.db.url), "stats", "--json"])
    assert result.exit_code == 0, result.output
    figures = json.loads(result.output)
    assert {level: figures["regions"][level] for level in spec.REGIONS} == spec.REGIONS
    assert figures["regions"]["group"] == spec.GRIDS["small"]
    assert {level: figures["grids"][level] for level in spec.GRIDS} == spec.GRIDS
    assert figures["grids"]["total"] == 8703
    assert figures["grid_members"] == spec.GRID_MEMBERS
    assert figures["departments"] >= 50
    assert figures["base_data"]["residents"] == demo_platform.demo_summary.residents


def test_rural_full_time_workers_are_mostly_group_leaders(demo_platform):
    from minqing.core.models import GridMember, Person

    with demo_platform.db.session() as session:
        rural_full_time = session.scalar(
            select(func.count()).select_from(GridMember).join(Grid, GridMember.grid_id == Grid.id)
            .join(Grid.region).where(GridMember.role == "full_time", Grid.level == "small")
            .where(~Grid.region.has(urban=True)))
        group_leaders = session.scalar(select(func.count()).where(Person.title.like("村民小组长%")))
    assert rural_full_time >= spec.RURAL_FULL_TIME
    assert group_leaders == spec.RURAL_GROUP_LEADERS


def test_every_resident_has_a_valid_unique_id_and_lies_in_their_grid(demo_platform):
    with demo_platform.db.session() as session:
        numbers = session.scalars(select(Resident.id_number)).all()
        assert all(idcard.is_valid(number) for number in numbers)
        assert len(set(numbers)) == len(numbers)
        codes = session.scalars(select(Unit.credit_code)).all()
        assert codes and all(uscc.problem(code) is None for code in codes)
        assert session.scalar(select(func.count()).select_from(KeyPerson)) > 0
        sample = session.execute(select(Grid.id, Grid.geometry).where(Grid.level == "small").limit(50)).all()
    locator = demo_platform.locator()
    for grid_id, geometry in sample:
        point = shape(geometry).representative_point()
        assert locator.locate(point.x, point.y) == grid_id


def test_points_outside_lanzhou_have_no_grid(demo_platform):
    locator = demo_platform.locator()
    assert locator.locate(116.39, 39.91) is None  # Beijing
    found = locator.locate_many(np.array([103.83, 0.0]), np.array([36.06, 0.0]))
    assert found[0] > 0 and found[1] == -1


def test_demo_accounts_cover_every_role_with_a_scope(demo_platform):
    with demo_platform.db.session() as session:
        printed = demo_accounts(session)
        assert {username for username, _, _ in printed} >= {
            "admin", "city", "county", "township", "chengguan", "gridworker", "gridleader", "leader", "auditor",
            "citizen"}
        accounts = {account.username: account for account in session.scalars(select(Account))}
        assert verify_password(accounts["admin"].password_hash, DEMO_PASSWORD)
        assert not verify_password(accounts["admin"].password_hash, "wrong")
        worker = actor_for(session, accounts["gridworker"])
        county = actor_for(session, accounts["county"])
        seen_by_worker = session.scalar(scope.restrict(select(func.count()).select_from(Resident), Resident, worker))
        seen_by_county = session.scalar(scope.restrict(select(func.count()).select_from(Resident), Resident, county))
        everyone = session.scalar(select(func.count()).select_from(Resident))
    assert 0 < seen_by_worker < seen_by_county < everyone


def test_figures_are_collected_without_cases(demo_platform):
    with demo_platform.db.session() as session:
        figures = stats.collect(session)
        assert figures["cases"] == session.scalar(select(func.count()).select_from(Case))
