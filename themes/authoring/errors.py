"""What the builder refuses, each with a Chinese message a page can show as it is."""
from __future__ import annotations

from ..document import ThemeProblem


class AuthoringError(ValueError):
    """Base of the builder's refusals (a page shows `str(error)`)."""


class NotAllowed(PermissionError):
    """The actor may not edit this department's themes (or any theme)."""

    def __init__(self, message: str = "您无权编辑业务主题"):
        super().__init__(message)


class UnknownDraft(LookupError):
    def __init__(self, key: str):
        super().__init__(f"没有业务主题“{key}”的草稿")
        self.key = key


class KeyTaken(AuthoringError):
    """The theme key is already used (by another draft, or by a theme a plugin or file provides)."""

    def __init__(self, key: str, by: str):
        super().__init__(f"主题键“{key}”已被{by}使用，请换一个标识")
        self.key, self.by = key, by


class DraftConflict(AuthoringError):
    """A save made from an older revision than the stored one: someone else saved in between."""

    def __init__(self, key: str, revision: int, current: int, by: str = ""):
        who = f"（{by}）" if by else ""
        super().__init__(f"业务主题“{key}”的草稿已被他人修改{who}：您编辑的是第 {revision} 稿，当前已是第 {current} 稿。"
                         "请重新打开草稿，核对后再保存")
        self.key, self.revision, self.current = key, revision, current


class DraftInvalid(AuthoringError):
    """A draft that cannot be published (or an input that cannot become a draft); `problems` say where and why."""

    def __init__(self, key: str | None, problems: list[ThemeProblem], what: str = "不能发布"):
        self.key, self.problems = key, list(problems)
        name = f"业务主题“{key}”" if key else "业务主题"
        super().__init__(f"{name}{what}，共 {len(problems)} 处问题：" + "；".join(str(p) for p in problems[:5]))


class ImportFailed(AuthoringError):
    """A file that cannot be imported at all (not JSON, not a spreadsheet, unreadable)."""
