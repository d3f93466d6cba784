"""``minqing themes …``: list, check, sync the themes and show which departments have none."""
from __future__ import annotations

import json

import click

from minqing.core.actors import system_actor
from minqing.core.cli import Context, pass_context

from .coverage import coverage
from .registry import registry
from .versions import latest_versions, sync_themes


def _echo_json(value) -> None:
    click.echo(json.dumps(value, ensure_ascii=False, indent=2))


@click.group("themes")
def themes() -> None:
    """Business themes (业务主题): list, check, publish versions, department coverage."""


@themes.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@pass_context
def themes_list(context: Context, as_json: bool) -> None:
    """Every usable theme of the enabled plugins, with its newest published version."""
    platform = context.platform
    with platform.db.session() as session:
        found = registry(platform, session)
        published = {key: row.version for key, row in latest_versions(session).items()}
    rows = [{"key": theme.key, "title": theme.title, "department": theme.department, "plugin": theme.plugin,
             "source": theme.source, "geometry": theme.layer["geometry"], "layer_source": theme.layer["source"],
             "categories": len(theme.categories), "version": published.get(theme.key),
             "content_hash": theme.content_hash}
            for theme in sorted(found.themes.values(), key=lambda theme: theme.key)]
    if as_json:
        _echo_json(rows)
        return
    for row in rows:
        version = f"v{row['version']}" if row["version"] else "未发布"
        click.echo(f"{row['key']:48} {row['title']:16} {row['department']:24} {row['plugin']:20} {version}")
    click.echo(f"共 {len(rows)} 个业务主题")


@themes.command("check")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@pass_context
def themes_check(context: Context, as_json: bool) -> None:
    """Validate every theme of the enabled plugins; print each problem and exit non-zero when there is any."""
    platform = context.platform
    with platform.db.session() as session:
        found = registry(platform, session, fresh=True)
    failed = [{"plugin": failure.plugin, "message": f"插件 {failure.plugin} 提供主题时出错：{failure.error!r}"}
              for failure in platform.plugins.failures if failure.hook == "register_themes"]
    if as_json:
        _echo_json({"themes": len(found.themes), "issues": [issue.as_dict() for issue in found.issues],
                    "failed_plugins": failed})
    else:
        for issue in found.issues:
            click.echo(issue.message)
        for failure in failed:
            click.echo(failure["message"])
        click.echo(f"可用主题 {len(found.themes)} 个，有问题的 {len(found.issues)} 个")
    if found.issues or failed:
        click.get_current_context().exit(1)


@themes.command("sync")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@pass_context
def themes_sync(context: Context, as_json: bool) -> None:
    """Publish a new version of every theme whose document changed (old versions are kept)."""
    platform = context.platform
    with platform.db.session() as session:
        published = sync_themes(platform, session, system_actor("cli"))
    if as_json:
        _echo_json([{"key": item.key, "version": item.version, "plugin": item.plugin} for item in published])
        return
    for item in published:
        click.echo(f"已发布 {item.key} 第 {item.version} 版（{item.plugin}）")
    click.echo(f"发布 {len(published)} 个主题版本")


@themes.command("coverage")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@pass_context
def themes_coverage(context: Context, as_json: bool) -> None:
    """Every department and its themes; names the departments that have none."""
    platform = context.platform
    with platform.db.session() as session:
        report = coverage(platform, session)
    if as_json:
        _echo_json(report)
        return
    for row in report["departments"]:
        titles = "、".join(theme["title"] for theme in row["themes"]) or "（无）"
        click.echo(f"{row['key']:24} {row['name']:24} {titles}")
    click.echo(f"有业务主题的部门 {report['covered']}/{report['total']}")
    if report["without_themes"]:
        click.echo("没有业务主题的部门：" + "、".join(report["without_themes"]))


@themes.command("colours")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@pass_context
def themes_colours(context: Context, as_json: bool) -> None:
    """Recompute the 红/黄/蓝 colour of every grid."""
    from .colours import recompute_grid_colours

    platform = context.platform
    with platform.db.session() as session:
        result = recompute_grid_colours(platform, session, system_actor("cli"))
    if as_json:
        _echo_json(result)
    else:
        click.echo(f"红 {result['red']}、黄 {result['yellow']}、蓝 {result['blue']}，变化 {result['changed']} 个")
