"""台账: department staff keep their themes' records in the web — a list (paged, searched by a field, masked by
role, retired records behind a toggle), adding, editing and retiring a record through the theme's record form with
photos and a map to draw it on (Leaflet-Geoman, vendored), and each record's history (who, when, old → new).

The rules are `minqing.themes.records`' (who may write, scope, the form, optimistic versions); these views only
read the request, call the service and shape the page. Values of a record are shown masked for the viewer
(`core.privacy.masking`); the edit form is filled with the masked values, and a masked value sent back unchanged
keeps what is stored, so editing never needs (or reveals) the plain value.
"""
from __future__ import annotations

import json
import math
import re
import uuid

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_wtf.csrf import generate_csrf
from markupsafe import Markup
from sqlalchemy import Text, cast, exists, func, or_, select
from werkzeug.datastructures import CombinedMultiDict

from minqing import forms, themes
from minqing.core import attachments, city
from minqing.core.actors import Actor
from minqing.core.models import Attachment, Department, Role, ThemeRecord, ThemeVersion
from minqing.core.models.themes import ThemeRecordChange
from minqing.core.privacy import masking
from minqing.forms.builder import find_field, iter_fields
from minqing.themes import layers as theme_layers, records
from minqing.forms import attachment_refs

from . import report_map
from .api.present import masked_document
from .context import db, platform, viewer
from .permissions import roles_required
from .security import allow_images_from
from .work.attachments import send
from .work.common import my_pending_attachments, uploader
from .work.report import unknown_inputs

blueprint = Blueprint("ledgers", __name__, url_prefix="/ledgers")

READ_ROLES = ("admin", "operator", "department_staff", "grid_worker", "leader")
WRITE_ROLES = tuple(records.WRITE_ROLES)
PER_PAGE = 20
MAX_SEARCH = 40
LONG_DIGITS = re.compile(r"\d{4,}")   # a search may not probe the hidden digits of phones and ID numbers
DIGIT = re.compile(r"\d")
PERSONAL_FORMATS = ("cn-mobile", "cn-id", "email")
ACTIONS = {"create": "新增", "update": "修改", "retire": "退出台账"}
OTHER_CHANGES = {"geometry": "位置", "retired_at": "退出时间", "reason": "退出原因", "theme_version": "表单版本"}
GEOMETRY_NAMES = {"point": "点", "line": "线", "polygon": "面"}
LOCATION = {"type": "object", "format": "geo-point", "title": "位置",
            "description": "在地图上点选或拖动标记，也可直接填写经纬度（WGS84）"}


# -- themes the viewer keeps ----------------------------------------------------------------------------------------

def _departments(me: Actor) -> set[str] | None:
    """The departments whose ledgers a department's staff keep; None: not limited to departments."""
    if me.has_role(Role.ADMIN, Role.OPERATOR, Role.GRID_WORKER, Role.LEADER):
        return None
    return {grant.department_key for grant in me.grants_of(Role.DEPARTMENT_STAFF) if grant.department_key}


def ledger_themes(me: Actor) -> list[themes.Theme]:
    """The enabled themes with a record form whose ledger `me` may open, by department then title."""
    mine = _departments(me)
    found = [theme for theme in themes.themes(platform(), db())
             if theme.form("record") is not None and theme_layers.may_see(theme, me)
             and (mine is None or theme.department in mine)]
    return sorted(found, key=lambda theme: (theme.department, theme.title))


def _theme(key: str) -> themes.Theme:
    """The theme of a ledger page: 404 when unknown or without a record form, 403 when not the viewer's."""
    me = viewer()
    try:
        theme = themes.get_theme(platform(), key, db())
    except themes.UnknownTheme:
        abort(404)
    if theme.form("record") is None:
        abort(404)
    mine = _departments(me)
    if not theme_layers.may_see(theme, me) or (mine is not None and theme.department not in mine):
        abort(403)
    return theme


def _record(theme: themes.Theme, record_id: int) -> ThemeRecord:
    try:
        return records.get_record(db(), viewer(), record_id, theme.key)
    except records.RecordNotFound:
        abort(404)


def may_write() -> bool:
    return viewer().has_role(*WRITE_ROLES)


# -- reading -------------------------------------------------------------------------------------------------------

def record_form(theme: themes.Theme) -> tuple[dict, dict | None, int]:
    """(the record form, its UI, the version) of the theme's newest published version: what the service checks."""
    version = themes.theme_version(db(), theme.key)
    document = version.document
    return document["forms"]["record"], (document.get("ui") or {}).get("record"), version.version


def searchable_fields(theme: themes.Theme) -> list[tuple[str, str]]:
    """(key, title) of the record form's top-level text and choice fields; never personal numbers."""
    form = theme.form("record") or {}
    return [(key, spec.get("title") or key) for key, spec in (form.get("properties") or {}).items()
            if isinstance(spec, dict) and spec.get("type") == "string" and spec.get("format") not in
            (*PERSONAL_FORMATS, "attachment", "date", "date-time")]


def title_of(record: ThemeRecord, theme: themes.Theme) -> str:
    """The record's one title (`themes.layers.record_title`: its label, masked for the viewer)."""
    return themes.layers.record_title(viewer(), record, theme.form("record"))


def shown_fields(record: ThemeRecord) -> list[dict]:
    """The record's values as the viewer may read them, photos as links."""
    schema = themes.record_schema(db(), record) or {}
    rows = []
    for row in forms.display(schema, masked_document(viewer(), record.form_data or {})):
        if row.kind == "attachment":
            ids = [item for item in row.value.split("、") if item]
            rows.append({"label": row.label, "files": [file_url(record, item) for item in ids]})
        else:
            rows.append({"label": row.label, "value": row.value})
    return rows


def file_url(record: ThemeRecord, attachment_id: str) -> str:
    return url_for("ledgers.record_file", key=record.theme_key, record_id=record.id, attachment_id=attachment_id)


@blueprint.get("")
@roles_required(*READ_ROLES)
def index():
    found = ledger_themes(viewer())
    names = dict(db().execute(select(Department.key, Department.short_name)).all())
    counts = {}
    if found:
        mine = records.records_query(viewer()).where(
            ThemeRecord.theme_key.in_([theme.key for theme in found])).subquery()
        counts = dict(db().execute(select(mine.c.theme_key, func.count()).group_by(mine.c.theme_key)).all())
    return render_template("ledgers/index.html", themes=found, names=names, counts=counts,
                           geometry_names=GEOMETRY_NAMES, may_write=may_write())


def _search(theme: themes.Theme):
    """(field key, text, error) of the list's search."""
    field = (request.args.get("field") or "").strip()
    text = " ".join((request.args.get("q") or "").split())[:MAX_SEARCH]
    if not text:
        return field, "", ""
    if field not in dict(searchable_fields(theme)):
        return field, text, "请选择要搜索的字段"
    if LONG_DIGITS.search(text):
        return field, text, "搜索内容中连续数字不能超过 3 位（电话、身份证号等个人信息不能用于搜索）"
    if DIGIT.search(text) and not sees_numbers(viewer()):
        return field, text, "搜索内容不能含数字（对您遮蔽的电话、门牌号等不能用于搜索）"
    return field, text, ""


def sees_numbers(me: Actor) -> bool:
    """Whether the viewer sees phone and house numbers unmasked. Otherwise a search with a digit in it is refused
    (as the inbox's search keeps digits away from masked text): which records match "12号" would tell them the
    masked digits."""
    return masking.may_see(me, masking.PHONE) and masking.may_see(me, masking.ADDRESS)


@blueprint.get("/<key>")
@roles_required(*READ_ROLES)
def records_list(key: str):
    theme = _theme(key)
    retired = request.args.get("retired") == "1"
    page = max(request.args.get("page", 1, type=int) or 1, 1)
    field, text, problem = _search(theme)
    statement = records.records_query(viewer(), theme.key, include_retired=retired)
    if text and not problem:
        statement = statement.where(ThemeRecord.form_data[field].as_string().contains(text, autoescape=True))
    total = db().scalar(select(func.count()).select_from(statement.order_by(None).subquery())) or 0
    rows = db().scalars(statement.order_by(ThemeRecord.id.desc()).offset((page - 1) * PER_PAGE)
                        .limit(PER_PAGE)).all()
    pages = max(math.ceil(total / PER_PAGE), 1)
    return render_template("ledgers/list.html", theme=theme, rows=rows, total=total, page=page, pages=pages,
                           retired=retired, field=field, text=text, problem=problem,
                           fields=searchable_fields(theme), title_of=lambda row: title_of(row, theme),
                           summary=lambda row: _summary(row, theme), may_write=may_write(),
                           geometry_names=GEOMETRY_NAMES), 400 if problem else 200


def _summary(record: ThemeRecord, theme: themes.Theme) -> str:
    """A few of the record's other values, masked, for its line in the list."""
    data = masked_document(viewer(), record.form_data or {})
    titles = dict(searchable_fields(theme))
    shown = [f"{titles[key]}：{data[key]}" for key in titles if key not in ("name", "title")
             and isinstance(data.get(key), str) and data[key]]
    return "；".join(shown[:3])


@blueprint.get("/<key>/<int:record_id>")
@roles_required(*READ_ROLES)
def record_page(key: str, record_id: int):
    theme = _theme(key)
    record = _record(theme, record_id)
    if not may_write() or record.retired_at is not None:
        return _view(theme, record)
    return _edit_page(theme, record, None)


def _view(theme, record, status: int = 200):
    return render_template("ledgers/record.html", theme=theme, record=record, title=title_of(record, theme),
                           fields=shown_fields(record), form_html=None, may_write=may_write(),
                           where=_where(record)), status


def _where(record: ThemeRecord) -> str:
    located = records.location(record)
    if not located:
        return "未定位"
    if located["type"] == "Point":
        return f"点（经度 {located['coordinates'][0]:.6f}，纬度 {located['coordinates'][1]:.6f}）"
    return {"LineString": "线", "MultiLineString": "多段线", "Polygon": "面", "MultiPolygon": "多个面"}.get(
        located["type"], located["type"])


# -- history ---------------------------------------------------------------------------------------------------------

def _value_text(record: ThemeRecord, name: str, value, specs: dict[str, dict]) -> dict:
    """One old or new value of the history as the viewer may read it: text, and the photos among it."""
    if value is None or value == "" or value == []:
        return {"text": "（空）", "files": []}
    if name == "geometry":
        kind = value.get("type") if isinstance(value, dict) else ""
        if kind == "Point":
            return {"text": f"点（{value['coordinates'][0]:.6f}，{value['coordinates'][1]:.6f}）", "files": []}
        return {"text": {"LineString": "线", "MultiLineString": "多段线", "Polygon": "面",
                         "MultiPolygon": "多个面"}.get(kind, str(kind)) + "（已在地图上绘制）", "files": []}
    if name.startswith("form_data."):
        field = name.removeprefix("form_data.")
        spec = specs.get(field)
        files = sorted({item for _path, item in attachment_refs(spec, value)}) if _is_photo(spec) else []
        if files:
            return {"text": f"照片 {len(files)} 张", "files": [file_url(record, item) for item in files]}
        value = masked_document(viewer(), value, field)
    elif isinstance(value, str):
        value = masking.text_for(viewer(), value)   # the reason of a retirement: free text, like a form's
    if isinstance(value, bool):
        return {"text": "是" if value else "否", "files": []}
    if isinstance(value, list):
        return {"text": "、".join(str(item) for item in value), "files": []}
    if isinstance(value, dict):
        return {"text": json.dumps(value, ensure_ascii=False)[:200], "files": []}
    return {"text": str(value), "files": []}


def _is_photo(spec: dict | None) -> bool:
    return isinstance(spec, dict) and (spec.get("format") == "attachment"
                                       or (spec.get("items") or {}).get("format") == "attachment")


def _field_specs(record: ThemeRecord) -> dict[str, dict]:
    """form field → its schema (the newest one wins), from every version of the theme the record went through:
    one query."""
    documents = db().scalars(select(ThemeVersion.document).where(
        ThemeVersion.theme_key == record.theme_key, ThemeVersion.version <= record.theme_version)
        .order_by(ThemeVersion.version))
    found = {}
    for document in documents:
        form = (document.get("forms") or {}).get("record") or {}
        found.update({key: spec for key, spec in (form.get("properties") or {}).items() if isinstance(spec, dict)})
    return found


@blueprint.get("/<key>/<int:record_id>/history")
@roles_required(*READ_ROLES)
def record_history(key: str, record_id: int):
    theme = _theme(key)
    record = _record(theme, record_id)
    specs = _field_specs(record)
    lines = []
    for row in records.history(db(), record):
        changes = []
        for name, change in sorted((row.changes or {}).items()):
            field = name.removeprefix("form_data.")
            label = (specs.get(field, {}).get("title") or field) if name.startswith("form_data.") else \
                OTHER_CHANGES.get(name, name)
            changes.append({"label": label, "old": _value_text(record, name, change.get("old"), specs),
                            "new": _value_text(record, name, change.get("new"), specs)})
        lines.append({"version": row.version, "action": ACTIONS.get(row.action, row.action), "at": row.at,
                      "actor": row.actor_name, "changes": changes})
    return render_template("ledgers/history.html", theme=theme, record=record, title=title_of(record, theme),
                           lines=lines)


# -- photos ------------------------------------------------------------------------------------------------------------

@blueprint.get("/<key>/<int:record_id>/files/<attachment_id>")
@roles_required(*READ_ROLES)
def record_file(key: str, record_id: int, attachment_id: str):
    """A photo of a record (now or in its history), for whoever may see the record; or the viewer's own upload
    not yet saved with one (nor with a case or a visit)."""
    theme = _theme(key)
    record = _record(theme, record_id)
    row = db().get(Attachment, attachment_id)
    if row is None or row.case_id is not None:
        abort(404)
    if not _names_file(record, row.id):
        if row.owner_account_id != viewer().account_id or row.visit_id is not None:
            abort(404)
    return send(row)


def _names_file(record: ThemeRecord, attachment_id: str) -> bool:
    """Whether the record's values name the file, now or in its history: one query, over the documents' JSON text
    (an id is a JSON string of 32 hex digits wherever a form put it)."""
    token = json.dumps(attachment_id)
    in_history = exists().where(ThemeRecordChange.record_id == ThemeRecord.id,
                                cast(ThemeRecordChange.changes, Text).contains(token, autoescape=True))
    return db().scalar(select(ThemeRecord.id).where(
        ThemeRecord.id == record.id,
        or_(cast(ThemeRecord.form_data, Text).contains(token, autoescape=True), in_history))) is not None


# -- adding and editing ----------------------------------------------------------------------------------------------

def own_point(form: dict) -> str | None:
    """The record form's own top-level geo-point field, if it has one: then it is the record's place."""
    return next((name for name, spec in (form.get("properties") or {}).items()
                 if isinstance(spec, dict) and spec.get("format") == "geo-point"), None)


def page_schema(theme: themes.Theme, form: dict) -> dict:
    """The page's form: the record form as a group, and for a point theme its place (lon/lat, no JS needed)
    unless the record form has a geo-point of its own."""
    properties = {"details": {**form, "title": form.get("title") or "台账信息"}}
    required = ["details"]
    if theme.layer["geometry"] == "point" and not own_point(form):
        properties = {"location": LOCATION, **properties}
        required.append("location")
    return {"type": "object", "title": theme.title, "properties": properties, "required": required}


def _map_settings(theme: themes.Theme, record: ThemeRecord | None) -> dict:
    settings = report_map.picker_settings()
    settings.update({"grids-url": url_for("map.grids"), "geometry-kind": theme.layer["geometry"], "tiles": city.tile_url(db()) or "",
                     "colour": theme.document.get("colour") or theme.layer.get("style", {}).get("color", "")})
    located = records.location(record) if record is not None else None
    if located is not None:
        settings["current"] = json.dumps(located, separators=(",", ":"))
    return settings


def _with_csp(response, status: int):
    """The page with the base map's tile origin allowed for images, when a tile URL is set."""
    origin = city.tile_origin(city.tile_url(db()))
    if origin:
        allow_images_from(origin)
    return response, status


def _form_page(theme, record, form, *, client_id: str = "", errors=(), stale: int | None = None, status=200):
    action = (url_for("ledgers.record_page", key=theme.key, record_id=record.id, version=record.version)
              if record is not None else url_for("ledgers.new_record", key=theme.key, client_id=client_id))
    attachment_url = (url_for("ledgers.record_file", key=theme.key, record_id=record.id, attachment_id="ID")
                      .replace("ID", "{id}") if record is not None else None)
    html = forms.render(form, action=action, submit_label="保存" if record is not None else "新增记录",
                        csrf_token=generate_csrf(), attachment_url=attachment_url)
    html = Markup(str(html).replace('<form class="mq-form"', '<form id="ledger-form" class="mq-form"', 1))
    body = render_template("ledgers/record.html" if record is not None else "ledgers/new.html", theme=theme,
                           record=record, title=title_of(record, theme) if record is not None else "",
                           fields=shown_fields(record) if record is not None else [], form_html=html,
                           may_write=True, where=_where(record) if record is not None else "",
                           map=_map_settings(theme, record), errors=list(errors), stale=stale,
                           geometry_kind=GEOMETRY_NAMES.get(theme.layer["geometry"], ""),
                           geometry_value=request.form.get("geometry", "") if request.method == "POST" else "",
                           geometry_removed=request.form.get("geometry_removed") == "1" and "1" or "")
    return _with_csp(body, status)


def _prefill(record: ThemeRecord, stored_schema: dict | None) -> dict:
    """The edit form's document: the record's values masked for the viewer, and its point unless the record's
    form (`stored_schema`, of the version it was filled in under) has a place of its own."""
    document = {"details": masked_document(viewer(), record.form_data or {})}
    if record.lon is not None and record.lat is not None and record.geometry is None \
            and not own_point(stored_schema or {}):
        document["location"] = {"lon": record.lon, "lat": record.lat}
    return document


def _edit_page(theme, record, form, **options):
    if form is None:
        schema_form, ui, _version = record_form(theme)
        form = forms.from_document(page_schema(theme, schema_form),
                                   _prefill(record, themes.record_schema(db(), record)),
                                   {"details": ui} if ui else None)
    return _form_page(theme, record, form, **options)


def _unmasked_formdata(schema, ui, record: ThemeRecord | None, shown_document: dict | None):
    """The posted fields, where a value sent back exactly as the edit form showed it masked (`shown_document`,
    the record's `_prefill`) is replaced by the stored value (so 139****5678 left alone keeps the number, and
    validates)."""
    formdata = request.form.copy()
    if record is None:
        return formdata
    ui = {"details": ui} if ui else None
    shown = {field.name: field.data for field in iter_fields(forms.from_document(schema, shown_document, ui))}
    plain = {field.name: field.data for field in iter_fields(forms.from_document(
        schema, {**shown_document, "details": record.form_data or {}}, ui))}
    for name, value in shown.items():
        if isinstance(value, str) and isinstance(plain.get(name), str) and value != plain[name] \
                and formdata.get(name) == value:
            formdata.setlist(name, [plain[name]])
    return formdata


def _read(theme, schema, ui, previous=None, known=(), record=None):
    """(form, document or None): the posted page form, validated (files stored), or with its errors."""
    form_class = forms.build_form(schema, {"details": ui} if ui else None)
    form = form_class(CombinedMultiDict([_unmasked_formdata(schema, ui, record, previous), request.files]),
                      previous=previous, known_attachments=[*my_pending_attachments(), *known])
    if form.apply_row_action():
        return form, None, []
    if unknown := unknown_inputs(form, [*request.form.keys(), *request.files.keys()]):
        return form, None, [f"表单中没有这些项，未予受理：{'、'.join(sorted(unknown)[:10])}"]
    try:
        valid = form.validate(store_upload=uploader())
    except attachments.UploadRejected as error:
        db().rollback()
        return form, None, [f"照片未被接收：{error}"]
    if not valid:
        return form, None, []
    return form, forms.to_document(schema, form), []


def _geometry(theme) -> tuple[dict | None, str]:
    """The drawn GeoJSON of the hidden input (None when nothing was drawn) and a problem with it."""
    text = (request.form.get("geometry") or "").strip()
    if not text:
        if theme.layer["geometry"] != "point":
            return None, f"请在地图上画出{GEOMETRY_NAMES[theme.layer['geometry']]}（需启用浏览器的 JavaScript）"
        return None, ""
    try:
        value = json.loads(text)
    except ValueError:
        return None, "位置：绘制的图形格式有误，请重新绘制"
    if isinstance(value, dict) and value.get("type") == "Feature":
        value = value.get("geometry")
    if not isinstance(value, dict):
        return None, "位置：绘制的图形格式有误，请重新绘制"
    return value, ""


def _place(theme, document, record=None) -> tuple[dict, list[str]]:
    """The location arguments of the service call, and problems with what was posted."""
    geometry, problem = _geometry(theme)
    if problem and request.form.get("geometry_removed") == "1":
        return {}, [f"位置：原有的{GEOMETRY_NAMES[theme.layer['geometry']]}已删除，请在地图上重新画出"]
    if problem and not (record is not None and geometry is None and theme.layer["geometry"] != "point"):
        return {}, [problem]
    if geometry is not None:
        return {"geometry": geometry}, []
    own = own_point(theme.form("record") or {})
    location = ((document.get("details") or {}).get(own) if own else document.get("location")) or {}
    if location.get("lon") is not None and location.get("lat") is not None:
        if record is not None and record.geometry is None and (location["lon"], location["lat"]) == (
                record.lon, record.lat):
            return {}, []
        return {"lon": location["lon"], "lat": location["lat"]}, []
    return {}, []


def _service_errors(form, theme, error) -> list[str]:
    """The service's refusal, each message at its field (and in the summary) with the field's title."""
    if isinstance(error, themes.RecordInvalid):
        messages = []
        titles = {key: spec.get("title") or key for key, spec in
                  ((theme.form("record") or {}).get("properties") or {}).items() if isinstance(spec, dict)}
        for path, message in error.errors:
            if path in ("lon", "lat", "geometry"):
                name = "location"
                text = f"位置：{message}"
            else:
                name = f"details-{path.replace('.', '-')}" if path else "details"
                text = f"{titles.get(path.split('.')[0], path)}：{message}" if path else message
            field = find_field(form, name)
            if field is not None:
                field.mq_errors.append(message)
                form.error_links.append((text, f"{field.id}-field"))
            messages.append(text)
        return messages
    return [getattr(error, "message", str(error))]


@blueprint.route("/<key>/new", methods=["GET", "POST"])
@roles_required(*WRITE_ROLES)
def new_record(key: str):
    theme = _theme(key)
    try:
        schema_form, ui, _version = record_form(theme)
    except themes.NotPublished as error:
        flash(str(error), "error")
        return redirect(url_for("ledgers.records_list", key=theme.key))
    schema = page_schema(theme, schema_form)
    if request.method == "GET":
        form = forms.build_form(schema, {"details": ui} if ui else None)()
        return _form_page(theme, None, form, client_id=uuid.uuid4().hex)
    client_id = (request.args.get("client_id") or "")[:64] or uuid.uuid4().hex
    form, document, problems = _read(theme, schema, ui)
    if document is None:
        return _form_page(theme, None, form, client_id=client_id, errors=problems, status=400 if problems or
                          form.schema_errors else 200)
    place, problems = _place(theme, document)
    if problems:
        return _form_page(theme, None, form, client_id=client_id, errors=problems, status=400)
    try:
        record = records.create(platform(), db(), viewer(), theme.key, document.get("details") or {}, **place,
                                client_id=f"web-{viewer().account_id}-{client_id}")
        db().commit()
    except (themes.RecordInvalid, records.RecordError) as error:
        db().rollback()
        status = 403 if isinstance(error, records.RecordRefused) and not error.field else 400
        return _form_page(theme, None, form, client_id=client_id, errors=_service_errors(form, theme, error),
                          status=status)
    flash(f"已新增台账记录（编号 {record.id}）", "info")
    return redirect(url_for("ledgers.record_page", key=theme.key, record_id=record.id))


@blueprint.post("/<key>/<int:record_id>")
@roles_required(*WRITE_ROLES)
def edit_record(key: str, record_id: int):
    theme = _theme(key)
    record = _record(theme, record_id)
    if record.retired_at is not None:
        flash("该记录已退出台账，不能再修改", "error")
        return _view(theme, record, 409)
    schema_form, ui, _version = record_form(theme)
    schema = page_schema(theme, schema_form)
    stored_schema = themes.record_schema(db(), record)   # the form the record was filled in under: read once
    shown = _prefill(record, stored_schema)
    version = request.args.get("version", type=int)
    form, document, problems = _read(theme, schema, ui, previous=shown, record=record,
                                     known=[item for _path, item in attachment_refs(stored_schema, record.form_data)])
    if version is None:
        problems = [*problems, "请求缺少记录的版本号，请重新打开本页后再修改"]
    if document is None or problems:
        return _edit_page(theme, record, form, errors=problems, status=400 if problems or form.schema_errors
                          else 200)
    if version != record.version:
        return _edit_page(theme, record, form, stale=record.version, status=409)
    place, problems = _place(theme, document, record)
    if problems:
        return _edit_page(theme, record, form, errors=problems, status=400)
    data = document.get("details") or {}   # masked values sent back unchanged were restored (_unmasked_formdata)
    try:
        records.update(platform(), db(), viewer(), record, version=version, data=data, **place)
        db().commit()
    except records.StaleRecord as error:
        db().rollback()
        return _edit_page(theme, _record(theme, record_id), form, stale=error.current, status=409)
    except (themes.RecordInvalid, records.RecordError) as error:
        db().rollback()
        record = _record(theme, record_id)
        status = 403 if isinstance(error, records.RecordRefused) and not error.field else 400
        return _edit_page(theme, record, form, errors=_service_errors(form, theme, error), status=status)
    flash(f"已保存（第 {record.version} 版）", "info")
    return redirect(url_for("ledgers.record_page", key=theme.key, record_id=record.id))


@blueprint.post("/<key>/<int:record_id>/retire")
@roles_required(*WRITE_ROLES)
def retire_record(key: str, record_id: int):
    theme = _theme(key)
    record = _record(theme, record_id)
    version = request.form.get("version", type=int)
    reason = " ".join((request.form.get("reason") or "").split())[:500]
    page = url_for("ledgers.record_page", key=theme.key, record_id=record.id)
    if version is None:
        flash("请求缺少记录的版本号，请重新打开本页后再操作", "error")
        return redirect(page)
    try:
        records.retire(db(), viewer(), record, version=version, reason=reason)
        db().commit()
    except records.StaleRecord as error:
        db().rollback()
        flash(f"该记录已被他人修改（当前为第 {error.current} 版），未退出台账。请查看最新内容后再操作。", "error")
        return redirect(page)
    except records.RecordError as error:
        db().rollback()
        flash(error.message, "error")
        return redirect(page)
    flash(f"记录 {record.id} 已退出台账（保留历史，可在列表中勾选“显示已退出”查看）", "info")
    return redirect(url_for("ledgers.records_list", key=theme.key))
