"""Helpers the work-end views share: loading a case in scope, uploads, titles of states and themes."""
from __future__ import annotations

from flask import abort
from sqlalchemy import select

from minqing import themes, workflows
from minqing.core import attachments, scope
from minqing.core.models import Case, Department

from ..context import db, platform, viewer

URGENCY_TITLES = {"normal": "一般", "urgent": "紧急", "critical": "特急"}


def case_in_scope(case_id: int) -> Case:
    """The case, if this viewer may see it; 404 otherwise (never say whether it exists elsewhere)."""
    case = db().scalar(scope.restrict(select(Case).where(Case.id == case_id), Case, viewer()))
    if case is None:
        abort(404)
    return case


def workflow_of(key: str) -> workflows.Workflow:
    """The workflow `key`, looked up within the request's session (the workflows memoise their lookups under the
    plugins counter, which the session reads once)."""
    return workflows.get_workflow(platform(), key, db())


def state_title(case: Case) -> str:
    try:
        workflow = workflow_of(case.workflow_key)
    except workflows.WorkflowError:
        return case.status
    state = workflow.states.get(case.status)
    return state.title if state else case.status


def theme_titles() -> dict[str, str]:
    return {theme.key: theme.title for theme in themes.themes(platform(), db())}


def department_names() -> dict[int, str]:
    return dict(db().execute(select(Department.id, Department.short_name)).all())


def my_pending_attachments(case_id: int | None = None) -> list[str]:
    """Ids of files this viewer uploaded that are not yet part of another case: a re-submitted form keeps them."""
    return attachments.pending(db(), viewer(), case_id)


def uploader(case_id: int | None = None, accept=None, max_bytes=None):
    """A store_upload callback for the forms engine: checks and keeps a file, returns its id."""
    def store(_path, file_storage) -> str:
        options = {}
        if max_bytes:
            options["max_bytes"] = max_bytes
        stored = attachments.store(db(), viewer(), file_storage.read(), file_storage.filename or "",
                                   accept=tuple(accept) if accept else None, case_id=case_id, **options)
        return stored.id
    return store
