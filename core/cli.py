"""The `minqing` command line. Core commands live here; plugins add theirs through `register_commands`
(the web application adds `serve` and `demo`, the workflow engine `worker` and `beat`)."""
from __future__ import annotations

import json
import logging
import sys

import click

from .actors import system_actor
from .audit.cli import audit as audit_command
from .importing.cli import export_command, import_command
from .id_lookup_cli import personal_data_command
from .platform import Platform
from .plugin_host import PluginHost, RequiredPlugin, UnknownPlugin


class Context:
    """Lazily opened platform, so `minqing --help` touches no database."""

    def __init__(self, database_url: str | None):
        self.database_url = database_url
        self._platform: Platform | None = None

    @property
    def platform(self) -> Platform:
        if self._platform is None:
            self._platform = Platform(self.database_url)
            self._platform.db.upgrade()
        return self._platform


pass_context = click.make_pass_decorator(Context)


@click.group(help="民情地图 Minqing: grid-based municipal governance platform.")
@click.option("--db", "database_url", envvar="MINQING_DATABASE_URL", default=None,
              help="Database URL (default: sqlite:///minqing.db, or $MINQING_DATABASE_URL).")
@click.pass_context
def cli(ctx: click.Context, database_url: str | None) -> None:
    ctx.obj = Context(database_url)


@cli.command("upgrade")
@pass_context
def upgrade(context: Context) -> None:
    """Create or migrate the database schema to the newest version."""
    context.platform  # opening it upgrades
    click.echo(f"数据库已是最新版本: {context.platform.db.engine.url.render_as_string(hide_password=True)}")


@cli.command("stats")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@pass_context
def stats(context: Context, as_json: bool) -> None:
    """Counts of regions, grids, people, base data and cases, by level and kind."""
    from . import stats as stats_module

    with context.platform.db.session() as session:
        figures = stats_module.collect(session)
    if as_json:
        click.echo(json.dumps(figures, ensure_ascii=False, indent=2))
        return
    for section, value in figures.items():
        click.echo(f"{section}: {json.dumps(value, ensure_ascii=False)}")


@cli.group("plugins")
def plugins() -> None:
    """List, enable and disable plugins (takes effect at once in every process)."""


@plugins.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@pass_context
def plugins_list(context: Context, as_json: bool) -> None:
    infos = context.platform.plugins.info()
    if as_json:
        click.echo(json.dumps([info.as_dict() for info in infos], ensure_ascii=False, indent=2))
        return
    for info in infos:
        state = "必需" if info.required else ("启用" if info.enabled else ("自动停用" if info.auto_disabled else "停用"))
        error = f"  最近错误({info.last_error_hook}, 共{info.error_count}次): {info.last_error}" if info.last_error else ""
        if info.auto_disabled:
            error += f"\n{'':37}{info.disabled_reason}"
        click.echo(f"{info.name:32} {state:4} {info.module}{error}")


def _switch(context: Context, name: str, enabled: bool, as_json: bool) -> None:
    platform = context.platform
    try:
        with platform.db.session() as session:
            platform.plugins.set_enabled(name, enabled, session=session, actor=system_actor("cli"))
    except (UnknownPlugin, RequiredPlugin) as error:
        raise click.ClickException(str(error)) from error
    if as_json:
        click.echo(json.dumps({"name": name, "enabled": enabled}, ensure_ascii=False))
    else:
        click.echo(f"插件 {name} 已{'启用' if enabled else '停用'}")


@plugins.command("enable")
@click.argument("name")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@pass_context
def plugins_enable(context: Context, name: str, as_json: bool) -> None:
    _switch(context, name, True, as_json)


@plugins.command("disable")
@click.argument("name")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@pass_context
def plugins_disable(context: Context, name: str, as_json: bool) -> None:
    _switch(context, name, False, as_json)


@cli.group("apikey")
def apikey() -> None:
    """API keys for other systems (REST API and Open311's api_key)."""


@apikey.command("create")
@click.option("--user", "username", default="admin", show_default=True, help="Account the key acts as.")
@click.option("--label", default="", help="What the key is for.")
@pass_context
def apikey_create(context: Context, username: str, label: str) -> None:
    """Create a key; it is printed once, as the last word of the output."""
    from . import apikeys

    try:
        with context.platform.db.session() as session:
            row, key = apikeys.create(session, system_actor("cli"), username, label)
            prefix = row.prefix
    except apikeys.UnknownAccount as error:
        raise click.ClickException(str(error)) from error
    click.echo(f"已为 {username} 创建接口密钥（{prefix}…），请妥善保存，此后不再显示：")
    click.echo(key)


from .backup_cli import backup_command, restore_command  # noqa: E402

cli.add_command(backup_command)
cli.add_command(restore_command)
cli.add_command(audit_command)
from .account_cli import accounts as accounts_command  # noqa: E402

cli.add_command(accounts_command)
cli.add_command(import_command)
cli.add_command(export_command)
cli.add_command(personal_data_command)


def build_cli() -> click.Group:
    """The command group with every installed plugin's commands added."""
    host = PluginHost(None)
    host.call("register_commands", cli=cli)
    return cli


def main() -> None:
    from .masking import install_log_scrubbing

    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    install_log_scrubbing()  # no ID or phone number reaches a log unmasked, whichever handler writes it
    build_cli()(prog_name="minqing")


if __name__ == "__main__":
    sys.exit(main())
