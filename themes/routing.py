"""Routing by category: which department handles a case of a theme's category (used by dispatch)."""
from __future__ import annotations

from .registry import Theme


class UnknownCategory(LookupError):
    def __init__(self, theme_key: str, code: str):
        super().__init__(f"业务主题“{theme_key}”没有代码为“{code}”的分类")
        self.theme_key, self.code = theme_key, code


def route(theme: Theme | dict, category_code: str | None) -> str:
    """The department key for `category_code`: the category's own department, else the theme's.

    No category (None or "") goes to the theme's department; a code the theme does not have raises
    UnknownCategory. `theme` is a registry `Theme` (or a theme document).
    """
    document = theme.document if isinstance(theme, Theme) else theme
    if not category_code:
        return document["department"]
    for category in document.get("categories", ()):
        if category["code"] == category_code:
            return category.get("department") or document["department"]
    raise UnknownCategory(document["key"], category_code)


def routing_table(theme: Theme | dict) -> dict[str, str]:
    """Every category code of the theme and the department it routes to."""
    document = theme.document if isinstance(theme, Theme) else theme
    return {category["code"]: category.get("department") or document["department"]
            for category in document.get("categories", ())}
