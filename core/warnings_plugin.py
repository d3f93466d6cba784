"""The stored early warnings' refresh (预警定时评估): every `MINQING_WARNINGS_REFRESH_SECONDS` (default 300) the
scheduler evaluates each rule once for the whole city and stores its warnings (`core.warning_rules.refresh`), and
`minqing warnings refresh` does it at once. Required: the dashboard and the map read what it stores (without it
each rule would be evaluated by its readers, at most every twice the interval, which a city's volume cannot afford
on a page)."""
from __future__ import annotations

import click

from .hooks import hookimpl
from .warning_store import REFRESH_SECONDS

MINQING_TITLE = "预警定时评估"
MINQING_DESCRIPTION = "定时在全市范围评估每条预警规则并保存结果，驾驶舱和地图读取保存的预警。"
MINQING_REQUIRED = True


def _refresh(platform) -> None:
    from .actors import system_actor
    from .warning_rules import refresh

    refresh(platform, system_actor("beat"))


@hookimpl
def periodic_tasks():
    return [{"name": "warnings.refresh", "every": REFRESH_SECONDS, "run": _refresh}]


@click.group("warnings")
def warnings_group() -> None:
    """Early warnings (预警): evaluate the rules and store their current warnings."""


@warnings_group.command("refresh")
@click.option("--rule", "keys", multiple=True, metavar="KEY", help="Only this rule (repeatable); default: all.")
@click.pass_obj
def refresh_command(context, keys: tuple[str, ...]) -> None:
    """Evaluate every enabled rule (or --rule) once for the whole city now and store its warnings."""
    from tqdm import tqdm

    from .actors import system_actor
    from .warning_rules import refresh, rules

    with context.platform.db.session() as session:
        known = rules(context.platform, session)
    unknown = sorted(set(keys) - set(known))
    if unknown:
        raise click.ClickException(f"没有预警规则 {'、'.join(unknown)}（可用：{'、'.join(sorted(known))}）")
    with tqdm(total=len(keys or known), desc="评估预警规则", unit="条", disable=None) as bar:
        done = refresh(context.platform, system_actor("cli"), keys=set(keys) or None,
                       progress=lambda rule: (bar.set_postfix_str(rule["key"]), bar.update()))
    for key, item in done.items():
        if "error" in item:
            click.echo(f"{key}: 失败（{item['seconds']:.1f} 秒）：{item['error']}")
        else:
            click.echo(f"{key}: {item['warnings']} 条（新增 {item['added']}，消失 {item['removed']}，"
                       f"{item['seconds']:.1f} 秒）")
    if any("error" in item for item in done.values()):
        raise SystemExit(1)


@hookimpl
def register_commands(cli):
    cli.add_command(warnings_group)
