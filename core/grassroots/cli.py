"""``minqing visits …``: the household-visit period (走村不漏户) and the 户户见干部 coverage on the command line."""
from __future__ import annotations

import json

import click

from ..actors import system_actor
from ..cli import Context, pass_context
from . import household_visits


@click.group("visits")
def visits() -> None:
    """Household visits (走村入户): the visit period and the cadres' coverage (户户见干部)."""


@visits.command("period")
@click.argument("kind", required=False, type=click.Choice(list(household_visits.PERIODS)))
@pass_context
def visits_period(context: Context, kind: str | None) -> None:
    """Show the visit period, or set it to month, quarter or year (default: month)."""
    with context.platform.db.session() as session:
        if kind:
            household_visits.set_period_kind(session, system_actor("cli"), kind)
            session.commit()
        current = household_visits.period(session)
    click.echo(f"走访周期：{household_visits.PERIODS[current.kind][0]}（本期 {current.title}）")


@visits.command("coverage")
@click.option("--level", type=click.Choice(list(household_visits.LEVELS)), default="county", show_default=True)
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@pass_context
def visits_coverage(context: Context, level: str, as_json: bool) -> None:
    """户户见干部: households a cadre visited this period ÷ households, per region at LEVEL."""
    with context.platform.db.session() as session:
        current = household_visits.period(session)
        rows = household_visits.coverage(session, by=level, current=current)
    if as_json:
        click.echo(json.dumps({"period": current.title, "rows": [
            {"region_code": row.key, "households": row.households, "seen": row.seen, "rate": row.rate}
            for row in rows]}, ensure_ascii=False, indent=2))
        return
    for row in rows:
        rate = "—" if row.rate is None else f"{row.rate * 100:.1f}%"
        click.echo(f"{row.key}  {row.households:>8} 户  干部走访 {row.seen:>8}  {rate}")
