"""Starting, reading and saving drafts. A draft may be saved while still invalid (work in progress): the
save answers the problems, each located by JSON pointer, so a page shows every error next to its field."""
from __future__ import annotations

import copy
import dataclasses
import re

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from minqing.core.actors import Actor
from minqing.core.changes import record_change
from minqing.core.models import Role, ThemeDraft, utcnow

from ..document import ThemeProblem
from ..registry import UnknownTheme, department_keys, registry
from .checks import key_owner, theme_problems
from .errors import AuthoringError, DraftConflict, DraftInvalid, KeyTaken, NotAllowed, UnknownDraft
from .permissions import can_build, own_departments, require_edit
from .templates import BLANK_TEMPLATE, TEMPLATES

SLUG = re.compile(r"^[a-z0-9_]+(\.[a-z0-9_]+)*$")


@dataclasses.dataclass(frozen=True)
class DraftSaved:
    """A stored draft and what still keeps it from being published ([] when it can be)."""

    draft: ThemeDraft
    problems: list[ThemeProblem]

    @property
    def publishable(self) -> bool:
        return not self.problems


def theme_key(department: str, slug: str) -> str:
    """The key of the theme `slug` of `department`; raises DraftInvalid for a slug that cannot be one."""
    if not isinstance(slug, str) or not SLUG.match(slug):
        raise DraftInvalid(None, [ThemeProblem("/key", "主题标识只能由小写英文字母、数字、下划线（和中间的点）组成")],
                           what="不能创建")
    key = f"{department}.{slug}"
    if len(key) > 80:
        raise DraftInvalid(None, [ThemeProblem("/key", "主题键（部门键.标识）不能超过 80 个字符")], what="不能创建")
    return key


def get_draft(session: Session, actor: Actor, key: str) -> ThemeDraft:
    """The draft of theme `key`, for an actor who may edit its department (else NotAllowed)."""
    draft = session.scalar(select(ThemeDraft).where(ThemeDraft.theme_key == key))
    if draft is None:
        raise UnknownDraft(key)
    require_edit(actor, draft.department_key)
    return draft


def list_drafts(session: Session, actor: Actor, department: str | None = None) -> list[ThemeDraft]:
    """The drafts the actor may edit (of one department, if given), by key."""
    statement = select(ThemeDraft).order_by(ThemeDraft.theme_key)
    if department is not None:
        require_edit(actor, department)
        statement = statement.where(ThemeDraft.department_key == department)
    elif not actor.has_role(Role.ADMIN):
        if not can_build(actor):
            raise NotAllowed("只有职能部门工作人员和系统管理员可以编辑业务主题")
        statement = statement.where(ThemeDraft.department_key.in_(sorted(own_departments(actor))))
    return list(session.scalars(statement))


def start_draft(platform, session: Session, actor: Actor, *, department: str, slug: str,
                title: str | None = None, template: str | None = None, copy_of: str | None = None,
                document: dict | None = None, started_from: str | None = None) -> ThemeDraft:
    """A new draft of theme ``<department>.<slug>``: blank, from one of `TEMPLATES`, a copy of any usable theme
    (`copy_of`, a theme key: builtin file themes too), or a given `document` (an imported JSON file).

    `title` is required for a blank or template start; a copy or a document keeps its own title unless one
    is given. Raises NotAllowed, KeyTaken (the key is another draft's or a plugin's), DraftInvalid (bad slug,
    unknown department) or AuthoringError (unknown template or theme, several starting points).
    """
    require_edit(actor, department)
    key = theme_key(department, slug)
    if department not in department_keys(platform, session):
        raise DraftInvalid(None, [ThemeProblem("/department", f"未知的职能部门“{department}”")], what="不能创建")
    if sum(value is not None for value in (template, copy_of, document)) > 1:
        raise AuthoringError("只能选择一种起点：模板、复制已有主题或导入文件")
    body, origin = _starting_document(platform, session, department, key, title, template, copy_of, document)
    ensure_free(platform, session, key)
    draft = ThemeDraft(theme_key=key, department_key=department, document=body, revision=1,
                       based_on_version=None, started_from=(started_from or origin)[:200],
                       created_by=actor.name, created_by_account_id=actor.account_id, created_at=utcnow(),
                       updated_by=actor.name, updated_by_account_id=actor.account_id, updated_at=utcnow())
    session.add(draft)
    session.flush()
    record_change(session, actor, "theme.draft_create", object_type="theme", object_id=key,
                  summary=f"新建业务主题“{body.get('title', key)}”的草稿", details={"started_from": draft.started_from})
    return draft


def ensure_free(platform, session: Session, key: str) -> None:
    """Raise KeyTaken when another draft or a plugin (theme file) already uses theme key `key`."""
    if session.scalar(select(ThemeDraft.id).where(ThemeDraft.theme_key == key)) is not None:
        raise KeyTaken(key, "另一个草稿")
    owner = key_owner(platform, session, key)
    if owner:
        raise KeyTaken(key, owner)


def _starting_document(platform, session, department, key, title, template, copy_of, document):
    if copy_of is not None:
        try:
            source = registry(platform, session).get(copy_of)
        except UnknownTheme as error:
            raise AuthoringError(str(error)) from None
        return rekeyed(source.document, department, key, title), f"copy:{copy_of}"
    if document is not None:
        if not isinstance(document, dict):
            raise DraftInvalid(None, [ThemeProblem("", "主题文档应为 JSON 对象")], what="不能导入")
        return rekeyed(document, department, key, title), "import:json"
    chosen = BLANK_TEMPLATE if template is None else TEMPLATES.get(template)
    if chosen is None:
        raise AuthoringError(f"没有名为“{template}”的主题模板，可选：{'、'.join(TEMPLATES)}")
    if not title or not str(title).strip():
        raise DraftInvalid(None, [ThemeProblem("/title", "请填写主题名称")], what="不能创建")
    return chosen.document(department, key, str(title).strip()), f"template:{chosen.key}"


def rekeyed(document: dict, department: str, key: str, title: str | None) -> dict:
    """A deep copy under the new key and department; keys are only set when they change, so an exported
    document imported under its own key comes back identical."""
    body = copy.deepcopy(dict(document))
    for name, value in (("key", key), ("department", department), ("title", title)):
        if value is not None and body.get(name) != value:
            body[name] = value
    return body


def save_draft(platform, session: Session, actor: Actor, key: str, document, *, revision: int) -> DraftSaved:
    """Store `document` as the draft of theme `key`, made from draft revision `revision`.

    Saved even when invalid; the answer lists the problems. Raises DraftConflict (in Chinese) when the stored
    draft has moved past `revision` since the actor opened it, NotAllowed, UnknownDraft, or AuthoringError when
    `document` is not a JSON object at all. Recorded as ``theme.draft_save``.
    """
    draft = get_draft(session, actor, key)
    if not isinstance(document, dict):
        raise AuthoringError("主题文档应为 JSON 对象")
    if draft.revision != revision:
        raise DraftConflict(key, revision, draft.revision, draft.updated_by)
    now = utcnow()
    done = session.execute(
        update(ThemeDraft).where(ThemeDraft.id == draft.id, ThemeDraft.revision == revision)
        .values(document=copy.deepcopy(document), revision=revision + 1, updated_by=actor.name,
                updated_by_account_id=actor.account_id, updated_at=now),
        execution_options={"synchronize_session": False}).rowcount
    session.refresh(draft)
    if not done:  # another save of the same revision committed between our read and our write
        raise DraftConflict(key, revision, draft.revision, draft.updated_by)
    problems = theme_problems(platform, session, draft.document, key=key, department=draft.department_key)
    record_change(session, actor, "theme.draft_save", object_type="theme", object_id=key,
                  summary=f"保存业务主题“{draft.document.get('title', key)}”的草稿（第 {draft.revision} 稿）",
                  details={"revision": draft.revision, "problems": len(problems)})
    return DraftSaved(draft, problems)


def draft_problems(platform, session: Session, draft: ThemeDraft) -> list[ThemeProblem]:
    """What keeps a stored draft from being published now ([] when nothing does)."""
    return theme_problems(platform, session, draft.document, key=draft.theme_key, department=draft.department_key)
