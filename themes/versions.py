"""Published theme versions and the records filled in under them.

`sync_themes` publishes a new `ThemeVersion` whenever a plugin's document changed (by content hash); old
versions stay, so a record keeps the version it was filled in and `record_schema` answers that version's form.
"""
from __future__ import annotations

import dataclasses

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from minqing import forms
from minqing.core import counters
from minqing.core.actors import Actor
from minqing.core.changes import record_change
from minqing.core.models import ThemeRecord, ThemeVersion, utcnow

from .registry import THEMES_COUNTER, registry


class NotPublished(LookupError):
    def __init__(self, key: str):
        super().__init__(f"业务主题“{key}”尚未发布版本（先运行 minqing themes sync）")
        self.key = key


class RecordInvalid(ValueError):
    """Form data that its theme's form (or a plugin's `validate_submission`) refuses."""

    def __init__(self, theme_key: str, errors: list[tuple[str, str]]):
        self.theme_key, self.errors = theme_key, errors
        super().__init__(f"业务主题“{theme_key}”的记录有误：" + "；".join(
            f"{path}：{message}" if path else message for path, message in errors[:5]))


@dataclasses.dataclass(frozen=True)
class Published:
    key: str
    version: int
    plugin: str


def latest_versions(session: Session) -> dict[str, ThemeVersion]:
    """The newest published version of every theme key."""
    newest = (select(ThemeVersion.theme_key, func.max(ThemeVersion.version).label("version"))
              .group_by(ThemeVersion.theme_key).subquery())
    rows = session.scalars(select(ThemeVersion).join(
        newest, (ThemeVersion.theme_key == newest.c.theme_key) & (ThemeVersion.version == newest.c.version)))
    return {row.theme_key: row for row in rows}


def sync_themes(platform, session: Session, actor: Actor) -> list[Published]:
    """Publish a new version of every enabled theme whose document changed since its newest version."""
    latest = latest_versions(session)
    published = []
    for theme in sorted(registry(platform, session, fresh=True).themes.values(), key=lambda theme: theme.key):
        current = latest.get(theme.key)
        if current is not None and current.content_hash == theme.content_hash:
            continue
        number = (current.version if current else 0) + 1
        session.add(ThemeVersion(theme_key=theme.key, version=number, document=theme.document,
                                 content_hash=theme.content_hash, department_key=theme.department,
                                 plugin_name=theme.plugin, published_at=utcnow(), published_by=actor.name))
        record_change(session, actor, "theme.publish", object_type="theme", object_id=theme.key,
                      summary=f"发布业务主题“{theme.title}”第 {number} 版",
                      details={"version": number, "plugin": theme.plugin, "source": theme.source,
                               "content_hash": theme.content_hash})
        published.append(Published(theme.key, number, theme.plugin))
    if published:
        counters.bump(session, THEMES_COUNTER)
        session.flush()
    return published


def theme_version(session: Session, key: str, version: int | None = None) -> ThemeVersion:
    """One published version of a theme (the newest when `version` is None)."""
    statement = select(ThemeVersion).where(ThemeVersion.theme_key == key)
    statement = (statement.where(ThemeVersion.version == version) if version is not None
                 else statement.order_by(ThemeVersion.version.desc()).limit(1))
    found = session.scalar(statement)
    if found is None:
        raise NotPublished(key)
    return found


class UnknownFormVersion(LookupError):
    """A submission names a version of a theme's forms that was never published."""

    def __init__(self, key: str, version):
        super().__init__(f"表单版本：业务主题“{key}”没有第 {version} 版，请重新打开表单填写")
        self.key, self.version = key, version


def form_version(session: Session, theme) -> int | None:
    """The published version whose document is the theme's current one (what a page shows now, for a form to
    name when it is submitted later), None when the current document was never published."""
    return session.scalar(select(func.max(ThemeVersion.version)).where(
        ThemeVersion.theme_key == theme.key, ThemeVersion.content_hash == theme.content_hash))


def theme_at(session: Session, theme, version: int | None):
    """The theme as published in `version`: its forms and rules as they were when a submission was filled in (a
    phone offline may send it after a newer version came out). The theme itself for None or its current version;
    UnknownFormVersion for a version never published."""
    if version is None:
        return theme
    published = session.scalar(select(ThemeVersion).where(ThemeVersion.theme_key == theme.key,
                                                           ThemeVersion.version == version))
    if published is None:
        raise UnknownFormVersion(theme.key, version)
    if published.content_hash == theme.content_hash:
        return theme
    return dataclasses.replace(theme, document=published.document, content_hash=published.content_hash)


def record_schema(session: Session, record: ThemeRecord, form: str = "record") -> dict | None:
    """The schema of `form` in the theme version the record was filled in under (not the newest one)."""
    return theme_version(session, record.theme_key, record.theme_version).document["forms"].get(form)


def check_data(platform, session: Session, theme_key: str, schema: dict | None, data: dict,
               form: str = "record") -> list[tuple[str, str]]:
    """(path, message) for every fault of `data` against `schema` and the plugins' `validate_submission`."""
    errors = [(error.path, error.message) for error in forms.validate(schema, data)] if schema else []
    if not errors:
        for _, problems in platform.plugins.call("validate_submission", theme_key=theme_key, form_key=form,
                                                 document=data, session=session):
            errors.extend((str(path), str(message)) for path, message in problems or ())
    return errors


def validate_record(platform, session: Session, record: ThemeRecord) -> list[tuple[str, str]]:
    """Check a record's data against the version it was filled in under (not the theme's newest)."""
    return check_data(platform, session, record.theme_key, record_schema(session, record), record.form_data)


def schema_version(key: str, version: int) -> str:
    return f"{key}@{version}"


def add_record(platform, session: Session, actor: Actor, theme_key: str, data: dict, *,
               lon: float | None = None, lat: float | None = None, geometry: dict | None = None,
               client_id: str | None = None) -> ThemeRecord:
    """Put an object on a theme's layer: kept for compatibility, the service is `themes.records.create`."""
    from .records import create   # records imports this module

    return create(platform, session, actor, theme_key, data, lon=lon, lat=lat, geometry=geometry,
                  client_id=client_id)
