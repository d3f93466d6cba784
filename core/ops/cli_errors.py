"""What the command line says when something goes wrong: one line in Chinese, never a traceback (`--debug` shows it).

`explain` names the kinds of error a user can fix themselves (a wrong database address, a file that cannot be
read, a file of the wrong kind); anything else is named by its type so that a bug report can quote it.
"""
from __future__ import annotations

import json
import logging

from sqlalchemy import exc as db_errors


def _first_line(text: object) -> str:
    lines = str(text).strip().splitlines()
    return lines[0].strip() if lines else ""


def explain(error: BaseException) -> str:
    """One line, in Chinese, saying what went wrong and, where it helps, what to check."""
    if isinstance(error, (db_errors.ArgumentError, db_errors.NoSuchModuleError)):
        return f"数据库地址无效（--db 或 MINQING_DATABASE_URL）：{_first_line(error)}"
    if isinstance(error, (db_errors.OperationalError, db_errors.InterfaceError)):
        return f"无法连接或打开数据库（检查 --db 或 MINQING_DATABASE_URL）：{_first_line(error.orig or error)}"
    if isinstance(error, db_errors.SQLAlchemyError):
        return f"数据库出错：{_first_line(getattr(error, 'orig', None) or error)}"
    if isinstance(error, FileNotFoundError):
        return f"找不到文件：{error.filename}"
    if isinstance(error, PermissionError):
        return f"没有权限读写文件：{error.filename}"
    if isinstance(error, IsADirectoryError):
        return f"这是一个文件夹，不是文件：{error.filename}"
    if isinstance(error, json.JSONDecodeError):
        return f"不是有效的 JSON（第 {error.lineno} 行第 {error.colno} 列）：{error.msg}"
    if isinstance(error, UnicodeDecodeError):
        return "文件不是 UTF-8 编码的文本"
    if isinstance(error, OSError):
        where = f"{error.filename}：" if error.filename else ""
        return f"文件或系统操作失败：{where}{error.strerror or _first_line(error)}"
    return f"{type(error).__name__}: {_first_line(error)}"


class OneLineFormatter(logging.Formatter):
    """A log line without the traceback: a plugin that fails on every call must not bury the command's output."""

    def format(self, record: logging.LogRecord) -> str:
        exc_info, exc_text, stack_info = record.exc_info, record.exc_text, record.stack_info
        record.exc_info = record.exc_text = record.stack_info = None
        try:
            line = super().format(record)
            if exc_info and exc_info[1] is not None:
                line += f" ({type(exc_info[1]).__name__}: {_first_line(exc_info[1])}；加 --debug 查看详细信息)"
            return line
        finally:
            record.exc_info, record.exc_text, record.stack_info = exc_info, exc_text, stack_info
