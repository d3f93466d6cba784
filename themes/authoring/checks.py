"""Everything that keeps a draft from being published, each problem located by a JSON pointer.

The same checks as a theme file gets (`validate_theme`: meta-schema, forms, categories, inline workflow,
departments), plus what only the platform knows: the workflow template exists, the key is the draft's and not
a plugin's, and a new inline workflow keeps every state in which open cases of the theme still are.
"""
from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from minqing.core.models import Case, ThemeVersion
from minqing.workflows import definition
from minqing.workflows.errors import UnknownWorkflow, WorkflowError

from minqing import forms

from ..document import FORM_NAMES, ThemeProblem, validate_theme, workflow_problems
from ..inline_workflow import inline_workflow
from ..registry import department_keys, registry

BUILDER_PLUGIN = "theme_builder"


def key_owner(platform, session: Session, key: str) -> str | None:
    """Who else already uses theme key `key` (a plugin, a theme file, a published version of another
    plugin), in Chinese; None when the builder may use it."""
    found = registry(platform, session)
    theme = found.themes.get(key)
    if theme is not None and theme.plugin != BUILDER_PLUGIN:
        return f"插件 {theme.plugin} 的业务主题“{theme.title}”"
    if any(issue.key == key and issue.plugin != BUILDER_PLUGIN for issue in found.issues):
        return "一个插件（或主题文件）"
    plugin = session.scalar(select(ThemeVersion.plugin_name).where(
        ThemeVersion.theme_key == key, ThemeVersion.plugin_name != BUILDER_PLUGIN).limit(1))
    return f"插件 {plugin} 发布过的业务主题" if plugin else None


def theme_problems(platform, session: Session, document, *, key: str | None = None,
                   department: str | None = None) -> list[ThemeProblem]:
    """Every problem of `document` as a draft of theme `key` of `department`; [] when it can be published."""
    problems = validate_theme(document, department_keys(platform, session))
    if not isinstance(document, dict):
        return problems
    if problems:  # the meta-schema failed somewhere; still show the faults of the parts that can be checked
        problems += part_problems(document)
    if key is not None and document.get("key") != key:
        problems.append(ThemeProblem("/key", f"主题键不能修改，应为“{key}”（另起新键请复制主题）"))
    if department is not None and document.get("department") != department:
        problems.append(ThemeProblem("/department", f"所属部门不能修改，应为“{department}”"))
    workflow = document.get("workflow", "standard")
    if isinstance(workflow, str):
        try:
            definition.get(platform, workflow, session)
        except (UnknownWorkflow, WorkflowError):
            problems.append(ThemeProblem("/workflow", f"没有名为“{workflow}”的流程模板"))
    elif isinstance(workflow.get("states"), dict):
        problems += final_state_problems(platform, workflow["states"])
    return sorted(set(problems), key=lambda problem: problem.path)


def final_state_problems(platform, states: dict) -> list[ThemeProblem]:
    """Lists across workflows (open cases, the API, the sweep of supervisions) know a case is finished by the
    name of its state, taken from the registered workflows; a theme's own finished state must use one of them."""
    known = definition.final_states(platform)
    return [ThemeProblem(f"/workflow/states/{name}",
                         f"结束状态的标识须为 {'、'.join(sorted(known))} 之一（可修改其名称“{body.get('title', name)}”）")
            for name, body in states.items() if isinstance(body, dict) and body.get("final") and name not in known]


def part_problems(document: dict) -> list[ThemeProblem]:
    """The checks of the forms, the categories and an inline workflow, each on its own, so that an editor sees
    every error at once even while another part of the document is malformed."""
    problems = []
    forms_part = document.get("forms") if isinstance(document.get("forms"), dict) else {}
    ui_part = document.get("ui") if isinstance(document.get("ui"), dict) else {}
    for name in FORM_NAMES:
        schema = forms_part.get(name)
        if not isinstance(schema, dict):
            continue
        try:
            found = forms.check_schema(schema)
            if not found and isinstance(ui_part.get(name), dict):
                found = forms.check_schema(schema, ui_part[name])
        except Exception:  # a form too malformed for the checker: the meta-schema problems already say why
            continue
        problems += [ThemeProblem(f"/{'ui' if getattr(p, 'source', 'schema') == 'ui' else 'forms'}/{name}"
                                  f"{p.pointer}", p.message) for p in found]
    seen: dict = {}
    categories = document.get("categories") if isinstance(document.get("categories"), list) else []
    for index, category in enumerate(categories):
        code = category.get("code") if isinstance(category, dict) else None
        if isinstance(code, str) and code in seen:
            problems.append(ThemeProblem(f"/categories/{index}/code",
                                         f"分类代码“{code}”重复（与第 {seen[code] + 1} 项相同）"))
        seen.setdefault(code, index)
    return problems + workflow_problems(document.get("workflow"))


def publish_problems(platform, session: Session, key: str, document: dict) -> list[ThemeProblem]:
    """What only matters when publishing: the key is still the builder's, running cases keep their states."""
    problems = []
    owner = key_owner(platform, session, key)
    if owner:
        problems.append(ThemeProblem("/key", f"主题键“{key}”已被{owner}使用，不能发布；请复制为新主题"))
    workflow = document.get("workflow", "standard")
    if isinstance(workflow, dict):
        states = workflow.get("states", {})
        for status, count in open_case_states(platform, session, key):
            if status not in states:
                problems.append(ThemeProblem("/workflow/states",
                                             f"还有 {count} 件未办结的事件处于状态“{status}”，新流程不能删除该状态"))
    return problems


def open_case_states(platform, session: Session, key: str) -> list[tuple[str, int]]:
    """(status, count) of the theme's cases that run under its inline workflow and are not finished."""
    current = inline_workflow(platform, session, key) or {}
    finished = {name for name, state in current.get("states", {}).items() if state.get("final")}
    rows = session.execute(select(Case.status, func.count()).where(Case.workflow_key == key)
                           .group_by(Case.status)).all()
    return [(status, count) for status, count in rows if status not in finished]
