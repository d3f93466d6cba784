"""Publishing a draft as the theme's next version, live at once in every process."""
from __future__ import annotations

from sqlalchemy.orm import Session

from minqing.core import counters
from minqing.core.actors import Actor
from minqing.core.changes import record_change
from minqing.core.models import ThemeVersion, utcnow

from ..document import content_hash
from ..registry import THEMES_COUNTER
from ..versions import NotPublished, Published, theme_version
from .checks import BUILDER_PLUGIN, publish_problems, theme_problems
from .drafts import get_draft
from .errors import AuthoringError, DraftInvalid


class NothingToPublish(AuthoringError):
    def __init__(self, key: str, version: int):
        super().__init__(f"业务主题“{key}”的草稿与已发布的第 {version} 版相同，无需发布")
        self.key, self.version = key, version


def publish_draft(platform, session: Session, actor: Actor, key: str) -> Published:
    """Publish the draft of theme `key` as its next `ThemeVersion` (published_by the actor, now).

    Refuses, changing nothing, a draft with any problem (DraftInvalid with every problem), one identical to
    the newest version (NothingToPublish), or an actor who may not edit the department (NotAllowed). Records
    ``theme.publish`` and bumps the themes counter in the caller's transaction: once it commits, the map, the
    forms and the workflow of the theme change in every web process, with no restart.
    """
    draft = get_draft(session, actor, key)
    document = draft.document
    problems = theme_problems(platform, session, document, key=key, department=draft.department_key)
    if not problems:
        problems = publish_problems(platform, session, key, document)
    if problems:
        raise DraftInvalid(key, problems)
    digest = content_hash(document)
    try:
        latest = theme_version(session, key)
    except NotPublished:
        latest = None
    if latest is not None and latest.content_hash == digest:
        raise NothingToPublish(key, latest.version)
    number = (latest.version if latest else 0) + 1
    session.add(ThemeVersion(theme_key=key, version=number, document=document, content_hash=digest,
                             department_key=draft.department_key, plugin_name=BUILDER_PLUGIN,
                             published_at=utcnow(), published_by=actor.name))
    draft.based_on_version = number
    record_change(session, actor, "theme.publish", object_type="theme", object_id=key,
                  summary=f"发布业务主题“{document['title']}”第 {number} 版",
                  details={"version": number, "plugin": BUILDER_PLUGIN, "revision": draft.revision,
                           "content_hash": digest})
    counters.bump(session, THEMES_COUNTER)
    session.flush()
    return Published(key, number, BUILDER_PLUGIN)
