"""The `minqing` command line. Core commands live here; plugins add theirs through `register_commands`
(the web application adds `serve` and `demo`, the workflow engine `worker` and `beat`)."""
from __future__ import annotations

import json
import logging
import sys

import click

from . import city
from .actors import system_actor
from .audit.cli import audit as audit_command
from .importing.cli import export_command, import_command
from minqing.core.privacy.cli import personal_data_command
from .platform import Platform
from minqing.core.pluginhost.host import PluginHost, RequiredPlugin, UnknownPlugin


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
            city.refresh(self._platform.db)  # the city's time zone, for what this command shows and stores
        return self._platform

    def close(self) -> None:
        """Release the database's connections when the command ends (a command run in-process, as tests and
        other programs run it, would otherwise leave them open on a file another test may replace)."""
        if self._platform is not None:
            self._platform.close()
            self._platform = None


pass_context = click.make_pass_decorator(Context)


@click.group(help="民情地图 Minqing: grid-based municipal governance platform.",
             context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="minqing", prog_name="minqing", message="%(prog)s %(version)s")
@click.option("--db", "database_url", envvar="MINQING_DATABASE_URL", default=None,
              help="Database URL (default: sqlite:///minqing.db, or $MINQING_DATABASE_URL).")
@click.option("--debug", is_flag=True, help="Show the full traceback of an error (and of plugin failures).")
@click.pass_context
def cli(ctx: click.Context, database_url: str | None, debug: bool) -> None:
    ctx.obj = Context(database_url)
    ctx.call_on_close(ctx.obj.close)


@cli.command("upgrade")
@pass_context
def upgrade(context: Context) -> None:
    """Create or migrate the database schema to the newest version, and create or update the departments the
    enabled plugins declare."""
    context.platform  # opening it upgrades
    click.echo(f"数据库已是最新版本: {context.platform.db.engine.url.render_as_string(hide_password=True)}")
    added = _sync_departments(context.platform)
    click.echo("职能部门已与插件同步" + (f"，新增 {len(added)} 个：{'、'.join(added)}" if added else ""))


def _sync_departments(platform: Platform) -> list[str]:
    """The departments enabled plugins declare, created or updated (a department plugin installed into a running
    city reaches the departments table here and when it is enabled, not only in the demo build)."""
    from .departments import sync_departments

    with platform.db.session() as session:
        return sync_departments(session, platform.plugins, system_actor("cli"))


@cli.command("init")
@click.option("--city-code", "code", required=True,
              help="The city's 12-digit statistical division code (620100000000), or its 6-digit GB/T 2260 code.")
@click.option("--name", required=True, help="The city's name, e.g. 兰州市.")
@click.option("--timezone", default=None,
              help=f"IANA time zone without daylight saving (first run: {city.DEFAULT_TIMEZONE}; then: kept).")
@click.option("--centre", default=None, help="Default map centre LON,LAT (default: the city outline's centre).")
@click.option("--zoom", default=None, help=f"Default map zoom, {city.ZOOMS.start}-{city.ZOOMS.stop - 1} "
                                           f"(first run: {city.DEFAULT_ZOOM}).")
@click.option("--update", is_flag=True, help="Change values already stored (otherwise different values are refused).")
@pass_context
def init(context: Context, code: str, name: str, timezone: str | None, centre: str | None, zoom: str | None,
         update: bool) -> None:
    """Store the city: its root region (created if absent), time zone and default map view (docs/setup.md)."""
    try:
        with context.platform.db.session() as session:
            outcome = city.initialise(session, system_actor("cli"), code=code, name=name, timezone=timezone,
                                      centre=centre, zoom=zoom, update=update)
    except city.CityInvalid as error:
        raise click.ClickException(f"城市设置未保存：{error}") from error
    settled = outcome.city
    view = f"{settled.centre[0]},{settled.centre[1]}" if settled.centre else "区划轮廓中心"
    state = "未变化" if not outcome.changed else ("已初始化" if outcome.first else "已修改")
    click.echo(f"城市设置{state}：{settled.name}（{settled.code}），时区 {settled.timezone}"
               f"（{city.utc_text(settled.offset)}），地图中心 {view}，缩放级别 {settled.zoom}")


@cli.command("stats")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@pass_context
def stats(context: Context, as_json: bool) -> None:
    """Counts of regions, grids, people, base data and cases, by level and kind."""
    from minqing.core.ops import stats as stats_module

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
        click.echo(_plugin_line(info))


def _plugin_line(info) -> str:
    if info.refused:   # found but not loaded: the reason is all there is to say
        return f"{info.name:32} {'未加载':4} {info.module}  {info.last_error}"
    state = "必需" if info.required else ("启用" if info.enabled else ("自动停用" if info.auto_disabled else "停用"))
    error = f"  最近错误({info.last_error_hook}, 共{info.error_count}次): {info.last_error}" if info.last_error else ""
    if info.auto_disabled:
        error += f"\n{'':37}{info.disabled_reason}"
    for warning in info.warnings:
        error += f"\n{'':37}注意：{warning}"
    return f"{info.name:32} {state:4} {info.title or info.module}{error}"


def _switch(context: Context, name: str, enabled: bool, as_json: bool) -> None:
    platform = context.platform
    try:
        with platform.db.session() as session:
            platform.plugins.set_enabled(name, enabled, session=session, actor=system_actor("cli"))
    except (UnknownPlugin, RequiredPlugin) as error:
        raise click.ClickException(str(error)) from error
    if enabled:
        _sync_departments(platform)  # after the switch is committed: the plugin's declarations now count
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
    from minqing.core.accounts import apikeys

    try:
        with context.platform.db.session() as session:
            row, key = apikeys.create(session, system_actor("cli"), username, label)
            prefix = row.prefix
    except apikeys.UnknownAccount as error:
        raise click.ClickException(str(error)) from error
    click.echo(f"已为 {username} 创建接口密钥（{prefix}…），请妥善保存，此后不再显示：")
    click.echo(key)


@apikey.command("list")
@click.option("--all", "include_revoked", is_flag=True, help="Include revoked keys.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@pass_context
def apikey_list(context: Context, include_revoked: bool, as_json: bool) -> None:
    """The keys: number, prefix, account, label, made, last used, revoked (never the key itself)."""
    from minqing.core.accounts import apikeys

    def when(value):
        return value.isoformat(timespec="seconds") if value else None

    with context.platform.db.session() as session:
        rows = [{"id": row.id, "prefix": row.prefix, "account": row.account.username, "label": row.label,
                 "created_at": when(row.created_at), "last_used_at": when(row.last_used_at),
                 "revoked_at": when(row.revoked_at)}
                for row in apikeys.listing(session, include_revoked=include_revoked)]
    if as_json:
        click.echo(json.dumps(rows, ensure_ascii=False, indent=2))
        return
    if not rows:
        click.echo("没有接口密钥")
    for row in rows:
        state = f"已吊销 {row['revoked_at']}" if row["revoked_at"] else f"最近使用 {row['last_used_at'] or '从未'}"
        click.echo(f"{row['id']:>5}  {row['prefix']}…  {row['account']:16} {row['label'] or '-':20} {state}")


@apikey.command("revoke")
@click.argument("key")
@pass_context
def apikey_revoke(context: Context, key: str) -> None:
    """Revoke a key, given by its number or its prefix (from `minqing apikey list`); it stops working at once."""
    from minqing.core.accounts import apikeys

    try:
        with context.platform.db.session() as session:
            row = apikeys.find(session, key)
            already = row.revoked_at is not None
            apikeys.revoke(session, system_actor("cli"), row.id)
            prefix, username = row.prefix, row.account.username
    except apikeys.UnknownKey as error:
        raise click.ClickException(str(error)) from error
    click.echo(f"接口密钥 {prefix}…（{username}）{'早已吊销' if already else '已吊销'}")


from minqing.core.ops.cli import backup_command, restore_command  # noqa: E402

cli.add_command(backup_command)
cli.add_command(restore_command)
cli.add_command(audit_command)
from minqing.core.accounts.cli import accounts as accounts_command  # noqa: E402

cli.add_command(accounts_command)
cli.add_command(import_command)
cli.add_command(export_command)
cli.add_command(personal_data_command)


def build_cli() -> click.Group:
    """The command group with every installed plugin's commands added."""
    host = PluginHost(None)
    host.call("register_commands", cli=cli)
    return cli


def main(argv: list[str] | None = None) -> None:
    """The `minqing` command: runs the command line and exits with its status."""
    sys.exit(run(argv))


def run(argv: list[str] | None = None) -> int:
    """Run the command line and answer its exit status. An error becomes one Chinese line on stderr and status 1
    (`--debug`: the traceback too); a plugin's failure is logged in one line unless `--debug`."""
    from minqing.core.ops.cli_errors import OneLineFormatter, explain
    from minqing.core.privacy.masking import install_log_scrubbing

    argv = sys.argv[1:] if argv is None else argv
    debug = "--debug" in argv[:argv.index("--")] if "--" in argv else "--debug" in argv
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s") if debug
                         else OneLineFormatter("%(levelname)s %(name)s: %(message)s"))
    logging.basicConfig(level=logging.WARNING, handlers=[handler])
    install_log_scrubbing()  # no ID or phone number reaches a log unmasked, whichever handler writes it
    try:
        build_cli().main(args=argv, prog_name="minqing", standalone_mode=True)
    except SystemExit as stop:
        return stop.code if isinstance(stop.code, int) else (0 if stop.code is None else 1)
    except Exception as error:  # noqa: BLE001 - the one top-level handler of the command line
        if debug:
            raise
        click.echo(f"错误：{explain(error)}（加 --debug 查看详细信息）", err=True)
        return 1
    return 0


if __name__ == "__main__":
    main()
