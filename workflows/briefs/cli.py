"""``minqing brief``: a 研判 brief of a month or an ISO week, for the whole city or one region, written to a file
(.docx, .pdf or .html by its extension). Nothing is published: the dashboard's button publishes."""
from __future__ import annotations

from pathlib import Path

import click
from sqlalchemy import select

from minqing.core import warning_rules
from minqing.core.actors import Actor, Grant, system_actor
from minqing.core.models import Region, Role

from ..errors import FormInvalid
from . import archive, periods, render


def refusal(error) -> click.ClickException:
    """A refused input's Chinese messages (each naming its field) as the command's one error line."""
    return click.ClickException("；".join(m for messages in error.errors.values() for m in messages))


def viewer_for(session, region_code: str | None) -> tuple[Actor, str]:
    """(whom the brief is computed for, the region it covers): the command centre of `region_code` (its scope is
    that region), or the whole city."""
    if region_code:
        region = session.scalar(select(Region).where(Region.code == region_code.strip()))
        if region is None:
            raise click.ClickException(f"区划代码“{region_code[:20]}”不存在，请使用 12 位统计区划代码，例如 620102000000")
        return Actor(None, f"命令行 · {region.name}", (Grant(Role.OPERATOR, region_code=region.code),),
                     origin="cli"), region.code
    top = session.scalar(select(Region.code).where(Region.parent_id.is_(None)).order_by(Region.code).limit(1))
    return system_actor("cli"), top or ""


@click.command("brief")
@click.option("--period", "period_key", required=True, help="A month (2026-11) or an ISO week (2026-W45).")
@click.option("--region", "region_code", default=None, help="A region's 12-digit code (default: the whole city).")
@click.option("-o", "--output", required=True, type=click.Path(dir_okay=False, writable=True, path_type=Path),
              help="The file to write: .docx, .pdf or .html.")
@click.option("--eps-m", type=int, default=None, help="Hotspots: the DBSCAN radius in metres (default: the setting).")
@click.option("--min-cases", type=int, default=None,
              help="Hotspots: cases within the radius that make a core case (default: the setting).")
@click.pass_obj
def brief_command(context, period_key, region_code, output, eps_m, min_cases):
    """Write the 研判 brief of a period: totals and changes, the ranking, categories, hotspots, repeat places and
    reporters, overdue and returned cases, early warnings, data freshness and visit coverage, with charts."""
    from . import hotspots

    format_ = output.suffix.lower().lstrip(".")
    if format_ not in render.FORMATS:
        raise click.ClickException(f"不支持的输出格式“{output.suffix}”：文件名应以 .docx、.pdf 或 .html 结尾")
    platform = context.platform
    with platform.db.session() as session:
        try:
            period = periods.parse(period_key)
            viewer, region = viewer_for(session, region_code)
            overrides = {key: value for key, value in (("eps_m", eps_m), ("min_cases", min_cases))
                         if value is not None}
            settings = hotspots.validate_settings({**hotspots.settings_of(session), **overrides})
            figures, document = archive.generate(platform, session, viewer, period, format_, region_code=region,
                                                 hotspot_settings=settings)
        except (FormInvalid, warning_rules.SettingsInvalid) as error:
            raise refusal(error)
        except render.PdfUnavailable as error:
            raise click.ClickException(str(error))
    output.write_bytes(document)
    totals = figures["totals"]["current"]
    click.echo(f"已生成 {output}：{figures['region_name']}{figures['period_title']}，上报 {totals['reported']} 件，"
               f"热点 {sum(1 for spot in figures['hotspots'] if spot['status'] != 'gone')} 处"
               + ("（本期尚未结束，为临时数）" if figures["provisional"] else ""))


@click.command("hotspots")
@click.option("--eps-m", type=int, default=None, help="Set the DBSCAN radius in metres (10–5000).")
@click.option("--min-cases", type=int, default=None, help="Set the cases within the radius that make a core case.")
@click.pass_obj
def hotspots_command(context, eps_m, min_cases):
    """Show the hotspot parameters (热点识别参数), or set them (recorded in the audit log)."""
    from . import hotspots

    changes = {key: value for key, value in (("eps_m", eps_m), ("min_cases", min_cases)) if value is not None}
    with context.platform.db.session() as session:
        if changes:
            try:
                hotspots.save_settings(session, system_actor("cli"), {**hotspots.settings_of(session), **changes})
            except warning_rules.SettingsInvalid as error:
                raise refusal(error)
            session.commit()
        settings = hotspots.settings_of(session)
    click.echo(f"热点识别参数：邻域半径 {settings['eps_m']} 米，最少 {settings['min_cases']} 件")
