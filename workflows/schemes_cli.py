"""``minqing schemes …``: list the assessment schemes (考核方案), show one version, check a JSON file against the
meta-schema and the rules, and import a file as a new version (workflows/schemes.py; docs/evaluation.md)."""
from __future__ import annotations

import json

import click

from minqing.core.actors import system_actor
from minqing.core.cli import Context, pass_context

from . import schemes
from .errors import FormInvalid

SCOPE = click.option("--scope", default="", help="A county's region code (default: the city's scheme).")


def _echo_json(value) -> None:
    click.echo(json.dumps(value, ensure_ascii=False, indent=2))


def _read(path: str) -> dict:
    with open(path, encoding="utf-8") as handle:
        text = handle.read(schemes.MAX_DOCUMENT + 1)
    try:
        return schemes.parse(text)
    except FormInvalid as error:
        raise click.ClickException(f"{path}：{error.errors['document'][0]}") from None


def _report(problems: dict, path: str) -> None:
    for pointer, messages in problems.items():
        for message in messages:
            click.echo(f"{path} {pointer}：{message}", err=True)
    raise click.ClickException(f"{path}：考核方案有误（{sum(map(len, problems.values()))} 处）")


@click.group("schemes")
def schemes_group() -> None:
    """Assessment schemes (考核方案): list, show, check and import."""


@schemes_group.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@pass_context
def schemes_list(context: Context, as_json: bool) -> None:
    """The city's scheme and every county's own, each with its newest version."""
    with context.platform.db.session() as session:
        rows = []
        for scope in sorted({schemes.CITY, *schemes.scopes(session)}):
            scheme = schemes.current(session, scope)
            rows.append({"scope": scope, "where": schemes.scope_title(session, scope), "version": scheme.version,
                         "title": scheme.title, "units": list(scheme.units),
                         "saved_at": scheme.saved_at.isoformat() if scheme.saved_at else None})
    if as_json:
        _echo_json(rows)
        return
    for row in rows:
        version = f"v{row['version']}" if row["version"] else "内置默认"
        click.echo(f"{row['scope'] or 'city':14} {row['where']:8} {version:8} {row['title']}")


@schemes_group.command("show")
@SCOPE
@click.option("--version", "number", type=int, help="A saved version (default: the newest).")
@pass_context
def schemes_show(context: Context, scope: str, number: int | None) -> None:
    """Print a scheme document (JSON)."""
    with context.platform.db.session() as session:
        scheme = schemes.version(session, scope, number) if number is not None else schemes.current(session, scope)
    if scheme is None:
        raise click.ClickException(f"没有找到考核方案（范围 {scope or '全市'}，版本 {number or '最新'}）")
    _echo_json(scheme.document)


@schemes_group.command("check")
@click.argument("path", type=click.Path(exists=True, dir_okay=False))
@SCOPE
def schemes_check(path: str, scope: str) -> None:
    """Check a scheme file; print each problem and exit non-zero when there is any."""
    problems = schemes.problems(_read(path), scope=scope)
    if problems:
        _report(problems, path)
    click.echo(f"{path}：考核方案有效")


@schemes_group.command("import")
@click.argument("path", type=click.Path(exists=True, dir_okay=False))
@SCOPE
@pass_context
def schemes_import(context: Context, path: str, scope: str) -> None:
    """Save a scheme file as the newest version of the city's (or a county's) scheme."""
    document = _read(path)
    with context.platform.db.session() as session:
        try:
            scheme, added = schemes.save(session, system_actor("cli"), document, scope=scope)
        except FormInvalid as error:
            _report(error.errors, path)
        session.commit()
    click.echo(f"已保存为第 {scheme.version} 版" if added else f"内容与第 {scheme.version} 版相同，未生成新版本")
