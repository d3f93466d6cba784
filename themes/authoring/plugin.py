"""The theme builder's plugin (``theme_builder``): brings the newest published version of every theme built in
the browser, like any plugin brings its themes, so the registry, the map, the forms and the workflow treat
them the same. Registered through the ``minqing.plugins`` entry point; disabling it removes those themes.

Key rule: the builder never takes a key another plugin (or theme file) provides — starting and publishing a
draft refuse it, and copying a theme makes a new key. Should a plugin installed later bring a key the builder
already published, the registry keeps the first by plugin name and lists the other under its issues
(``minqing themes check``), as for any two plugins.
"""
from __future__ import annotations

from sqlalchemy import func, select

from minqing.core.hooks import hookimpl
from minqing.core.models import ThemeVersion

from ..document import ThemeDocument
from .checks import BUILDER_PLUGIN

MINQING_TITLE = "主题搭建"  # what the admin page and `minqing plugins list` show
MINQING_DESCRIPTION = "部门在网页上搭建并发布的业务主题。"


@hookimpl
def register_themes(session):
    if session is None:  # the caller has no database at hand: nothing to read the themes from
        return []
    newest = (select(ThemeVersion.theme_key, func.max(ThemeVersion.version).label("version"))
              .where(ThemeVersion.plugin_name == BUILDER_PLUGIN).group_by(ThemeVersion.theme_key).subquery())
    rows = session.execute(select(ThemeVersion.document).join(
        newest, (ThemeVersion.theme_key == newest.c.theme_key) & (ThemeVersion.version == newest.c.version))
        .where(ThemeVersion.plugin_name == BUILDER_PLUGIN))
    return [ThemeDocument(document) for (document,) in rows]
