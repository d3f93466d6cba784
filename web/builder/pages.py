"""The builder's list of a department's themes, and 新建主题 (blank, template, copy, JSON file, XLSForm)."""
from __future__ import annotations

import re

from flask import flash, redirect, render_template, request, url_for
from sqlalchemy import select

from minqing import themes
from minqing.core.models import Department, ThemeDraft
from minqing.themes import authoring

from ..context import db, platform, viewer
from . import blueprint
from .common import builder_required
from .uploads import UploadRefused, read_upload

SLUG = re.compile(r"^[a-z][a-z0-9_]{0,39}$")
STARTS = ("blank", "template", "copy", "json", "xlsform")


def _editable() -> list[Department]:
    return authoring.editable_departments(db(), viewer())


def _copyable(departments: list[Department]) -> list[themes.Theme]:
    """Themes of plugins and files a viewer may start from: those of the departments they edit."""
    keys = {department.key for department in departments}
    return [theme for theme in themes.themes(platform(), db()) if theme.department in keys]


@blueprint.get("/")
@builder_required
def index():
    departments = _editable()
    keys = [department.key for department in departments]
    drafts = list(db().scalars(select(ThemeDraft).where(ThemeDraft.department_key.in_(keys))
                               .order_by(ThemeDraft.department_key, ThemeDraft.theme_key)))
    published = {key: version for key, version in themes.latest_versions(db()).items()
                 if version.department_key in keys}
    names = {department.key: department.short_name or department.name for department in departments}
    return render_template("builder/index.html", drafts=drafts, published=published, names=names,
                           copyable=_copyable(departments), drafted={draft.theme_key for draft in drafts})


@blueprint.route("/new", methods=["GET", "POST"])
@builder_required
def new():
    departments = _editable()
    values = {"department": departments[0].key if len(departments) == 1 else "", "start": "blank",
              "template": "", "copy_of": request.args.get("copy_of", ""), "slug": "", "title": ""}
    if values["copy_of"]:
        values["start"] = "copy"
    if request.method == "GET":
        return _new_page(departments, values, {})
    values.update({name: (request.form.get(name) or "").strip() for name in values})
    errors = _check_new(values, departments)
    if errors:
        return _new_page(departments, values, errors, 400)
    try:
        return _start(values)
    except (UploadRefused, authoring.ImportFailed) as error:
        db().rollback()
        return _new_page(departments, values, {"file": str(error)}, 400)
    except authoring.KeyTaken as error:
        db().rollback()
        return _new_page(departments, values, {"slug": str(error)}, 400)
    except authoring.DraftInvalid as error:
        db().rollback()
        return _new_page(departments, values, {"file": str(error)}, 400, problems=error.problems)
    except (authoring.AuthoringError, authoring.NotAllowed) as error:
        db().rollback()
        return _new_page(departments, values, {"form": str(error)}, 400)


def _any_theme() -> list[tuple[str, list[themes.Theme]]]:
    """Every theme on the platform, the built-in ones too, by department name: "copy from" may start from any
    (docs/builder.md); the copy is made under the viewer's own department."""
    names = dict(db().execute(select(Department.key, Department.name)).all())
    grouped: dict[str, list[themes.Theme]] = {}
    for theme in themes.themes(platform(), db()):
        grouped.setdefault(names.get(theme.department) or "其他", []).append(theme)
    return sorted((name, sorted(found, key=lambda theme: theme.title)) for name, found in grouped.items())


def _new_page(departments, values, errors, status=200, problems=()):
    return render_template("builder/new.html", departments=departments, values=values, errors=errors,
                           templates=authoring.TEMPLATES, copyable=_any_theme(),
                           problems=problems), status


def _check_new(values: dict, departments: list[Department]) -> dict[str, str]:
    errors = {}
    if values["department"] not in {department.key for department in departments}:
        errors["department"] = "请选择本部门"
    if values["start"] not in STARTS:
        errors["start"] = "请选择从哪里开始"
    if values["start"] == "template" and values["template"] not in authoring.TEMPLATES:
        errors["template"] = "请选择一个模板"
    if values["start"] == "copy" and not values["copy_of"]:
        errors["copy_of"] = "请选择要复制的主题"
    if values["start"] != "xlsform":  # an XLSForm's settings sheet may give the title and the identifier
        if not values["title"]:
            errors["title"] = "请填写主题名称"
        if not SLUG.match(values["slug"]):
            errors["slug"] = "标识只能用小写英文字母、数字和下划线，以字母开头，最多40个字符"
    elif values["slug"] and not SLUG.match(values["slug"]):
        errors["slug"] = "标识只能用小写英文字母、数字和下划线，以字母开头，最多40个字符"
    if len(values["title"]) > 100:
        errors["title"] = "主题名称最多100个字"
    return errors


def _start(values: dict):
    common = {"department": values["department"], "slug": values["slug"] or None, "title": values["title"] or None}
    start = values["start"]
    if start == "xlsform":
        source = read_upload(request.files.get("file"), "xlsform")
        draft, unconverted = authoring.import_xlsform(platform(), db(), viewer(), source, **common)
        db().commit()
        return render_template("builder/imported.html", draft=draft, unconverted=unconverted)
    options = {}
    if start == "template":
        options["template"] = values["template"]
    elif start == "copy":
        options["copy_of"] = values["copy_of"]
    elif start == "json":
        try:
            options["document"] = authoring.load_document(read_upload(request.files.get("file"), "json"))
        except authoring.ImportFailed as error:
            raise UploadRefused(str(error)) from None
    draft = authoring.start_draft(platform(), db(), viewer(), department=values["department"],
                                  slug=values["slug"], title=values["title"], **options)
    db().commit()
    flash("已创建草稿。编辑后保存，检查通过即可发布。", "info")
    return redirect(url_for("builder.edit", key=draft.theme_key))
