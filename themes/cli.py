"""``minqing themes …``: list, check, sync the themes, show which departments have none, and import and export
themes as JSON documents or XLSForm spreadsheets (the theme builder's command-line side, docs/builder.md)."""
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
    """Business themes (业务主题): list, check, publish versions, department coverage, import and export."""


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
        click.echo(f"可用主题 {len(found.themes)} 个，有问题的主题 {len(found.issues)} 个，"
                   f"提供主题时出错的插件 {len(failed)} 个")
    if found.issues or failed:
        reasons = [f"{len(found.issues)} 个主题有问题"] if found.issues else []
        reasons += [f"插件 {'、'.join(f['plugin'] for f in failed)} 提供主题时出错"] if failed else []
        if not as_json:   # the JSON says it itself
            click.echo(f"检查未通过：{'；'.join(reasons)}（详见上文）", err=True)
        click.get_current_context().exit(1)


@themes.command("orphans")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@pass_context
def themes_orphans(context: Context, as_json: bool) -> None:
    """Themes that open cases still name but no enabled plugin provides (uninstalled or disabled plugins)."""
    from minqing.workflows import orphans

    with context.platform.db.session() as session:
        found = orphans.orphaned(context.platform, session)
    if as_json:
        _echo_json([{"theme": item.theme_key, "open_cases": item.open_cases, "statuses": item.statuses}
                    for item in found])
        return
    if not found:
        click.echo("没有失去业务主题的未办结事件")
    for item in found:
        statuses = "、".join(f"{status} {count} 件" for status, count in sorted(item.statuses.items()))
        click.echo(f"{item.theme_key}：未办结 {item.open_cases} 件（{statuses}）")
    if found:
        click.echo("可用 minqing themes move-cases 迁入其他主题，或 minqing themes close-cases 关闭（作废）")


def _orphan_action(action) -> int:
    from minqing.workflows import orphans

    try:
        count = action(orphans)
    except orphans.OrphanRefused as error:
        raise click.ClickException(error.message) from error
    return count


@themes.command("move-cases")
@click.argument("theme_key")
@click.option("--to", "target", required=True, help="Key of the live theme the open cases move to.")
@click.option("--reason", required=True, help="Why (written on each case's timeline).")
@pass_context
def themes_move_cases(context: Context, theme_key: str, target: str, reason: str) -> None:
    """Move the open cases of a theme no plugin provides any more to another theme (same workflow states)."""
    platform = context.platform
    with platform.db.session() as session:
        count = _orphan_action(lambda orphans: orphans.move_cases(platform, session, system_actor("cli"),
                                                                  theme_key, target, reason))
    click.echo(f"已将 {count} 件未办结事件从 {theme_key} 迁入 {target}")


@themes.command("close-cases")
@click.argument("theme_key")
@click.option("--reason", required=True, help="Why (written on each case's timeline).")
@pass_context
def themes_close_cases(context: Context, theme_key: str, reason: str) -> None:
    """Close (void) the open cases of a theme no plugin provides any more, with a reason."""
    platform = context.platform
    with platform.db.session() as session:
        count = _orphan_action(lambda orphans: orphans.close_cases(platform, session, system_actor("cli"),
                                                                   theme_key, reason))
    click.echo(f"已关闭（作废）{theme_key} 的 {count} 件未办结事件")


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


@themes.command("import")
@click.argument("path", type=click.Path(dir_okay=False))
@click.option("--department", required=True, help="Key of the department the theme belongs to.")
@click.option("--key", "slug", default=None, help="The theme's slug: its key becomes DEPARTMENT.SLUG "
              "(default: the file's own, or the XLSForm's form_id).")
@click.option("--title", default=None, help="The theme's title (default: the file's own).")
@click.option("--template", default="event_report", show_default=True,
              type=click.Choice(["patrol", "event_report", "register", "visit"]),
              help="XLSForm only: the theme template the form goes into (patrol, event_report, register, visit).")
@click.option("--form", "form_name", default=None, type=click.Choice(["record", "report", "visit"]),
              help="XLSForm only: which form of the theme the spreadsheet becomes (default: the template's main one).")
@click.option("--replace", is_flag=True,
              help="Update the builder theme of that key if it exists (a new draft revision).")
@click.option("--publish", is_flag=True, help="Publish the draft at once (refused, changing nothing, if invalid).")
@click.option("--allow-empty", is_flag=True,
              help="XLSForm only: import even when none of its questions could be converted (refused otherwise).")
@pass_context
def themes_import(context: Context, path: str, department: str, slug: str | None, title: str | None,
                  template: str, form_name: str | None, replace: bool, publish: bool, allow_empty: bool) -> None:
    """Import a theme from FILE.json (a theme document) or FILE.xlsx/.xls/.csv (an XLSForm) as a builder draft.

    Prints the theme's key and, for a spreadsheet, every field that could not be converted. On bad input it
    prints why, in Chinese, exits non-zero and changes nothing."""
    from minqing.core.ops import file_kinds

    from . import authoring

    try:
        file_kinds.check(path, (".json", ".xlsx", ".xls", ".csv"))
    except (file_kinds.WrongFileKind, OSError) as error:
        _refuse(error)
    platform = context.platform
    actor = system_actor("cli")
    unconverted: list = []
    with platform.db.session() as session:
        try:
            if path.lower().endswith((".xlsx", ".xls", ".csv")):
                draft, unconverted = authoring.import_xlsform(
                    platform, session, actor, path, department=department, slug=slug, title=title,
                    template=template, form=form_name, replace=replace, allow_empty=allow_empty)
            else:
                draft = authoring.import_json(platform, session, actor, path, department=department, slug=slug,
                                              title=title, replace=replace)
            problems = authoring.draft_problems(platform, session, draft)
            published = authoring.publish_draft(platform, session, actor, draft.theme_key) if publish else None
        except (authoring.AuthoringError, authoring.NotAllowed, OSError) as error:
            session.rollback()
            _refuse(error)
        key = draft.theme_key
        session.commit()
    click.echo(f"已导入业务主题 {key}")
    for item in unconverted:
        click.echo(f"未转换：{item}")
    if unconverted:
        click.echo(f"共 {len(unconverted)} 项未能转换，其余内容已导入")
    for problem in problems:
        click.echo(f"待修改：{problem}")
    if published is not None:
        click.echo(f"已发布 {key} 第 {published.version} 版")


def _refuse(error: Exception) -> None:
    from minqing.core.ops.cli_errors import explain

    click.echo(f"导入失败：{explain(error) if isinstance(error, OSError) else error}", err=True)
    for problem in getattr(error, "problems", ())[5:]:
        click.echo(f"  {problem}", err=True)
    click.get_current_context().exit(1)


@themes.command("export")
@click.argument("key")
@click.option("--format", "file_format", default="json", show_default=True, type=click.Choice(["json", "xlsform"]))
@click.option("--form", "form_name", default="report", show_default=True,
              type=click.Choice(["record", "report", "visit"]), help="XLSForm only: which form to export.")
@click.option("-o", "--output", type=click.Path(dir_okay=False), default=None,
              help="Write to this file (required for xlsform; JSON goes to stdout without it).")
@pass_context
def themes_export(context: Context, key: str, file_format: str, form_name: str, output: str | None) -> None:
    """Export theme KEY as its JSON document (importable again unchanged) or one of its forms as an XLSForm."""
    from . import authoring

    platform = context.platform
    with platform.db.session() as session:
        try:
            if file_format == "json":
                text = authoring.export_json(platform, session, key)
            else:
                if not output:
                    raise authoring.AuthoringError("导出 XLSForm 须用 -o 指定 .xlsx 文件")
                data, unconverted = authoring.export_xlsform(platform, session, key, form_name)
        except authoring.AuthoringError as error:
            click.echo(f"导出失败：{error}", err=True)
            click.get_current_context().exit(1)
    if file_format == "json":
        if output:
            with open(output, "w", encoding="utf-8") as handle:
                handle.write(text)
        else:
            click.echo(text, nl=False)
        return
    with open(output, "wb") as handle:
        handle.write(data)
    for item in unconverted:
        click.echo(f"未导出：{item}")
    click.echo(f"已导出 {key} 的表单“{form_name}”到 {output}")
