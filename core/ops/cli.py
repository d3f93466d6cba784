"""The `minqing backup FILE` and `minqing restore FILE` commands (the work is in `core.backup`)."""
from __future__ import annotations

from pathlib import Path

import click
from tqdm import tqdm

from minqing.core.ops import backup as backups
from minqing.core.db import database_url


class _Bar:
    """A tqdm bar fed with (done, total) as `core.backup` reports them."""

    def __init__(self, description: str, unit: str):
        self.description, self.unit, self.bar = description, unit, None

    def __call__(self, done: int, total: int) -> None:
        if self.bar is None:
            self.bar = tqdm(total=total, desc=self.description, unit=self.unit, leave=True)
        self.bar.total = total
        self.bar.update(done - self.bar.n)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()


def _unit(url: str) -> str:
    return "页" if backups.is_sqlite(url) else "表"


@click.command("backup")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.pass_obj
def backup_command(context, file: Path) -> None:
    """Copy the whole database into FILE, safely while the application runs (SQLite: online backup API;
    PostgreSQL: pg_dump custom format). The file holds personal data: it is created readable by its owner only."""
    url = database_url(context.database_url)
    bar = _Bar("备份", _unit(url))
    try:
        backups.backup(url, file, bar)
    except backups.BackupError as error:
        raise click.ClickException(str(error)) from error
    finally:
        bar.close()
    click.echo(f"已备份到 {file}（{file.stat().st_size:,} 字节）")


@click.command("restore")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--yes", is_flag=True, help="Replace a database that already holds data.")
@click.pass_obj
def restore_command(context, file: Path, yes: bool) -> None:
    """Replace the database by the backup in FILE (made by `minqing backup` of the same kind of database), then
    bring its schema to this version. Refuses other files, and a database with data unless --yes."""
    url = database_url(context.database_url)
    bar = _Bar("恢复", _unit(url))
    try:
        result = backups.restore(url, file, confirm=yes, progress=bar)
    except backups.BackupError as error:
        raise click.ClickException(str(error)) from error
    finally:
        bar.close()
    click.echo(f"已从 {file} 恢复（备份时的结构版本 {result.revision}）")
    if result.upgraded:
        click.echo(f"数据库结构已升级到 {result.head}")
