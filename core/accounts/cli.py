"""`minqing accounts password USER` and `minqing accounts totp-reset USER`: an operator's tools for the accounts
that sign in with a password (a forgotten password, a lost phone). Registered by `core/cli.py`; the group's
object is a `core.cli.Context`. The password policy is the web's, from `MINQING_PASSWORD_*` in the environment.
"""
from __future__ import annotations

import click
from sqlalchemy import select

from minqing.core.accounts import totp
from minqing.core.actors import system_actor
from minqing.core.models import Account
from minqing.core.accounts.password_policy import WeakPassword, policy_from_environment
from minqing.core.accounts.signin import SamePassword, set_password


@click.group("accounts")
def accounts() -> None:
    """Passwords and second factors of accounts."""


def _account(session, username: str) -> Account:
    account = session.scalar(select(Account).where(Account.username == username))
    if account is None:
        raise click.ClickException(f"账号不存在：{username}")
    return account


@accounts.command("password")
@click.argument("username")
@click.password_option("--password", prompt="新密码", confirmation_prompt="再次输入新密码",
                       help="The new password (asked for, hidden, when not given).")
@click.pass_obj
def password_command(context, username: str, password: str) -> None:
    """Set USERNAME's password (checked against the password policy); the account's sessions end."""
    policy = policy_from_environment()
    try:
        with context.platform.db.session() as session:
            set_password(session, system_actor("cli"), _account(session, username), password, policy)
    except (WeakPassword, SamePassword) as error:
        raise click.ClickException("密码不符合要求：" + "；".join(error.problems)) from error
    click.echo(f"已为 {username} 设置新密码（密码策略 {policy.profile}），该账号的登录已全部失效")


@accounts.command("totp-reset")
@click.argument("username")
@click.pass_obj
def totp_reset_command(context, username: str) -> None:
    """Remove USERNAME's TOTP second factor (a lost phone); they enrol again at their next sign-in."""
    with context.platform.db.session() as session:
        account = _account(session, username)
        enabled = totp.is_enabled(account)
        totp.disable(session, system_actor("cli"), account)
    click.echo(f"已重置 {username} 的动态口令，下次登录时需重新绑定" if enabled else f"{username} 未绑定动态口令")
