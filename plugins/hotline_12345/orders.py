"""12345 work orders (工单) as a hotline system exports them: CSV or XLSX with a header row, or JSON (a list of
objects, or an object holding the list under `data`, `rows`, `records`, `list` or `items`), read into the intake
channels' rows (`minqing.workflows.channels.Row`). The columns are documented in docs/channels.md.

Each order's checks here are about the file (its number, times, phone, coordinates, time limit); what the theme's
form asks and where the case lies is the intake service's, reported on the same row and column.
"""
from __future__ import annotations

import datetime as dt
import json
import re
from pathlib import Path

from minqing import workflows
from minqing.core.importing import (CHINA_LAT, CHINA_LON, PHONE, Bad, Column, ImportFileError, decimal,
                                    match_header, open_table, phone)
from minqing.workflows.channels import Item, Row

from . import standards

CHANNEL = "12345"
MAX_FILE_BYTES = 50 * 1024 * 1024
MAX_ORDERS = 100_000
APPEAL_KINDS = ("投诉", "求助", "咨询", "建议", "举报", "表扬")
LIST_KEYS = ("data", "rows", "records", "list", "items")
ORDER_NUMBER = re.compile(r"^[0-9A-Za-z_\-]{4,64}$")
TIME_FORMS = ("%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M", "%Y/%m/%d %H:%M:%S", "%Y/%m/%d %H:%M", "%Y-%m-%dT%H:%M:%S",
              "%Y-%m-%dT%H:%M", "%Y%m%d%H%M%S")
LIMIT = re.compile(r"^(\d+(?:\.\d+)?)\s*(个)?\s*(工作日|天|日|小时|h|H)$")

COLUMNS = (
    Column("external_id", "工单编号", ("工单号", "热线工单编号", "工单编码", "order_no", "orderno", "work_order_no", "gdbh"),
           required=True, max_length=64),
    Column("called_at", "来电时间", ("受理时间", "登记时间", "call_time", "calltime", "ldsj")),
    Column("caller", "诉求人", ("来电人", "姓名", "诉求人姓名", "caller", "name"), max_length=60),
    Column("phone", "电话", ("联系电话", "来电号码", "诉求人电话", "phone", "mobile", "lxdh"), kind=PHONE),
    Column("content", "诉求内容", ("内容", "问题描述", "工单内容", "content", "sqnr"), required=True, max_length=2000),
    Column("title", "诉求标题", ("标题", "工单标题", "title"), max_length=100),
    Column("address", "地址", ("事发地址", "诉求地址", "详细地址", "address", "dz"), max_length=200),
    Column("lon", "经度", ("lon", "lng", "longitude", "x")),
    Column("lat", "纬度", ("lat", "latitude", "y")),
    Column("category", "诉求类别", ("类别", "问题分类", "诉求分类", "category", "sqlb")),
    Column("kind", "诉求类型", ("类型", "appeal_type", "type", "sqlx")),
    Column("limit", "办理时限", ("时限", "办结时限", "time_limit", "deadline", "blsx")),
)
LABELS = {column.key: column.label for column in COLUMNS}


def read(path: Path):
    """(rows as {key: text} with their numbers, estimated count, headers no column claims, the file's header
    for each key). ImportFileError when the file as a whole cannot be read."""
    path = Path(path)
    if path.stat().st_size > MAX_FILE_BYTES:
        raise ImportFileError(f"文件过大（最多 {MAX_FILE_BYTES // 1024 // 1024} MB）：请分批导出")
    if path.suffix.lower() == ".json":
        return _read_json(path)
    table = open_table(path)
    positions, unknown = match_header(table.header, COLUMNS)
    _check_header(positions)
    names = {key: table.header[index].strip() for key, index in positions.items()}

    def rows():
        with table:
            for number, cells in table.rows:
                yield number, {key: _text(cells[index]) if index < len(cells) else "" for key, index in positions.items()}

    return rows(), table.estimated_rows, unknown, names


def _read_json(path: Path):
    try:
        document = json.loads(path.read_text(encoding="utf-8-sig"))
    except (ValueError, UnicodeDecodeError) as error:
        raise ImportFileError(f"JSON 文件无法读取：{error}") from None
    orders = document
    while isinstance(orders, dict):
        orders = next((orders[key] for key in LIST_KEYS if key in orders), None)
    if not isinstance(orders, list):
        raise ImportFileError("JSON 文件应为工单数组，或在 data、rows、records、list、items 之一下放工单数组")
    if len(orders) > MAX_ORDERS:
        raise ImportFileError(f"工单过多（{len(orders)} 条，一次最多 {MAX_ORDERS} 条）：请分批导出")
    keys = list(dict.fromkeys(key for order in orders if isinstance(order, dict) for key in order))
    positions, unknown = match_header(keys, COLUMNS)
    _check_header(positions)
    names = {key: keys[index] for key, index in positions.items()}

    def rows():
        for number, order in enumerate(orders, start=1):
            if not isinstance(order, dict):
                yield number, None
                continue
            yield number, {key: _text(order.get(keys[index])) for key, index in positions.items()}

    return rows(), len(orders), unknown, names


def _check_header(positions: dict) -> None:
    missing = [column.label for column in COLUMNS if column.required and column.key not in positions]
    if missing:
        raise ImportFileError(f"缺少必填列：{'、'.join(missing)}")
    if ("lon" in positions) != ("lat" in positions):
        raise ImportFileError("经度列和纬度列应同时提供")


def _text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


# -- one order -------------------------------------------------------------------------------------------------

class Mapper:
    """Turns an order's cells into an Item: its category onto a theme (the mapping table, else the fallback, also
    when the mapped theme is not enabled), its time limit onto the theme workflow's urgency."""

    def __init__(self, platform, session, names: dict):
        from minqing import themes   # read once, in the caller's short session

        self.platform, self.names = platform, names
        self.themes = {theme.key: theme for theme in themes.themes(platform, session)}
        table = standards.category_map()
        self.fallback = table["fallback"]
        self.table = {entry["category"]: entry for entry in table["categories"]}

    def column(self, key: str) -> str:
        return self.names.get(key, LABELS[key])

    def row(self, number: int, cells: dict | None) -> Row:
        columns = {role: self.column(key) for role, key in (
            ("external_id", "external_id"), ("content", "content"), ("address", "address"), ("location", "lon"),
            ("category", "category"), ("kind", "kind"), ("urgency", "limit"), ("title", "content"))}
        columns["location"] = f"{self.column('lon')}/{self.column('lat')}" if "lon" in self.names else "地址"
        if cells is None:
            return Row(number, None, (("", "", "应为一个工单（JSON 对象）"),), columns)
        problems: list[tuple[str, str, str]] = []

        def fail(key: str, message: str) -> None:
            problems.append((self.column(key), cells.get(key, ""), message))

        external_id = cells.get("external_id", "")
        if not external_id:
            fail("external_id", "工单编号不能为空")
        elif not ORDER_NUMBER.match(external_id):
            fail("external_id", "工单编号应为 4～64 位字母、数字、下划线或连字符")
        for column in COLUMNS:
            value = cells.get(column.key, "")
            if column.required and column.key != "external_id" and not value:
                fail(column.key, f"{column.label}不能为空")
            elif column.max_length and len(value) > column.max_length:
                fail(column.key, f"{column.label}超过{column.max_length}个字符")
        called_at = _time(cells.get("called_at", ""), fail)
        number_ = ""
        if cells.get("phone"):
            try:
                number_ = phone(cells["phone"])
            except Bad as error:
                fail("phone", str(error))
        lon = lat = None
        if cells.get("lon") or cells.get("lat"):
            try:
                lon = decimal(cells.get("lon", ""), "经度", *CHINA_LON)
                lat = decimal(cells.get("lat", ""), "纬度", *CHINA_LAT)
            except Bad as error:
                fail("lon" if lon is None else "lat", str(error))
        kind = cells.get("kind", "")
        if kind and kind not in APPEAL_KINDS:
            fail("kind", f"诉求类型应为{'、'.join(APPEAL_KINDS)}之一")
        entry = self._entry(cells.get("category", ""))
        theme = self.themes.get(entry["theme"])
        if theme is None:
            fail("category", f"诉求类别对应的业务主题“{entry['theme']}”未启用，兜底主题也不可用")
        limit_hours = _limit_hours(cells.get("limit", ""), called_at, fail)
        if problems:
            return Row(number, None, tuple(problems), columns)
        if limit_hours is None:
            limit_hours = standards.handling_hours(kind, cells.get("category", ""))
        workflow = workflows.get_workflow(self.platform, theme.workflow_key)
        content = cells["content"]
        title = cells.get("title") or _title(content)
        item = Item(external_id=external_id, theme_key=theme.key, title=title, content=content,
                    category=entry["code"], address=cells.get("address", ""), lon=lon, lat=lat, kind=kind,
                    urgency=standards.urgency_for(limit_hours, workflow),
                    reporter=workflows.Reporter(cells.get("caller", "")[:60], number_),
                    received={"called_at": called_at.isoformat(timespec="minutes") if called_at else "",
                              "category": cells.get("category", ""), "time_limit": cells.get("limit", ""),
                              "limit_hours": limit_hours})
        return Row(number, item, (), columns)

    def _entry(self, category: str) -> dict:
        """The mapping table's entry: the whole category, else its last part (城乡建设/市容环境/占道经营), else the
        fallback; an entry whose theme is not enabled falls back too."""
        parts = [category.strip(), re.split(r"[/／>＞\-－|]", category)[-1].strip()] if category else []
        for part in parts:
            entry = self.table.get(part)
            if entry is not None and entry["theme"] in self.themes:
                return entry
        return self.fallback


def _title(content: str) -> str:
    line = content.strip().splitlines()[0] if content.strip() else ""
    title = line[:30].strip()
    return title if len(title) >= 2 else "12345热线工单"


def _time(text: str, fail) -> dt.datetime | None:
    if not text:
        return None
    for form in TIME_FORMS:
        try:
            return dt.datetime.strptime(text, form)
        except ValueError:
            continue
    fail("called_at", "来电时间格式不正确：应为 YYYY-MM-DD HH:MM[:SS]")
    return None


def _limit_hours(text: str, called_at: dt.datetime | None, fail) -> float | None:
    """办理时限 in hours: "5个工作日" (working days of the standards' hours), "3天", "24小时", or the deadline
    itself (a time, counted from 来电时间)."""
    if not text:
        return None
    found = LIMIT.match(text)
    if found:
        amount, unit = float(found.group(1)), found.group(3)
        if amount <= 0:
            fail("limit", "办理时限应大于 0")
            return None
        if unit == "工作日":
            return amount * standards.time_standards()["working_day_hours"]
        return amount * 24 if unit in ("天", "日") else amount
    for form in TIME_FORMS:
        try:
            deadline = dt.datetime.strptime(text, form)
        except ValueError:
            continue
        if called_at is None:
            fail("limit", "办理时限为截止时间时须填写来电时间")
            return None
        hours = (deadline - called_at).total_seconds() / 3600
        if hours <= 0:
            fail("limit", "办理截止时间应晚于来电时间")
            return None
        return hours
    fail("limit", "办理时限应为“5个工作日”“3天”“24小时”或截止时间（YYYY-MM-DD HH:MM）")
    return None
