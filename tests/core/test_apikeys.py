"""API keys: printed once by the CLI, kept as a digest, usable until revoked."""
from click.testing import CliRunner
from sqlalchemy import select

from minqing.core.accounts import apikeys
from minqing.core.cli import build_cli
from minqing.core.models import Account, ApiKey, RoleGrant


def test_cli_prints_the_key_last_and_it_authenticates(database_url, platform, system):
    with platform.db.session() as session:
        account = Account(username="opendata", display_name="开放平台")
        account.grants.append(RoleGrant(role="leader"))
        session.add(account)
    result = CliRunner().invoke(build_cli(), ["--db", database_url, "apikey", "create", "--user", "opendata"])
    assert result.exit_code == 0, result.output
    key = result.output.split()[-1]
    assert key.startswith("mq_") and len(key) > 30
    with platform.db.session() as session:
        row = session.scalar(select(ApiKey))
        assert key not in (row.digest, row.prefix) and row.prefix == key[:11]
        actor = apikeys.authenticate(session, key, origin="127.0.0.1")
        assert actor.name == "开放平台" and actor.has_role("leader") and actor.origin == "127.0.0.1"
        assert apikeys.authenticate(session, key + "x") is None
        assert apikeys.authenticate(session, "nonsense") is None
        apikeys.revoke(session, system, row.id)
    with platform.db.session() as session:
        assert apikeys.authenticate(session, key) is None


def test_unknown_user_is_a_clear_error(database_url, platform):
    result = CliRunner().invoke(build_cli(), ["--db", database_url, "apikey", "create", "--user", "ghost"])
    assert result.exit_code != 0 and "没有用户名为“ghost”的账号" in result.output
