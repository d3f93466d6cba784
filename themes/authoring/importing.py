"""Bringing a theme in from a file and out again: theme JSON documents and XLSForm spreadsheets.

JSON export and import are exact: ``export_json`` writes the document as it is live, and importing that text
under the same key gives back the same document (nothing is added, dropped or reordered). An XLSForm becomes
one form of a theme (the template's main form unless `form` says which); what the converter cannot carry
over is answered, field by field, and the rest still imports.
"""
from __future__ import annotations

import copy
import json
import re
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from minqing.core.actors import Actor
from minqing.core.models import ThemeDraft

from ..document import FORM_NAMES, ThemeProblem
from ..registry import registry
from .drafts import get_draft, rekeyed, save_draft, start_draft
from .errors import AuthoringError, DraftInvalid, ImportFailed, UnknownDraft
from .templates import TEMPLATES


def load_document(source) -> dict:
    """A theme document from a path, bytes or text; ImportFailed (in Chinese) when it is not a JSON object."""
    try:
        if isinstance(source, (str, Path)) and not str(source).lstrip().startswith("{"):
            text = Path(source).read_text("utf-8-sig")
        else:
            text = source.decode("utf-8-sig") if isinstance(source, bytes) else str(source)
    except (OSError, UnicodeDecodeError) as error:
        raise ImportFailed(f"无法读取文件：{error}") from error
    try:
        document = json.loads(text)
    except json.JSONDecodeError as error:
        raise ImportFailed(f"不是有效的 JSON（第 {error.lineno} 行第 {error.colno} 列）：{error.msg}") from error
    if not isinstance(document, dict):
        raise ImportFailed("主题文件应为一个 JSON 对象")
    return document


def _default_slug(document: dict, department: str) -> str:
    key = document.get("key")
    if not isinstance(key, str) or "." not in key:
        raise DraftInvalid(None, [ThemeProblem("/key", "文件中没有有效的主题键，请指定主题标识（--key）")], what="不能导入")
    owner = document.get("department")
    return key[len(owner) + 1:] if isinstance(owner, str) and key.startswith(owner + ".") else key.split(".", 1)[1]


def import_json(platform, session: Session, actor: Actor, source, *, department: str, slug: str | None = None,
                title: str | None = None, replace: bool = False) -> ThemeDraft:
    """A draft from a theme JSON file (path, bytes or text) for `department`, under ``<department>.<slug>``
    (the file's own slug when none is given). With `replace`, a builder theme of that key that already exists
    gets the document as a new draft revision instead of refusing the key."""
    document = load_document(source)
    slug = slug or _default_slug(document, department)
    key = f"{department}.{slug}"
    existing = _existing(session, actor, key) if replace else None
    if existing is None:
        return start_draft(platform, session, actor, department=department, slug=slug, title=title,
                           document=document)
    body = rekeyed(document, department, key, title)
    return save_draft(platform, session, actor, key, body, revision=existing.revision).draft


def _existing(session: Session, actor: Actor, key: str) -> ThemeDraft | None:
    try:
        return get_draft(session, actor, key)
    except UnknownDraft:
        return None


def _xlsform():
    try:
        from minqing.forms import xlsform
    except ImportError as error:  # the converter ships with the forms engine; say so instead of a traceback
        raise ImportFailed(f"XLSForm 转换不可用：{error}") from error
    return xlsform


def _slugify(text: str) -> str:
    slug = re.sub(r"[^a-z0-9_]+", "_", (text or "").lower()).strip("_")
    return slug[:40] or "xlsform"


def import_xlsform(platform, session: Session, actor: Actor, source, *, department: str, slug: str | None = None,
                   title: str | None = None, template: str = "event_report", form: str | None = None,
                   replace: bool = False, allow_empty: bool = False) -> tuple[ThemeDraft, list]:
    """A draft from an XLSForm spreadsheet: the converted form becomes form `form` (default: the template's
    main one — ``report`` for 事件上报, ``record`` for 对象登记, ``visit`` for 巡查检查 and 走访) of a theme
    started from `template`. Answers (draft, unconverted), the latter listing field by field what could not
    be carried over. With `replace`, an existing builder theme of that key gets the form in a new revision.
    A spreadsheet none of whose questions could be converted is refused unless `allow_empty`."""
    if template not in TEMPLATES:
        raise AuthoringError(f"没有名为“{template}”的主题模板，可选：{'、'.join(TEMPLATES)}")
    form = form or TEMPLATES[template].primary_form
    if form not in FORM_NAMES:
        raise AuthoringError(f"表单只能是 {'、'.join(FORM_NAMES)} 之一")
    converter = _xlsform()
    try:
        converted = converter.read_xlsform(source)
    except ValueError as error:  # XLSFormError and friends: the file is not a usable XLSForm
        raise ImportFailed(f"无法读取 XLSForm：{error}") from error
    if not converted.schema.get("properties") and not allow_empty:
        reasons = "；".join(item.message for item in converted.unconverted[:5])
        raise ImportFailed("XLSForm 中没有一道题能够转换，未导入" + (f"（{reasons}）" if reasons else "")
                           + "；确需导入空表单请加 --allow-empty")
    slug = slug or _slugify(converted.form_id)
    title = title or converted.title or slug
    key = f"{department}.{slug}"
    existing = _existing(session, actor, key) if replace else None
    if existing is not None:
        body = _with_form(existing.document, form, converted)
        return save_draft(platform, session, actor, key, body, revision=existing.revision).draft, \
            list(converted.unconverted)
    body = _with_form(TEMPLATES[template].document(department, key, title), form, converted)
    draft = start_draft(platform, session, actor, department=department, slug=slug, title=title, document=body,
                        started_from=f"xlsform:{template}")
    return draft, list(converted.unconverted)


def _with_form(document: dict, form: str, converted) -> dict:
    body = copy.deepcopy(document)
    body.setdefault("forms", {})[form] = converted.schema
    ui = body.setdefault("ui", {})
    if converted.ui:
        ui[form] = converted.ui
    else:
        ui.pop(form, None)
    return body


def theme_document(platform, session: Session, key: str) -> dict:
    """The document of theme `key` as it is live (any usable theme), else its builder draft."""
    theme = registry(platform, session).themes.get(key)
    if theme is not None:
        return copy.deepcopy(theme.document)
    draft = session.scalar(select(ThemeDraft).where(ThemeDraft.theme_key == key))
    if draft is None:
        raise AuthoringError(f"没有名为“{key}”的业务主题或草稿")
    return copy.deepcopy(draft.document)


def export_json(platform, session: Session, key: str) -> str:
    """Theme `key` as JSON text (UTF-8, indented, ending with a newline), importable again as it is."""
    return json.dumps(theme_document(platform, session, key), ensure_ascii=False, indent=2) + "\n"


def export_xlsform(platform, session: Session, key: str, form: str = "report",
                   language: str | None = None) -> tuple[bytes, list]:
    """Form `form` of theme `key` as an XLSForm spreadsheet (.xlsx bytes), and what could not be written. A form
    imported from an XLSForm keeps its form_id and label language; others get the theme's key and 中文."""
    document = theme_document(platform, session, key)
    schema = document.get("forms", {}).get(form)
    if schema is None:
        raise AuthoringError(f"业务主题“{key}”没有表单“{form}”")
    try:
        origin = schema.get("x-xlsform") or {}
        options = {"language": language} if language else {}
        written = _xlsform().export_xlsform(schema, document.get("ui", {}).get(form),
                                            title=schema.get("title") or document.get("title", key),
                                            form_id=origin.get("form_id") or key.replace(".", "_"), **options)
    except ValueError as error:  # XLSFormError: the form cannot be written at all
        raise AuthoringError(f"无法导出 XLSForm：{error}") from error
    return written.data, list(written.unconverted)
