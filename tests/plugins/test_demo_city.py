"""The demo city (the demo_city plugin) reproduces the seed platform's numbers exactly, is consistent with itself,
and is loaded through the importers a real city uses."""
import json
from pathlib import Path

import numpy as np
from click.testing import CliRunner
from shapely.geometry import shape
from sqlalchemy import func, select

from minqing.core.privacy import idcard, uscc
from minqing.core import scope
from minqing.core.ops import stats
from minqing.core.actors import actor_for
from minqing.core.cli import build_cli
from minqing.plugins.demo_city import spec
from minqing.plugins.demo_city.build import DEMO_PASSWORD, demo_accounts
from minqing.core.models import Account, AuditRecord, Case, Grid, KeyPerson, Region, Resident, Unit
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


def test_rural_group_leaders_are_their_grids_full_time_workers(demo_platform):
    """3,823 full-time workers serve rural small grids, 3,745 of them village group leaders: each is one person,
    the cadre account with the post 自然村长/村民小组长 for the grid, and that grid's only full-time worker."""
    from minqing.core.models import CadreGrid, CadrePost, GridMember, RoleGrant

    with demo_platform.db.session() as session:
        rural_full_time = session.scalar(
            select(func.count()).select_from(GridMember).join(Grid, GridMember.grid_id == Grid.id)
            .join(Grid.region).where(GridMember.role == "full_time", Grid.level == "small")
            .where(~Grid.region.has(urban=True)))
        leaders = session.execute(
            select(Account.id, Account.person_id, CadreGrid.grid_id, Grid.level, Region.urban)
            .join(CadrePost, CadrePost.account_id == Account.id).join(CadreGrid, CadreGrid.cadre_post_id == CadrePost.id)
            .join(Grid, Grid.id == CadreGrid.grid_id).join(Grid.region).where(CadrePost.post == "group_leader")).all()
        full_time: dict[int, set[int]] = {}
        for grid_id, person_id in session.execute(select(GridMember.grid_id, GridMember.person_id)
                                                  .where(GridMember.role == "full_time")):
            full_time.setdefault(grid_id, set()).add(person_id)
        worker_grants = set(session.execute(select(RoleGrant.account_id, RoleGrant.grid_id)
                                            .where(RoleGrant.role == "grid_worker")).all())
    assert rural_full_time >= spec.RURAL_FULL_TIME
    assert len(leaders) == len({row.id for row in leaders}) == spec.RURAL_GROUP_LEADERS
    assert all(row.level == "small" and not row.urban for row in leaders)
    assert all(full_time[row.grid_id] == {row.person_id} for row in leaders)
    assert all((row.id, row.grid_id) in worker_grants for row in leaders)


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


# -- one city among others: loaded through the importers, checked like an imported city ------------------------


def test_regions_grids_and_accounts_went_through_the_importers(demo_platform):
    with demo_platform.db.session() as session:
        imports = {record.object_type: record for record in session.scalars(
            select(AuditRecord).where(AuditRecord.action == "import"))}
        regions = session.scalar(select(func.count()).select_from(Region))
        grids = session.scalar(select(func.count()).select_from(Grid))
        initialised = session.scalar(select(func.count()).select_from(AuditRecord)
                                     .where(AuditRecord.action == "city.init"))
        staff = session.scalars(select(Account).where(Account.username.in_(["gridworker", "admin"]))).all()
        # every account but the citizen's (a resident signs up; the demo writes that one directly)
        staff_accounts = session.scalar(select(func.count()).select_from(Account)
                                        .where(Account.person_id.is_not(None)))
    assert set(imports) == {"regions", "grids", "accounts"}
    assert initialised == 1                                            # `minqing init` made the root region
    assert imports["regions"].object_id == "regions.geojson"
    assert imports["regions"].details["added"] == regions - 1
    assert imports["grids"].object_id == "grids.geojson" and imports["grids"].details["added"] == grids == 8703
    assert imports["accounts"].object_id == "accounts.csv"
    assert imports["accounts"].details["added"] == staff_accounts          # the nine staff and the cadres
    assert demo_platform.demo_summary.imports["grids"]["added"] == 8703
    # the roster's accounts are the importer's (a person behind each), then given the demo password
    assert all(account.person_id and not account.password_must_change for account in staff)
    with demo_platform.db.session() as session:
        dedicated = session.scalar(select(func.count()).select_from(Grid).where(Grid.dedicated))
    assert dedicated == 60                                            # the grid file's `dedicated` property


def test_the_demo_city_passes_the_checks_of_an_imported_city(demo_platform, tmp_path):
    """Its grids, exported as a city keeps them and checked again by `minqing import grids --dry-run`: valid,
    nested, inside their regions' outlines, no overlaps and no gaps; nothing would change."""
    run = lambda *args: CliRunner().invoke(build_cli(), ["--db", str(demo_platform.db.url), *args])
    exported = tmp_path / "grids.geojson"
    assert run("export", "grids", "-o", str(exported)).exit_code == 0
    checked = run("import", "grids", str(exported), "--dry-run", "--json")
    assert checked.exit_code == 0, checked.output
    summary = json.loads(checked.output)
    assert summary["problems"] == [] and summary["warnings"] == [] and summary["checked"] == 8703
    assert summary["written"] is False


def test_disabling_the_plugin_takes_the_demo_command_away_and_nothing_else(platform, tmp_path):
    run = lambda *args: CliRunner().invoke(build_cli(), ["--db", str(platform.db.url), *args])
    assert "demo_city" in run("plugins", "list").output
    assert run("plugins", "disable", "demo_city").exit_code == 0
    refused = run("demo", "--no-serve", "--residents", "0")
    assert refused.exit_code == 1 and "演示城市插件（demo_city）已停用" in refused.output
    with platform.db.session() as session:
        assert session.scalar(select(func.count()).select_from(Region)) == 0     # nothing was built
    # the rest of the platform is untouched: a city still sets itself up through the same doors
    examples = Path(__file__).resolve().parents[2] / "docs" / "examples" / "city"
    assert run("init", "--city-code", "620100", "--name", "兰州市").exit_code == 0
    imported = run("import", "regions", str(examples / "regions.csv"), "--errors", str(tmp_path / "e.csv"))
    assert imported.exit_code == 0, imported.output
    assert run("serve", "--help").exit_code == 0 and run("stats", "--json").exit_code == 0
    assert run("plugins", "enable", "demo_city").exit_code == 0
    assert "已存在" in run("demo", "--no-serve").output          # back again: it finds the city and keeps it
