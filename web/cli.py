"""`minqing serve` and `minqing demo`: the web application's commands, added through the plugin hook."""
from __future__ import annotations

import os

import click

from minqing.core.hooks import hookimpl

MINQING_TITLE = "网页服务"  # what the admin page and `minqing plugins list` show
MINQING_DESCRIPTION = "提供 minqing serve 与 minqing demo 命令：网页端（小兰民情、小兰网格、小兰帮办）的启动。"

MINQING_REQUIRED = True  # the web application's commands are part of the platform, not an optional plugin
TOTP_HINT = (
    "admin 与 auditor 必须使用动态口令（TOTP）：首次登录后页面显示一个密钥，在手机身份验证器 App（FreeOTP、",
    "  Google Authenticator 等）中手动添加它，再输入 App 上的6位数字完成绑定。没有手机时可用页面上的密钥在终端取码：",
    "  python -c \"import pyotp; print(pyotp.TOTP('密钥').now())\"",
    "  不需要第二因子的演示可设 MINQING_REQUIRE_TOTP_ROLES= （空值）后启动。",
)


def _sync_departments(platform) -> None:
    """A department plugin pip-installed into a running city is found when the server restarts: its departments
    are created now, so its cases are dispatched to them and the map and Open311 name them."""
    from minqing.core.actors import system_actor
    from minqing.core.departments import sync_departments

    with platform.db.session() as session:
        added = sync_departments(session, platform.plugins, system_actor("serve"))
    if added:
        click.echo(f"已登记插件新声明的职能部门：{'、'.join(added)}")


def _serve(platform, host: str, port: int, threads: int) -> None:
    from waitress import serve

    from . import create_app

    _sync_departments(platform)
    app = create_app(platform=platform)
    click.echo(f"民情地图已启动: http://{host}:{port}/  (Ctrl+C 退出)")
    serve(app, host=host, port=port, threads=threads, ident="minqing")


def build_city(platform, seed: int, residents: int) -> None:
    """The demo city, its published themes, then the plugins' demo data (cases through the real workflow)."""
    from minqing import themes
    from minqing.core.actors import system_actor
    from minqing.core.demo import build
    from minqing.themes.colours import recompute_grid_colours

    build.build_demo(platform, seed=seed, residents=residents)
    actor = system_actor("demo")
    with platform.db.session() as session:
        themes.sync_themes(platform, session, actor)
    click.echo("生成演示事件……")
    with platform.db.session() as session:
        platform.plugins.call("seed_demo", platform=platform, session=session, seed=seed)
    with platform.db.session() as session:
        recompute_grid_colours(platform, session, actor)


@hookimpl
def register_commands(cli):
    @cli.command("serve")
    @click.option("--host", default="127.0.0.1", show_default=True)
    @click.option("--port", default=5000, show_default=True, type=int)
    @click.option("--threads", default=8, show_default=True, type=int)
    @click.pass_obj
    def serve_command(context, host, port, threads):
        """Serve the web UI for an existing database."""
        _serve(context.platform, host, port, threads)

    @cli.command("demo")
    @click.option("--seed", default=None, type=int, help="Random seed of the demo city.")
    @click.option("--residents", default=None, type=int, help="Number of residents (default 200,000).")
    @click.option("--no-serve", is_flag=True, help="Only build the database, do not start the web UI.")
    @click.option("--rebuild", is_flag=True, help="Throw away the existing database content and build anew.")
    @click.option("--host", default="127.0.0.1", show_default=True)
    @click.option("--port", default=5000, show_default=True, type=int)
    @click.pass_obj
    def demo_command(context, seed, residents, no_serve, rebuild, host, port):
        """Build the Lanzhou-scale demo city (SQLite by default) and serve the web UI on 127.0.0.1:5000."""
        from minqing.core.demo import build

        platform = context.platform
        if rebuild:
            platform.db.reset()
        with platform.db.session() as session:
            already = build.is_built(session)
        if already:
            click.echo("演示城市已存在，直接启动（使用 --rebuild 重新生成）。")
        else:
            build_city(platform, seed or build.spec.DEFAULT_SEED,
                       residents if residents is not None else build.spec.DEFAULT_RESIDENTS)
        with platform.db.session() as session:
            accounts = build.demo_accounts(session)
        click.echo("演示账号（用户名 / 密码 / 角色）：")
        for username, password, purpose in accounts:
            click.echo(f"  {username:12} {password}  {purpose}")
        if os.environ.get("MINQING_REQUIRE_TOTP_ROLES", "admin,auditor").strip():
            for line in TOTP_HINT:
                click.echo(line)
        if not no_serve:
            _serve(platform, host, port, threads=8)
