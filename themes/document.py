"""The theme document: reading it, and every reason it cannot be used, located by a JSON pointer.

Two passes, as for forms: the meta-schema (`theme.schema.json`) catches missing and unknown keys and malformed
values; only a well-formed document gets the semantic checks (the key belongs to the department, every form
passes `minqing.forms.check_schema`, category codes are unique, an inline workflow passes the workflow
meta-schema and its own references, departments exist).
"""
from __future__ import annotations

import dataclasses
import functools
import hashlib
import json
from collections.abc import Iterable
from importlib import resources
from pathlib import Path

from jsonschema import Draft202012Validator

from minqing import forms
from minqing.workflows import definition as workflow_definition

from .citizen_form import citizen_field_problems

FORM_NAMES = ("record", "report", "visit")
DEFAULT_VISIBLE_TO = ("admin", "operator", "department_staff", "grid_worker", "leader")


@dataclasses.dataclass(frozen=True)
class ThemeProblem:
    """One reason a theme document cannot be used: where (JSON pointer) and why (Chinese)."""

    path: str
    message: str

    def __str__(self) -> str:
        return f"{self.path or '/'}：{self.message}"


class ThemeDocument(dict):
    """A theme document as a plugin or a file brought it; `source` names the file it was read from, if any."""

    def __init__(self, *args, source: str | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.source = source


class BrokenTheme(ThemeDocument):
    """What the loader hands on for a file it could not use, so the registry reports it with the others."""

    def __init__(self, source: str, problems: list[ThemeProblem], key: str | None = None):
        super().__init__(source=source)
        self.problems, self.key = problems, key


class ThemeError(ValueError):
    """A theme document (or file) that cannot be used."""

    def __init__(self, problems: list[ThemeProblem], *, key: str | None = None, source: str | None = None):
        self.problems, self.key, self.source = problems, key, source
        super().__init__(f"{describe(key, source)}无效：" + "；".join(str(p) for p in problems[:5]))


def describe(key: str | None, source: str | None = None, plugin: str | None = None) -> str:
    """“主题“x”（插件 p，文件 f）”: how messages name a theme."""
    where = [part for part in (plugin and f"插件 {plugin}", source and f"文件 {source}") if part]
    return (f"主题“{key}”" if key else "主题") + (f"（{'，'.join(where)}）" if where else "")


@functools.cache
def meta_schema() -> dict:
    return json.loads(resources.files("minqing.themes").joinpath("theme.schema.json").read_text("utf-8"))


@functools.cache
def _validator() -> Draft202012Validator:
    return Draft202012Validator(meta_schema())


def pointer(parts: Iterable) -> str:
    return "".join("/" + str(part).replace("~", "~0").replace("/", "~1") for part in parts)


def validate_theme(document, departments: Iterable[str] | None = None) -> list[ThemeProblem]:
    """Every problem of a theme document; [] when it can be used.

    With `departments` (the known department keys) the theme's department and its categories' departments
    must be among them.
    """
    problems = _meta_problems(document)
    if problems:
        return problems
    problems = _semantic_problems(document)
    if departments is not None:
        known = set(departments)
        if document["department"] not in known:
            problems.append(ThemeProblem("/department", f"未知的职能部门“{document['department']}”"))
        for index, category in enumerate(document.get("categories", ())):
            routed = category.get("department")
            if routed is not None and routed not in known:
                problems.append(ThemeProblem(f"/categories/{index}/department",
                                             f"分类“{category['code']}”分拨到未知的职能部门“{routed}”"))
    return problems


def _meta_problems(document) -> list[ThemeProblem]:
    return schema_problems(_validator(), document)


def schema_problems(validator: Draft202012Validator, document) -> list[ThemeProblem]:
    """A meta-schema's complaints about `document` as Chinese messages located by JSON pointer, each once (the
    assessment schemes' meta-schema uses it too: workflows/schemes.py)."""
    found: dict[tuple[str, str], ThemeProblem] = {}
    for error in validator.iter_errors(document):
        for problem in _from_error(error):
            found.setdefault((problem.path, problem.message), problem)
    return sorted(found.values(), key=lambda problem: problem.path)


def _from_error(error) -> list[ThemeProblem]:
    path = list(error.absolute_path)
    at = pointer(path)
    kind = error.validator
    if kind == "required":
        return [ThemeProblem(pointer([*path, name]), f"缺少必填项“{name}”")
                for name in error.validator_value if name not in error.instance]
    if kind == "additionalProperties":
        allowed = error.schema.get("properties", {})
        return [ThemeProblem(pointer([*path, name]), f"不支持的属性“{name}”")
                for name in error.instance if name not in allowed]
    if kind == "type":
        return [ThemeProblem(at, f"类型应为 {_type_name(error.validator_value)}")]
    if kind == "pattern":
        return [ThemeProblem(at, f"格式不正确：“{error.instance}”不符合 {error.validator_value}")]
    if kind == "enum":
        return [ThemeProblem(at, f"取值“{error.instance}”无效，应为 {'、'.join(map(str, error.validator_value))} 之一")]
    if kind == "minLength":
        return [ThemeProblem(at, "不能为空")]
    if kind == "maxLength":
        return [ThemeProblem(at, f"不能超过 {error.validator_value} 个字符")]
    if kind in ("minimum", "maximum"):
        bound = "不能小于" if kind == "minimum" else "不能大于"
        return [ThemeProblem(at, f"{bound} {error.validator_value}")]
    if kind in ("exclusiveMinimum", "exclusiveMaximum"):
        bound = "应大于" if kind == "exclusiveMinimum" else "应小于"
        return [ThemeProblem(at, f"{bound} {error.validator_value}")]
    if kind in ("minItems", "minProperties"):
        return [ThemeProblem(at, f"至少需要 {error.validator_value} 项")]
    if kind in ("maxItems", "maxProperties"):
        return [ThemeProblem(at, f"最多 {error.validator_value} 项")]
    if kind == "uniqueItems":
        return [ThemeProblem(at, "有重复的项")]
    if kind == "oneOf" and path and path[-1] == "workflow":
        return [ThemeProblem(at, "应为流程模板的键（如“standard”）或一个内嵌的流程文档")]
    return [ThemeProblem(at, f"取值无效（{kind}）：{error.message}")]


def _type_name(expected) -> str:
    names = {"object": "对象", "array": "数组", "string": "字符串", "integer": "整数", "number": "数字",
             "boolean": "布尔值"}
    values = expected if isinstance(expected, list) else [expected]
    return "或".join(names.get(value, value) for value in values)


def _semantic_problems(document: dict) -> list[ThemeProblem]:
    problems = []
    department, key = document["department"], document["key"]
    if not key.startswith(department + "."):
        problems.append(ThemeProblem("/key", f"主题键应以所属部门的键开头：“{department}.…”"))
    ui = document.get("ui", {})
    for name in FORM_NAMES:
        schema = document["forms"].get(name)
        if schema is None:
            if name in ui:
                problems.append(ThemeProblem(f"/ui/{name}", f"没有表单“{name}”，不能为它定义界面"))
            continue
        for problem in forms.check_schema(schema):
            problems.append(ThemeProblem(f"/forms/{name}{problem.pointer}", problem.message))
        if name in ui and not any(p.path.startswith(f"/forms/{name}") for p in problems):
            for problem in forms.check_schema(schema, ui[name]):
                base = "ui" if getattr(problem, "source", "schema") == "ui" else "forms"
                problems.append(ThemeProblem(f"/{base}/{name}{problem.pointer}", problem.message))
    seen: dict[str, int] = {}
    for index, category in enumerate(document.get("categories", ())):
        code = category["code"]
        if code in seen:
            problems.append(ThemeProblem(f"/categories/{index}/code",
                                         f"分类代码“{code}”重复（与第 {seen[code] + 1} 项相同）"))
        seen.setdefault(code, index)
    problems += [ThemeProblem(path, message) for path, message in citizen_field_problems(document)]
    return problems + workflow_problems(document.get("workflow"))


def workflow_problems(workflow) -> list[ThemeProblem]:
    """The problems of an inline workflow document, located under ``/workflow``; [] for a template key."""
    if not isinstance(workflow, dict):
        return []
    found: dict[tuple[str, str], ThemeProblem] = {}
    for error in Draft202012Validator(workflow_definition.meta_schema()).iter_errors(workflow):
        for problem in _from_error(error):
            found.setdefault((problem.path, problem.message), ThemeProblem("/workflow" + problem.path,
                                                                           problem.message))
    if found:
        return sorted(found.values(), key=lambda problem: problem.path)
    return [ThemeProblem("/workflow" + at, message)
            for at, message in workflow_definition.reference_problems(workflow)]


def load_theme_file(path) -> ThemeDocument:
    """Read and check one theme file; raises ThemeError naming the file and each problem's path."""
    path = Path(path)
    try:
        document = json.loads(path.read_text("utf-8"))
    except (OSError, UnicodeDecodeError) as error:
        raise ThemeError([ThemeProblem("", f"无法读取文件：{error}")], source=str(path)) from error
    except json.JSONDecodeError as error:
        raise ThemeError([ThemeProblem("", f"不是有效的 JSON（第 {error.lineno} 行第 {error.colno} 列）：{error.msg}")],
                         source=str(path)) from error
    key = document.get("key") if isinstance(document, dict) else None
    problems = validate_theme(document)
    if problems:
        raise ThemeError(problems, key=key if isinstance(key, str) else None, source=str(path))
    return ThemeDocument(document, source=str(path))


def content_hash(document: dict) -> str:
    """A digest of the document's content, the same whatever the key order or whitespace."""
    canonical = json.dumps(document, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def layer_of(document: dict) -> dict:
    """The layer settings with their defaults filled in."""
    layer = document["layer"]
    return {"geometry": layer["geometry"], "style": dict(layer.get("style", {})),
            "source": layer.get("source", "records"),
            "visible_to": list(layer.get("visible_to", DEFAULT_VISIBLE_TO))}
