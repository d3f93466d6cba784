"""`minqing demo`: the Lanzhou-scale demo city as a plugin, one city among others.

It builds the city through the doors a real city uses (`build.py`: `minqing init`, `minqing import
regions|grids|accounts`, the departments of `minqing upgrade`), publishes the themes, lets every enabled plugin add
its demo data through `seed_demo`, colours the grids, and serves the web UI through `minqing serve`.
``minqing plugins disable demo_city`` takes the command away (it refuses to run, building nothing) and leaves
everything else as it is.
"""
from __future__ import annotations

import os
import time

import click

from minqing.core.hooks import hookimpl

PLUGIN_NAME = "demo_city"  # its entry point in pyproject.toml
MINQING_TITLE = "演示城市"  # what the admin page and `minqing plugins list` show
MINQING_DESCRIPTION = "提供 minqing demo 命令：按兰州市的规模生成演示城市（经区划、网格、账号导入），并启动网页端。"

TOTP_HINT = (
    "admin 与 auditor 必须使用动态口令（TOTP）：首次登录后页面显示一个密钥，在手机身份验证器 App（FreeOTP、",
    "  Google Authenticator 等）中手动添加它，再输入 App 上的6位数字完成绑定。没有手机时可用页面上的密钥在终端取码：",
    "  python -c \"import pyotp; print(pyotp.TOTP('密钥').now())\"",
    "  不需要第二因子的演示可设 MINQING_REQUIRE_TOTP_ROLES= （空值）后启动。",
)


# --scale: (cases, residents). small is CI-sized (minutes); city is a year of Lanzhou, run by hand, never in CI.
SCALES = {"small": (20_000, 20_000), "city": (1_000_000, 4_400_000)}
MAX_CASES, MAX_RESIDENTS = 5_000_000, 10_000_000


def count_option(value, what: str, maximum: int, minimum: int = 1) -> int | None:
    """A count typed on the command line (1000000, 1_000_000 or 1,000,000), or a ClickException in Chinese."""
    if value is None:
        return None
    digits = str(value).strip().replace("_", "").replace(",", "")
    if not digits.isdigit() or not minimum <= int(digits) <= maximum:
        raise click.ClickException(f"{what}须为 {minimum:,} 到 {maximum:,} 之间的整数，收到“{value}”")
    return int(digits)


def build_city(platform, seed: int, residents: int, cases: int | None = None) -> None:
    """The demo city, its published themes, then the plugins' demo data (cases through the real workflow), the
    grid colours, and the grassroots work that builds on them (visits, key grids, 帮办实事: grassroots.py).

    `cases`: a year of that many more cases, written in bulk after the demo's own (`volume.py`), before the grid
    colours, which count them."""
    from minqing import themes
    from minqing.core.actors import system_actor

    from . import build, grassroots

    build.build_demo(platform, seed=seed, residents=residents)
    actor = system_actor("demo")
    with platform.db.session() as session:
        themes.sync_themes(platform, session, actor)
    click.echo("生成演示事件……")
    with platform.db.session() as session:
        platform.hooks.seed_demo(platform=platform, session=session, seed=seed)
    if cases:
        add_cases(platform, cases, seed, colours=False)
    with platform.db.session() as session:
        themes.colours.recompute_grid_colours(platform, session, actor)
    with platform.db.session() as session:   # key grids are the red and yellow ones: after the colours
        grassroots.seed(session, seed, show_progress=True)


def add_cases(platform, cases: int, seed: int, *, colours: bool = True) -> None:
    """A year of `cases` cases written in bulk (`volume_write.py`); the grid colours counted anew unless the
    caller does it next."""
    from minqing import themes
    from minqing.core.actors import system_actor

    from . import volume_write

    try:
        loaded = volume_write.load(platform, cases=cases, seed=seed)
    except volume_write.VolumeRefused as error:
        raise click.ClickException(str(error)) from error
    click.echo(f"已批量生成历史事件 {loaded['cases']:,} 件（处置记录 {loaded['events']:,} 条、通知 "
               f"{loaded['notifications']:,} 条、督办 {loaded['supervisions']:,} 次、照片 {loaded['photos']:,} 张，"
               f"{loaded['open']:,} 件仍在办理，分 {loaded['chunks']} 批审计）")
    if colours:
        with platform.db.session() as session:
            themes.colours.recompute_grid_colours(platform, session, system_actor("demo"))


@hookimpl
def register_commands(cli):
    @cli.command("demo")
    @click.option("--seed", default=None, type=int, help="Random seed of the demo city.")
    @click.option("--residents", default=None, help="Number of residents (default 200,000).")
    @click.option("--cases", default=None,
                  help="Also write a year of N cases in bulk (e.g. 1000000); without it, the demo as always.")
    @click.option("--scale", type=click.Choice(sorted(SCALES)), default=None,
                  help="small: 20,000 cases and residents (CI-sized); city: 1,000,000 cases, 4,400,000 residents "
                       "(by hand, never in CI). --cases and --residents override it.")
    @click.option("--no-serve", is_flag=True, help="Only build the database, do not start the web UI.")
    @click.option("--rebuild", is_flag=True, help="Throw away the existing database content and build anew.")
    @click.option("--host", default="127.0.0.1", show_default=True)
    @click.option("--port", default=5000, show_default=True, type=int)
    @click.pass_context
    def demo_command(ctx, seed, residents, cases, scale, no_serve, rebuild, host, port):
        """Build the Lanzhou-scale demo city (SQLite by default) and serve the web UI on 127.0.0.1:5000."""
        from . import build, spec

        platform = ctx.obj.platform
        if not platform.plugins.is_enabled(PLUGIN_NAME):
            # `minqing` adds every installed plugin's commands before it knows the database and its switches
            raise click.ClickException(f"演示城市插件（{PLUGIN_NAME}）已停用：minqing demo 不可用"
                                       f"（minqing plugins enable {PLUGIN_NAME} 可重新启用）")
        residents = count_option(residents, "居民数（--residents）", MAX_RESIDENTS, minimum=0)
        cases = count_option(cases, "历史事件数（--cases）", MAX_CASES)
        if scale:
            cases = SCALES[scale][0] if cases is None else cases
            residents = SCALES[scale][1] if residents is None else residents
        if rebuild:
            platform.db.reset()
        with platform.db.session() as session:
            already = build.is_built(session)
        if already and cases:   # a city built earlier gets its year of cases now (e.g. after a long residents build)
            started = time.perf_counter()
            add_cases(platform, cases, seed or spec.DEFAULT_SEED)
            click.echo(f"批量历史事件已加入现有演示城市，用时 {time.perf_counter() - started:.1f} 秒")
        elif already:
            click.echo("演示城市已存在，直接启动（使用 --rebuild 重新生成）。")
        else:
            started = time.perf_counter()
            build_city(platform, seed or spec.DEFAULT_SEED,
                       residents if residents is not None else spec.DEFAULT_RESIDENTS, cases)
            click.echo(f"演示城市已生成，用时 {time.perf_counter() - started:.1f} 秒")
        with platform.db.session() as session:
            accounts = build.demo_accounts(session)
        click.echo("演示账号（用户名 / 密码 / 角色）：")
        for username, password, purpose in accounts:
            click.echo(f"  {username:12} {password}  {purpose}")
        if os.environ.get("MINQING_REQUIRE_TOTP_ROLES", "admin,auditor").strip():
            for line in TOTP_HINT:
                click.echo(line)
        if not no_serve:  # the web plugin's own command: it also registers departments and opens the app
            ctx.invoke(cli.get_command(ctx, "serve"), host=host, port=port, threads=8)
