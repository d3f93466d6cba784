"""`minqing channels`: list the intake channels, import an outside system's file, pull from it, and export what
goes back to it (status back). Registered by the workflow engine's plugin (`register_commands`)."""
from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import click

from minqing.core import city
from minqing.core.actors import system_actor

from . import channels


def _channel(context, name: str) -> channels.Channel:
    try:
        return channels.get(context.platform, name)
    except LookupError as error:
        raise click.ClickException(str(error)) from None


def _since(text: str | None) -> dt.datetime | None:
    """An ISO date or time in the city's time (or with its own offset), as an aware UTC moment."""
    if not text:
        return None
    try:
        moment = dt.datetime.fromisoformat(text)
    except ValueError:
        raise click.BadParameter("应为 ISO 格式的日期或时间，例如 2026-12-01 或 2026-12-01T08:00", param_hint="--since")
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=city.zone())
    return moment.astimezone(dt.timezone.utc)


def register(cli: click.Group) -> None:
    @cli.group("channels")
    def channels_group():
        """Intake channels: the built-in ones and those plugins declare (docs/channels.md)."""

    @channels_group.command("list")
    @click.pass_obj
    def list_command(context):
        """The channels cases may come in through."""
        declared = channels.declared(context.platform)
        for name, title in channels.BUILT_IN.items():
            click.echo(f"{name}\t{title}\t内置")
        for name, channel in declared.items():
            ways = [way for way, present in (("文件导入", channel.importer), ("拉取", channel.pull)) if present]
            click.echo(f"{name}\t{channel.title}\t插件 {channel.plugin}\t{'、'.join(ways) or '—'}")

    @channels_group.command("import")
    @click.argument("name")
    @click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
    @click.option("--dry-run", is_flag=True, help="Check every row (form, place, plugins) and store nothing.")
    @click.option("--errors", "report", type=click.Path(dir_okay=False, path_type=Path), default=None,
                  help="Error report (CSV). Default: FILE's name with .errors.csv, next to it.")
    @click.option("--no-progress", is_flag=True, help="No progress bar.")
    @click.option("--json", "as_json", is_flag=True, help="Print the summary as JSON.")
    @click.pass_obj
    def import_command(context, name, file, dry_run, report, no_progress, as_json):
        """Import FILE, an export of the channel's outside system (e.g. `channels import 12345 orders.csv`):
        one case per item, however often it is imported."""
        from minqing.core.importing import ImportFileError

        channel = _channel(context, name)
        if channel.importer is None:
            raise click.ClickException(f"受理渠道“{channel.title}”不支持文件导入")
        report = report or file.with_name(file.stem + ".errors.csv")
        try:
            summary = channel.importer(context.platform, file, actor=system_actor(f"channel {name}"),
                                       dry_run=dry_run, report_path=report,
                                       show_progress=not no_progress and not as_json)
        except ImportFileError as error:
            raise click.ClickException(str(error)) from None
        if as_json:
            click.echo(json.dumps({**summary.as_dict(), "dry_run": dry_run,
                                   "errors": [error.__dict__ for error in summary.errors]}, ensure_ascii=False,
                                  indent=2))
        else:
            verb = "检查（试运行，未写入）" if dry_run else "导入"
            click.echo(f"{verb}{channel.title}：新建事件 {summary.imported} 件，已受理过（跳过）{summary.skipped} 件，"
                       f"拒绝 {summary.rejected} 行，用时 {summary.seconds:.1f} 秒")
            if summary.unknown_columns:
                click.echo(f"未识别（已忽略）的列：{'、'.join(summary.unknown_columns)}")
            for error in summary.errors[:20]:
                click.echo(f"  第{error.row}行 {error.column}：{error.message}")
            if len(summary.errors) > 20:
                click.echo(f"  另有 {len(summary.errors) - 20} 个问题")
            if summary.errors and summary.report:
                click.echo(f"错误报告：{summary.report}")
        if summary.rejected:
            raise SystemExit(1)

    @channels_group.command("pull")
    @click.argument("name")
    @click.pass_obj
    def pull_command(context, name):
        """Fetch what is new from the channel's outside system now."""
        channel = _channel(context, name)
        if channel.pull is None:
            raise click.ClickException(f"受理渠道“{channel.title}”不支持拉取")
        channel.pull(context.platform)

    @channels_group.command("status-back")
    @click.argument("name")
    @click.option("--since", default=None, help="Only changes after this moment (ISO, the city's time by default).")
    @click.option("--after-id", type=click.IntRange(0), default=None, help="Only rows after this 序号 (the last one fetched).")
    @click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), required=True)
    @click.option("--format", "fmt", type=click.Choice(["csv", "json"]), default=None,
                  help="Default: from the output's suffix, else csv.")
    @click.pass_obj
    def status_back_command(context, name, since, after_id, output, fmt):
        """Export the status changes of the channel's cases, for its outside system to fetch."""
        channel = _channel(context, name)
        fmt = fmt or ("json" if output.suffix.lower() == ".json" else "csv")
        with context.platform.db.session() as session:
            text, count = channels.export_updates(context.platform, session, system_actor("cli status-back"),
                                                  channel.name, since=_since(since), after_id=after_id, fmt=fmt)
            output.write_text(text, encoding="utf-8")
            session.commit()
        click.echo(f"已导出{channel.title}状态回传 {count} 条到 {output}")
