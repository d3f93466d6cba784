"""重点网格: assigning small red or yellow grids to party secretaries, removing them, and the colour trend since."""
from __future__ import annotations

import pytest
from sqlalchemy import func, select

from minqing.core.grassroots import key_grids
from minqing.core.actors import actor_for
from minqing.core.models import Account, AuditRecord, Case, Grid, KeyGrid

from tests.fixtures import key_grids as kg


@pytest.fixture
def city(platform):
    return kg.build(platform)


def _actor(session, city, username):
    return actor_for(session, session.get(Account, city.accounts[username]), "test")


def _audit(session, action):
    return session.scalar(select(func.count()).select_from(AuditRecord).where(AuditRecord.action == action))


def test_a_red_grid_is_assigned_to_the_village_party_secretary_and_recorded(platform, city):
    with platform.db.session() as session:
        operator = _actor(session, city, "operator")
        key_grid = key_grids.assign(session, operator, grid_id=city.grids["G620102001001001"],
                                    holder_account_id=city.accounts["secretary"], note="矛盾纠纷多")
        session.commit()
        assert key_grid.colour_at_assignment == "red" and key_grid.active is True
        assert key_grid.region_code == "620102001001"
        assert _audit(session, "key_grid.assign") == 1
        rows = key_grids.key_grids_for(session, operator)
        assert [(row.grid_name, row.holder_name, row.trend) for row in rows] == [("永昌路第1网格", "王书记", "same")]


@pytest.mark.parametrize("grid, holder, field, message", [
    ("G620102001001003", "secretary", "grid_id", "蓝色网格不能设为重点网格"),
    ("G620102001001", "secretary", "grid_id", "只有小网格"),
    ("G620102001001002", "committee", "holder_account_id", "党组织书记"),
    ("G620102001001002", "worker", "holder_account_id", "党组织书记"),
    ("G620102001001002", "secretary_b", "holder_account_id", "不是该网格所在"),
    ("G620103001001001", "secretary_b", "grid_id", "不在您的管辖范围内"),   # side B: outside the operator's region
])
def test_refusals_name_the_field_in_chinese_and_change_nothing(platform, city, grid, holder, field, message):
    with platform.db.session() as session:
        operator = _actor(session, city, "operator")
        with pytest.raises(key_grids.KeyGridRefused) as refused:
            key_grids.assign(session, operator, grid_id=city.grids[grid], holder_account_id=city.accounts[holder])
        assert refused.value.field == field and message in refused.value.message
        session.rollback()
        assert session.scalar(select(func.count()).select_from(KeyGrid)) == 0
        assert _audit(session, "key_grid.assign") == 0


def test_only_administrators_and_operators_assign(platform, city):
    with platform.db.session() as session:
        for username in ("leader", "worker", "secretary", "citizen"):
            with pytest.raises(key_grids.KeyGridRefused):
                key_grids.assign(session, _actor(session, city, username), grid_id=city.grids["G620102001001001"],
                                 holder_account_id=city.accounts["secretary"])


def test_one_live_assignment_per_grid_and_removal_keeps_the_history(platform, city):
    grid_id = city.grids["G620102001001002"]
    with platform.db.session() as session:
        operator = _actor(session, city, "operator")
        first = key_grids.assign(session, operator, grid_id=grid_id, holder_account_id=city.accounts["secretary"])
        session.commit()
        with pytest.raises(key_grids.KeyGridRefused, match="已是重点网格，由王书记包抓"):
            key_grids.assign(session, operator, grid_id=grid_id, holder_account_id=city.accounts["secretary"])
        session.rollback()
        with pytest.raises(key_grids.KeyGridRefused, match="解除原因"):
            key_grids.remove(session, operator, key_grid_id=first.id, reason=" ")
        session.rollback()
        with pytest.raises(key_grids.KeyGridRefused, match="不在您的管辖范围内"):
            key_grids.remove(session, _actor(session, city, "operator_b"), key_grid_id=first.id, reason="调整包抓")
        session.rollback()
        key_grids.remove(session, operator, key_grid_id=first.id, reason="网格已稳定")
        session.commit()
        assert key_grids.key_grids_for(session, operator) == []
        assert _audit(session, "key_grid.remove") == 1
        again = key_grids.assign(session, _actor(session, city, "admin"), grid_id=grid_id,
                                 holder_account_id=city.accounts["secretary"])
        session.commit()
        rows = session.scalars(select(KeyGrid).where(KeyGrid.grid_id == grid_id).order_by(KeyGrid.id)).all()
        assert [(row.id, row.active, row.removal_reason) for row in rows] == [
            (first.id, None, "网格已稳定"), (again.id, True, "")]
        with pytest.raises(key_grids.KeyGridRefused, match="已解除"):
            key_grids.remove(session, operator, key_grid_id=first.id, reason="再次解除")


def test_a_grid_that_turns_blue_stays_a_key_grid_shown_as_improved_with_its_open_cases(platform, city):
    red, yellow = city.grids["G620102001001001"], city.grids["G620102001001002"]
    with platform.db.session() as session:
        operator = _actor(session, city, "operator")
        key_grids.assign(session, operator, grid_id=red, holder_account_id=city.accounts["secretary"])
        key_grids.assign(session, operator, grid_id=yellow, holder_account_id=city.accounts["secretary"])
        for status in ("handling", "registered", "closed"):
            session.add(Case(theme_key="t", title="事件", description="", status=status,
                             grid_id=red, region_code="620102001001", source="grid_worker"))
        session.get(Grid, red).colour = "blue"       # the grid got better
        session.get(Grid, yellow).colour = "red"     # the grid got worse
        session.commit()
        rows = {row.grid_name: row for row in key_grids.key_grids_for(session, operator)}
        assert (rows["永昌路第1网格"].trend, rows["永昌路第1网格"].colour_change, rows["永昌路第1网格"].open_cases) == (
            "improved", "红 → 蓝", 2)
        assert (rows["永昌路第2网格"].trend, rows["永昌路第2网格"].trend_title, rows["永昌路第2网格"].open_cases) == (
            "worse", "恶化", 0)
        assert [row.grid_name for row in key_grids.key_grids_for(
            session, _actor(session, city, "secretary"), holder_account_id=city.accounts["secretary"])] == [
            "永昌路第2网格", "永昌路第1网格"]   # most at risk first
        assert key_grids.key_grids_for(session, _actor(session, city, "operator_b")) == []
        assert len(key_grids.key_grids_for(session, _actor(session, city, "leader"))) == 2


def test_the_party_secretaries_who_may_hold_a_grid_come_from_one_query(platform, city):
    from minqing.core.models import RoleGrant

    with platform.db.session() as session:
        grid = session.get(Grid, city.grids["G620102001001002"])
        assert [name for _, name, _ in key_grids.party_secretaries(session, grid=grid)] == ["王书记"]
        operator = _actor(session, city, "operator")
        assert [(name, region) for _, name, region in key_grids.party_secretaries(session, viewer=operator)] == [
            ("王书记", "永昌路社区")]
        # without the role cadre the post alone does not make a holder: neither offered nor accepted
        session.execute(RoleGrant.__table__.delete().where(RoleGrant.account_id == city.accounts["secretary"],
                                                           RoleGrant.role == "cadre"))
        assert key_grids.party_secretaries(session, grid=grid) == []
        assert key_grids.party_secretaries(session, viewer=operator) == []
        with pytest.raises(key_grids.KeyGridRefused) as refused:
            key_grids.assign(session, operator, grid_id=grid.id, holder_account_id=city.accounts["secretary"])
        assert refused.value.field == "holder_account_id" and "在职的党组织书记" in refused.value.message


def test_trend():
    assert key_grids.trend("red", "yellow") == "improved"
    assert key_grids.trend("yellow", "yellow") == "same"
    assert key_grids.trend("yellow", "red") == "worse"
