"""`minqing serve`: the web application's command, added through the plugin hook (`minqing demo` is the
`demo_city` plugin's: plugins/demo_city/plugin.py)."""
from __future__ import annotations

import click

from minqing.core.hooks import hookimpl

MINQING_TITLE = "网页服务"  # what the admin page and `minqing plugins list` show
MINQING_DESCRIPTION = "提供 minqing serve 命令：网页端（小兰民情、小兰网格、小兰帮办）的启动。"

MINQING_REQUIRED = True  # the web application's command is part of the platform, not an optional plugin


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
