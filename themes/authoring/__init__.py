"""The theme builder's core (低代码主题构建): department staff create and change their department's business
themes, and publishing makes them live at once in every process. The builder edits exactly the documents
the theme files hold (``themes/theme.schema.json``); web pages (``web/builder/``) and the command line
(``minqing themes import|export``) are thin layers over these functions. See docs/builder.md.

    from minqing.themes import authoring as builder

    builder.can_edit(actor, "gas")                                   # department staff: own department only
    builder.editable_departments(session, actor)                    # [Department, ...]
    draft = builder.start_draft(platform, session, actor, department="gas", slug="households",
                                title="燃气用户", template="register")       # or copy_of=KEY / document={...}
    saved = builder.save_draft(platform, session, actor, draft.theme_key, document, revision=draft.revision)
    saved.problems                                                   # [ThemeProblem(path, message), ...]
    builder.publish_draft(platform, session, actor, draft.theme_key)  # Published(key, version, plugin)
    builder.version_history(session, key)                            # [VersionInfo, ...], newest first
    builder.diff_versions(old_document, new_document).summary        # ["上报表单：新增字段“电话”", ...]
    builder.workflow_for_editing(document, platform)                 # the workflow as an inline document
    minqing.workflows.diagram.workflow_svg(workflow)                 # its diagram

Every function that reads or changes a draft checks `can_edit` first (NotAllowed otherwise). Changes are
recorded with `record_change` (``theme.draft_create``, ``theme.draft_save``, ``theme.publish``); the caller
commits.
"""
from .checks import BUILDER_PLUGIN, key_owner, theme_problems
from .diff import Change, FieldChange, ThemeDiff, diff_versions, flatten
from .drafts import DraftSaved, draft_problems, get_draft, list_drafts, save_draft, start_draft, theme_key
from .errors import AuthoringError, DraftConflict, DraftInvalid, ImportFailed, KeyTaken, NotAllowed, UnknownDraft
from .history import VersionInfo, version_history
from .importing import export_json, export_xlsform, import_json, import_xlsform, load_document, theme_document
from .permissions import can_build, can_edit, editable_departments, require_edit
from .publishing import NothingToPublish, publish_draft
from .templates import BLANK_TEMPLATE, TEMPLATES, ThemeTemplate
from .workflow_edit import (ROLE_TITLES, URGENCY_TITLES, set_due, set_roles, set_time_limit, template_document,
                            with_workflow, workflow_for_editing, workflow_table)

__all__ = [
    "AuthoringError", "BLANK_TEMPLATE", "BUILDER_PLUGIN", "Change", "DraftConflict", "DraftInvalid", "DraftSaved",
    "FieldChange", "ImportFailed", "KeyTaken", "NotAllowed", "NothingToPublish", "ROLE_TITLES", "TEMPLATES",
    "ThemeDiff", "ThemeTemplate", "URGENCY_TITLES", "UnknownDraft", "VersionInfo", "can_build", "can_edit",
    "diff_versions", "draft_problems", "editable_departments", "export_json", "export_xlsform", "flatten",
    "get_draft", "import_json", "import_xlsform", "key_owner", "list_drafts", "load_document", "publish_draft",
    "require_edit", "save_draft", "set_due", "set_roles", "set_time_limit", "start_draft", "template_document",
    "theme_document", "theme_key", "theme_problems", "version_history", "with_workflow", "workflow_for_editing",
    "workflow_table",
]
