"""XLSForm question types -> field schemas: one builder per type, and the types listed as not converted.

A builder fills `q.schema` (and `q.ui`) for its type, or returns False after recording why it could not.
"""
from __future__ import annotations

import re

from .context import Question

TIME_PATTERN = "^([01][0-9]|2[0-3]):[0-5][0-9](:[0-5][0-9])?$"   # ODK writes seconds too: 09:30:00
TIME_MESSAGE = "请按“时:分”或“时:分:秒”填写，如 09:30"
# what imports before seconds were accepted stored: still a time question when exported
TIME_PATTERNS = (TIME_PATTERN, "^([01][0-9]|2[0-3]):[0-5][0-9]$")
TIME_MESSAGES = (TIME_MESSAGE, "请按“时:分”填写，如 09:30")
BOOLEAN_NAMES = ("true", "false")
_FILE_TYPES = {".pdf": "application/pdf", ".jpg": "image/jpeg", ".jpeg": "image/jpeg", ".png": "image/png",
               ".webp": "image/webp"}
STORED_TYPES = ("image/*", "image/jpeg", "image/png", "image/webp", "application/pdf")
_METADATA = {"start", "end", "today", "deviceid", "phonenumber", "username", "simserial", "subscriberid",
             "email", "audit", "start-geopoint", "background-geopoint", "background-audio", "imei"}
_SKIPPED = {
    "calculate": "calculate 计算字段无法转换，已跳过",
    "hidden": "hidden 隐藏字段无法转换，已跳过",
    "audio": "audio 录音题无法转换（平台只保存图片和 PDF 文件），已跳过",
    "video": "video 视频题无法转换（平台只保存图片和 PDF 文件），已跳过",
    "note": "note 说明文字无法作为字段显示，已跳过",
    "barcode": "barcode 扫码题无法转换，已跳过",
    "geotrace": "geotrace 线位置无法转换（只支持单点位置），已跳过",
    "geoshape": "geoshape 面位置无法转换（只支持单点位置），已跳过",
    "rank": "rank 排序题无法转换，已跳过",
    "select one external": "select_one_external 外部选项无法转换，已跳过",
    "xml-external": "xml-external 外部数据无法转换，已跳过",
    "csv-external": "csv-external 外部数据无法转换，已跳过",
    "trigger": "trigger 题型无法转换，已跳过",
}
_BY_BIND = {("binary", "upload", "image/*"): "image", ("binary", "upload", "audio/*"): "audio",
            ("binary", "upload", "video/*"): "video", ("binary", "upload", "application/*"): "file",
            ("dateTime", "input", None): "dateTime", ("date", "input", None): "date", ("time", "input", None): "time",
            ("geopoint", "input", None): "geopoint", ("int", "input", None): "integer",
            ("decimal", "input", None): "decimal", ("string", "select1", None): "select one",
            ("string", "select", None): "select all that apply", ("string", "trigger", None): "acknowledge",
            ("geoshape", "input", None): "geoshape", ("geotrace", "input", None): "geotrace",
            ("barcode", "input", None): "barcode", ("int", "range", None): "range"}


def canonical_type(kind: str) -> str:
    """pyxform's many spellings of a type (`q int`, `gps`, `date time`, …) -> one name."""
    from pyxform.question_type_dictionary import QUESTION_TYPE_DICT
    if kind in BUILDERS or kind in _SKIPPED or kind not in QUESTION_TYPE_DICT:
        return kind
    spec = QUESTION_TYPE_DICT[kind]
    control = spec.get("control", {})
    key = (spec.get("bind", {}).get("type"), control.get("tag"), control.get("mediatype"))
    if key == ("string", "input", None):
        return "note" if "note" in kind else "text"
    return _BY_BIND.get(key, kind)


def skip_reason(element: dict) -> str | None:
    """Why a question type is not converted at all (None: it is)."""
    from pyxform.question_type_dictionary import QUESTION_TYPE_DICT
    kind = canonical_type(element.get("type", ""))
    if kind in _SKIPPED:
        return _SKIPPED[kind]
    if kind in _METADATA or (kind in QUESTION_TYPE_DICT and "control" not in QUESTION_TYPE_DICT[kind]):
        return f"{kind} 元数据由设备自动记录，平台另行记录上报人和时间，已跳过"
    if kind in ("select one", "select all that apply") and _from_file(element):
        return f"从文件“{element.get('itemset')}”读取的选项无法转换，已跳过"
    return None


def _from_file(element: dict) -> bool:
    return "choices" not in element and bool(re.search(r"\.(csv|xml|geojson)$", element.get("itemset") or ""))


def _text(element, q: Question, ctx):
    q.schema = {"type": "string"}
    extra = element.get("minqing", {})
    if extra.get("format") in ("cn-mobile", "cn-id", "email"):
        q.schema["format"] = extra["format"]
    elif extra.get("format"):
        ctx.skip(q.row, q.xls_name, f"格式“{extra['format']}”不受支持，已忽略", "minqing::format")
    control = element.get("control", {})
    if "multiline" in str(control.get("appearance", "")).split() and "format" not in q.schema:
        q.ui["ui:widget"] = "textarea"
        rows = str(control.get("rows", ""))
        if rows.isdigit() and 1 <= int(rows) <= 50:
            q.ui["ui:rows"] = int(rows)


def _number(json_type):
    def build(element, q: Question, ctx):
        q.schema = {"type": json_type}
    return build


def _range(element, q: Question, ctx):
    params = element.get("parameters") or {}
    try:
        start, end, step = (float(params.get(k, d)) for k, d in (("start", 1), ("end", 10), ("step", 1)))
    except (TypeError, ValueError):
        ctx.skip(q.row, q.xls_name, "range 参数无法读取，已跳过")
        return False
    whole = all(v.is_integer() for v in (start, end, step))
    cast = int if whole else float
    q.schema = {"type": "integer" if whole else "number", "minimum": cast(min(start, end)),
                "maximum": cast(max(start, end))}
    if step > 0 and (start / step).is_integer() and not (whole and step == 1):
        q.schema["multipleOf"] = cast(step)


def _formatted(json_format):
    def build(element, q: Question, ctx):
        q.schema = {"type": "string", "format": json_format}
    return build


def _time(element, q: Question, ctx):
    q.schema = {"type": "string", "pattern": TIME_PATTERN, "x-messages": {"pattern": TIME_MESSAGE}}


def _geopoint(element, q: Question, ctx):
    q.schema = {"type": "object", "format": "geo-point"}


def options(element, q: Question, ctx) -> list[tuple[str, str]]:
    """(name, label) of the choices, first of each name kept (choice filters may list names twice)."""
    seen, out = set(), []
    for choice in element.get("choices", []):
        value = str(choice.get("name", ""))
        if value and value not in seen:
            seen.add(value)
            out.append((value, ctx.text(choice.get("label")) or value))
    return out


def _option_schema(pairs) -> dict:
    if all(label == value for value, label in pairs):
        return {"type": "string", "enum": [v for v, _ in pairs]}
    return {"type": "string", "oneOf": [{"const": v, "title": label} for v, label in pairs]}


def _select_one(element, q: Question, ctx):
    pairs = options(element, q, ctx)
    if not pairs:
        ctx.skip(q.row, q.xls_name, "单选题没有选项，已跳过")
        return False
    appearance = str(element.get("control", {}).get("appearance", "")).split()
    dropdown = "minimal" in appearance or "autocomplete" in appearance
    if sorted(v for v, _ in pairs) == sorted(BOOLEAN_NAMES):
        q.schema = {"type": "boolean"}
        q.ui["ui:widget"] = "select" if dropdown else "radio"
        return None
    q.schema = _option_schema(pairs)
    if not dropdown:
        q.ui["ui:widget"] = "radio"


def _select_multiple(element, q: Question, ctx):
    pairs = options(element, q, ctx)
    if not pairs:
        ctx.skip(q.row, q.xls_name, "多选题没有选项，已跳过")
        return False
    q.schema = {"type": "array", "items": _option_schema(pairs), "uniqueItems": True}


def _acknowledge(element, q: Question, ctx):
    q.schema = {"type": "boolean"}
    q.checkbox = True


def attachment_schema(element, q: Question, ctx, *, image: bool) -> dict | None:
    control, extra = element.get("control", {}), element.get("minqing", {})
    accept = _accept(control.get("accept"))
    if accept is None:
        if not image:
            ctx.skip(q.row, q.xls_name, "file 文件题没有用 body::accept 限定文件类型（平台只保存图片和 PDF），已跳过")
            return None
        accept = ["image/*"]
    bad = [a for a in accept if a not in STORED_TYPES]
    if bad:
        ctx.skip(q.row, q.xls_name, f"平台不保存“{'、'.join(bad)}”类型的文件，已跳过", "body::accept")
        return None
    spec = {"accept": accept}
    if str(extra.get("max_bytes", "")).isdigit() and int(extra["max_bytes"]) > 0:
        spec["maxBytes"] = int(extra["max_bytes"])
    appearance = str(control.get("appearance", "")).split()
    if "new-front" in appearance:
        q.ui["ui:capture"] = "user"
    elif "new" in appearance:
        q.ui["ui:capture"] = "environment"
    return {"type": "string", "format": "attachment", "x-attachment": spec}


def _accept(raw) -> list[str] | None:
    if not raw:
        return None
    out = []
    for part in re.split(r"[,\s]+", str(raw).strip().lower()):
        mime = _FILE_TYPES.get(part, part)
        if part and mime not in out:
            out.append(mime)
    return out or None


def _attachment(image: bool):
    def build(element, q: Question, ctx):
        schema = attachment_schema(element, q, ctx, image=image)
        if schema is None:
            return False
        q.schema = schema
    return build


BUILDERS = {
    "text": _text, "string": _text, "phone number": _text,
    "integer": _number("integer"), "int": _number("integer"), "decimal": _number("number"), "range": _range,
    "date": _formatted("date"), "dateTime": _formatted("date-time"), "time": _time,
    "select one": _select_one, "select all that apply": _select_multiple,
    "geopoint": _geopoint, "acknowledge": _acknowledge,
    "photo": _attachment(True), "image": _attachment(True), "file": _attachment(False),
}
