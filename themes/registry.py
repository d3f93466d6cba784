"""The registry: the themes of the enabled plugins, checked, each tagged with the plugin that brought it.

Themes built in the browser come from the ``theme_builder`` plugin, which reads them from the database
(``register_themes(session)``); publishing one bumps the themes counter, so the cache below stays right.

It is read through the plugin host on every call, so disabling a plugin removes its themes (layers, forms,
routing) at once in every process, and enabling it brings them back. What is costly (collecting and checking
the documents) is cached under the plugin-switch counter, the themes counter (bumped when a version is
published) and the set of registered plugins and departments; reading those is one small query each.
"""
from __future__ import annotations

import dataclasses
import logging
import threading
import weakref

from sqlalchemy import select
from sqlalchemy.orm import Session

from minqing.core import counters
from minqing.core.departments import COUNTER as DEPARTMENTS_COUNTER
from minqing.core.models import Department
from minqing.core.pluginhost.host import PLUGINS_COUNTER

from .document import BrokenTheme, ThemeProblem, content_hash, describe, layer_of, validate_theme

log = logging.getLogger(__name__)
THEMES_COUNTER = "themes"


class UnknownTheme(LookupError):
    def __init__(self, key: str):
        super().__init__(f"没有名为“{key}”的业务主题（或提供它的插件已停用）")
        self.key = key


@dataclasses.dataclass(frozen=True)
class Theme:
    """A usable theme of an enabled plugin."""

    key: str
    department: str
    plugin: str
    document: dict
    source: str | None
    content_hash: str

    @property
    def title(self) -> str:
        return self.document["title"]

    @property
    def layer(self) -> dict:
        return layer_of(self.document)

    @property
    def categories(self) -> list[dict]:
        return list(self.document.get("categories", ()))

    @property
    def workflow(self) -> str | dict:
        """A workflow template key ("standard" unless the theme says otherwise) or an inline document."""
        return self.document.get("workflow", "standard")

    @property
    def workflow_key(self) -> str:
        """The key a case of this theme names its workflow by: the template's key, or, for an inline workflow,
        the theme's own key (a dotted key no template can have; the `resolve_workflow` hook answers it)."""
        return self.key if isinstance(self.workflow, dict) else self.workflow

    @property
    def patrol_every_days(self) -> int | None:
        return self.document.get("patrol_every_days")

    def form(self, name: str) -> dict | None:
        """The theme's form `name` ("record", "report", "visit"), None when it has none."""
        return self.document["forms"].get(name)

    def ui(self, name: str) -> dict | None:
        return self.document.get("ui", {}).get(name)


@dataclasses.dataclass(frozen=True)
class ThemeIssue:
    """A theme (or theme file) that was left out, with who brought it and why."""

    plugin: str
    key: str | None
    source: str | None
    problems: tuple[ThemeProblem, ...]

    @property
    def message(self) -> str:
        return f"{describe(self.key, self.source, self.plugin)}无效：" + "；".join(map(str, self.problems))

    def as_dict(self) -> dict:
        return {"plugin": self.plugin, "key": self.key, "source": self.source,
                "problems": [{"path": p.path, "message": p.message} for p in self.problems],
                "message": self.message}


@dataclasses.dataclass(frozen=True)
class Registry:
    themes: dict[str, Theme]
    issues: tuple[ThemeIssue, ...]

    def get(self, key: str) -> Theme:
        try:
            return self.themes[key]
        except KeyError:
            raise UnknownTheme(key) from None

    def by_department(self) -> dict[str, list[Theme]]:
        grouped: dict[str, list[Theme]] = {}
        for theme in sorted(self.themes.values(), key=lambda theme: theme.key):
            grouped.setdefault(theme.department, []).append(theme)
        return grouped


_caches: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
# The problems of each document already checked, by (content hash, departments): a pure function of both, so
# shared by every platform of the process. A rebuild after one theme was published checks only that theme.
_checked: dict = {}
MEMO_LIMIT = 5000
_lock = threading.Lock()


def registry(platform, session: Session | None = None, *, fresh: bool = False) -> Registry:
    """The themes of the enabled plugins as they are now.

    `fresh` collects the documents again even when nothing the cache watches changed (a theme file edited
    on disk): `sync_themes` does, and publishing then moves the themes counter for every process.
    """
    if session is None:
        with platform.db.session() as own:
            return registry(platform, own, fresh=fresh)
    host = platform.plugins
    # each counter read once per request (counters.seen): the registry is asked several times by every report
    generation = (counters.seen(session, PLUGINS_COUNTER), counters.seen(session, THEMES_COUNTER),
                  counters.seen(session, DEPARTMENTS_COUNTER), tuple(host.names()))
    with _lock:
        cached = _caches.get(platform)
    if cached is not None and cached[0] == generation and not fresh:
        return cached[1]
    with _lock:
        if len(_checked) > MEMO_LIMIT:
            _checked.clear()
    built = build(host, department_keys(platform, session), session, _checked)
    with _lock:
        _caches[platform] = (generation, built)
    return built


def department_keys(platform, session: Session) -> set[str]:
    """Departments a theme may belong to: those in the table and those the enabled plugins declare."""
    keys = set(session.scalars(select(Department.key)))
    keys.update(item["key"] for _, item in platform.plugins.collect("register_departments")
                if isinstance(item, dict) and "key" in item)
    return keys


def build(host, departments: set[str], session: Session | None = None, memo: dict | None = None) -> Registry:
    themes: dict[str, Theme] = {}
    issues: list[ThemeIssue] = []
    # In plugin-name order, so which of two plugins claiming one key wins does not depend on load order.
    collected = sorted(host.collect("register_themes", session=session), key=lambda item: item[0])
    for plugin, document in collected:
        source = getattr(document, "source", None)
        if isinstance(document, BrokenTheme):
            issues.append(ThemeIssue(plugin, document.key, source, tuple(document.problems)))
            continue
        key = document.get("key") if isinstance(document, dict) else None
        key = key if isinstance(key, str) else None
        problems = _checked_problems(document, departments, memo)
        if not problems and key in themes:
            other = themes[key]
            problems = [ThemeProblem("/key", f"主题键重复：已由{describe(key, other.source, other.plugin)}提供")]
        if problems:
            issues.append(ThemeIssue(plugin, key, source, tuple(problems)))
            continue
        plain = dict(document)
        themes[key] = Theme(key=key, department=plain["department"], plugin=plugin, document=plain,
                            source=source, content_hash=content_hash(plain))
    for issue in issues:
        log.error("%s", issue.message)
    return Registry(themes=themes, issues=tuple(issues))


def _checked_problems(document, departments: set[str], memo: dict | None) -> list[ThemeProblem]:
    if memo is None or not isinstance(document, dict):
        return _problems(document, departments)
    try:
        key = (content_hash(document), hash(frozenset(departments)))
    except (TypeError, ValueError):  # not JSON at all: let the checks say so
        return _problems(document, departments)
    if key not in memo:
        memo[key] = _problems(document, departments)
    return list(memo[key])


def _problems(document, departments: set[str]) -> list[ThemeProblem]:
    if not isinstance(document, dict):
        return [ThemeProblem("", "主题文档应为 JSON 对象")]
    try:
        return validate_theme(document, departments)
    except Exception as error:  # a fault of the checks must cost this theme, not every theme
        log.exception("checking theme %r failed", document.get("key"))
        return [ThemeProblem("", f"检查主题时出错：{error!r}")]


def themes(platform, session: Session | None = None) -> list[Theme]:
    """The usable themes of the enabled plugins, by key."""
    return sorted(registry(platform, session).themes.values(), key=lambda theme: theme.key)


def get_theme(platform, key: str, session: Session | None = None) -> Theme:
    """One usable theme; UnknownTheme when there is none (or its plugin is disabled)."""
    return registry(platform, session).get(key)
