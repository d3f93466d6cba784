"""Declarative themes: a built-in plugin that brings every theme file (``*.json``) of ``themes/builtin/`` and of
the directories named in ``MINQING_THEME_DIRS`` (separated by ``os.pathsep``).

It is registered through the ``minqing.plugins`` entry point like any third-party plugin, so disabling it
(``minqing plugins disable declarative_themes``) removes the file themes like any other plugin's, and with them
the ``records`` kind of ``minqing import``/``export`` (the themes' ledgers, answered through ``file_kinds``). A file that
cannot be used is logged and handed on as a `BrokenTheme`, which the registry lists with its reason
(``minqing themes check``); the other files still load.
"""
from __future__ import annotations

import copy
import functools
import logging
import os
from importlib import resources
from pathlib import Path

from minqing.core.hooks import hookimpl

from .document import BrokenTheme, ThemeDocument, ThemeError, ThemeProblem, load_theme_file

MINQING_TITLE = "声明式业务主题"  # what the admin page and `minqing plugins list` show
MINQING_DESCRIPTION = "读取主题文件（JSON）作为业务主题：图层、表单和处置流程。"

log = logging.getLogger(__name__)
ENVIRONMENT = "MINQING_THEME_DIRS"


def theme_directories() -> list[Path]:
    """The built-in theme directory, then the extra ones from the environment, in order."""
    directories = [Path(str(resources.files("minqing.themes") / "builtin"))]
    extra = os.environ.get(ENVIRONMENT, "")
    directories.extend(Path(part) for part in extra.split(os.pathsep) if part.strip())
    return directories


def load_directory(directory: Path) -> list[ThemeDocument]:
    """Every theme file of one directory (and its subdirectories), sorted by path; broken ones as BrokenTheme."""
    if not directory.is_dir():
        return []
    documents: list[ThemeDocument] = []
    for path in sorted(directory.rglob("*.json")):
        try:
            documents.append(_load(path))
        except ThemeError as error:
            log.error("%s", error)
            documents.append(BrokenTheme(str(path), error.problems, error.key))
        except Exception as error:  # a fault of the checks must cost this file, not every file
            log.exception("checking theme file %s failed", path)
            documents.append(BrokenTheme(str(path), [ThemeProblem("", f"检查主题文件时出错：{error!r}")]))
    return documents


def _load(path: Path) -> ThemeDocument:
    """`load_theme_file`, remembered while the file's modification time and size stay the same: the registry
    asks again whenever any theme is published, and checking every file each time would cost seconds."""
    stat = path.stat()
    cached = _load_checked(str(path), stat.st_mtime_ns, stat.st_size)
    return ThemeDocument(copy.deepcopy(dict(cached)), source=cached.source)


@functools.lru_cache(maxsize=1024)
def _load_checked(path: str, mtime_ns: int, size: int) -> ThemeDocument:
    return load_theme_file(path)


@hookimpl
def register_themes():
    documents: list[ThemeDocument] = []
    for directory in theme_directories():
        documents.extend(load_directory(directory))
    return documents


@hookimpl(trylast=True)   # a plugin of yours answering `records` replaces the built-in ledgers' files
def file_kinds():
    """`minqing import records`, `minqing export records --theme KEY`: the ledgers (themes/ledger_files.py)."""
    from . import ledger_files

    return {"records": ledger_files.file_kind()}


@hookimpl
def register_commands(cli):
    from .cli import themes

    cli.add_command(themes)
