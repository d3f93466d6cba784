"""What each kind of base data needs beyond the shared location columns: its columns, how a row's cells become
values (no database), the references and duplicates checked against the database (one query per batch and key,
never one per row), and the dict a row is inserted as."""
from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from sqlalchemy import select, tuple_
from sqlalchemy.orm import Session

from minqing.core import city
from minqing.core.privacy import uscc
from minqing.core.privacy.masking import id_digest
from ..models import Address, Household, House, KeyPerson, Resident, Unit
from . import columns as C
from . import values as V

_IN_CHUNK = 900  # bound parameters per IN (...): well under every backend's limit


def chunks(items: list, size: int = _IN_CHUNK) -> Iterable[list]:
    for start in range(0, len(items), size):
        yield items[start:start + size]


class Kind:
    name: str
    label: str
    model: type
    columns: tuple[C.Column, ...]
    has_coordinates = False      # the model stores lon/lat itself

    def __init__(self, key: bytes, today: dt.date):
        self.key, self.today = key, today

    def parse(self, row) -> None:
        """Fill `row.values` from `row.cells`; call `row.fail` for every problem."""

    def unique_keys(self, row) -> list[tuple[str, object, str]]:
        """(column key, value, what it is) that must be unique in the file and the database."""
        return []

    def look_up(self, session: Session, rows: list) -> None:
        """References and duplicates against the database, for the rows of one batch that passed `parse`."""

    def record(self, row) -> dict:
        raise NotImplementedError


def _optional(row, key: str, parse, *args):
    value = row.cells.get(key, "")
    if value == "" or value is None:
        return None
    try:
        return parse(value, *args)
    except V.Bad as error:
        row.fail(key, value, str(error))
        return None


def _existing(session: Session, column, keys: list) -> set:
    found = set()
    for part in chunks(keys):
        found.update(session.scalars(select(column).where(column.in_(part))))
    return found


def _references(session: Session, model, key_column, keys: list) -> dict:
    """key → (id, grid_id, region_code) of the rows a batch refers to."""
    found = {}
    for part in chunks(sorted(set(keys))):
        for key, row_id, grid_id, region_code in session.execute(
                select(key_column, model.id, model.grid_id, model.region_code).where(key_column.in_(part))):
            found[key] = (row_id, grid_id, region_code)
    return found


class Addresses(Kind):
    name, label, model, columns = "addresses", "标准地址", Address, C.ADDRESSES
    has_coordinates = True

    def parse(self, row) -> None:
        row.values["code"] = row.cells.get("code", "")
        row.values["text"] = row.cells.get("text", "")

    def unique_keys(self, row):
        return [("code", row.values["code"], "地址编码")]

    def look_up(self, session, rows):
        existing = _existing(session, Address.code, [row.values["code"] for row in rows])
        for row in rows:
            if row.values["code"] in existing:
                row.fail("code", row.values["code"], "地址编码已存在于数据库")

    def record(self, row):
        return {"code": row.values["code"], "text": row.values["text"], "lon": row.lon, "lat": row.lat}


class Houses(Kind):
    name, label, model, columns = "houses", "实有房屋", House, C.HOUSES

    def parse(self, row) -> None:
        cells, values = row.cells, row.values
        values["kind"] = _optional(row, "kind", V.choice, V.HOUSE_KINDS, "房屋类型应为 住宅、自建房、商业用房 或 公共用房")
        values["address_code"] = cells.get("address_code") or None
        values["structure"] = cells.get("structure", "")
        values["floors"] = _optional(row, "floors", V.integer, "层数", 1, 200) or 1
        values["area_m2"] = _optional(row, "area_m2", V.decimal, "建筑面积", 1, 1_000_000)
        values["built_year"] = _optional(row, "built_year", V.integer, "建成年份", 1900, self.today.year)
        values["owner_name"] = cells.get("owner_name", "")

    def look_up(self, session, rows):
        codes = [row.values["address_code"] for row in rows if row.values["address_code"]]
        found = _references(session, Address, Address.code, codes)
        for row in rows:
            code = row.values["address_code"]
            if code:
                if code in found:
                    row.values["address_id"], *reference = found[code]
                    row.reference = tuple(reference)
                else:
                    row.fail("address_code", code, "地址编码不存在：请先导入标准地址")

    def record(self, row):
        values = row.values
        return {"address_id": values.get("address_id"), "kind": values["kind"], "structure": values["structure"],
                "floors": values["floors"], "area_m2": values["area_m2"], "built_year": values["built_year"],
                "owner_name": values["owner_name"]}


class Residents(Kind):
    name, label, model, columns = "residents", "实有人口", Resident, C.RESIDENTS

    def parse(self, row) -> None:
        cells, values = row.cells, row.values
        values["name"] = cells.get("name", "")
        number = values["id_number"] = _optional(row, "id_number", V.id_number)
        if number:
            values["id_digest"] = id_digest(self.key, number)
            born, sex = V.idcard.birth_date(number), V.idcard.sex(number)
            values["birth_date"], values["gender"] = born, sex
            if born > self.today:
                row.fail("id_number", number, "身份证号中的出生日期晚于今天")
            given = _optional(row, "birth_date", V.date, "出生日期")
            if given is not None and given != born:
                row.fail("birth_date", cells["birth_date"], "出生日期与身份证号不一致")
            gender = _optional(row, "gender", V.choice, V.GENDERS, "性别应为“男”或“女”")
            if gender is not None and gender != sex:
                row.fail("gender", cells["gender"], "性别与身份证号不一致")
        values["phone"] = _optional(row, "phone", V.phone)
        values["household_number"] = cells.get("household_number") or None
        values["relation"] = cells.get("relation", "")
        values["residency"] = _optional(row, "residency", V.choice, V.RESIDENCY,
                                        "人口类型应为“户籍”或“流动”") or "registered"
        values["ethnicity"] = cells.get("ethnicity") or "汉族"

    def unique_keys(self, row):
        return [("id_number", row.values["id_digest"], "身份证号")]

    def look_up(self, session, rows):
        existing = _existing(session, Resident.id_digest, [row.values["id_digest"] for row in rows])
        numbers = [row.values["household_number"] for row in rows if row.values["household_number"]]
        households = _references(session, Household, Household.number, numbers) if numbers else {}
        for row in rows:
            if row.values["id_digest"] in existing:
                row.fail("id_number", row.values["id_number"], "身份证号已存在：实有人口中已有此人")
            number = row.values["household_number"]
            if number:
                if number in households:
                    row.values["household_id"], *reference = households[number]
                    row.reference = tuple(reference)
                else:
                    row.fail("household_number", number, "户号不存在")

    def record(self, row):
        values = row.values
        return {"name": values["name"], "id_number": values["id_number"], "id_digest": values["id_digest"],
                "gender": values["gender"], "birth_date": values["birth_date"], "phone": values["phone"],
                "household_id": values.get("household_id"), "relation": values["relation"],
                "residency": values["residency"], "ethnicity": values["ethnicity"]}


class Units(Kind):
    name, label, model, columns = "units", "实有单位", Unit, C.UNITS
    has_coordinates = True

    def parse(self, row) -> None:
        cells, values = row.cells, row.values
        values["name"], values["kind"] = cells.get("name", ""), cells.get("kind", "")
        code = cells.get("credit_code", "").upper().replace(" ", "")
        values["credit_code"] = code or None
        if code:
            problem = uscc.problem(code)
            if problem:
                row.fail("credit_code", code, problem)
        values["address_code"] = cells.get("address_code") or None
        values["contact_name"] = cells.get("contact_name", "")
        values["contact_phone"] = _optional(row, "contact_phone", V.phone)
        values["employees"] = _optional(row, "employees", V.integer, "从业人数", 0, 1_000_000) or 0

    def unique_keys(self, row):
        code = row.values["credit_code"]
        return [("credit_code", code, "统一社会信用代码")] if code else []

    def look_up(self, session, rows):
        codes = [row.values["credit_code"] for row in rows if row.values["credit_code"]]
        existing = _existing(session, Unit.credit_code, codes) if codes else set()
        addresses = [row.values["address_code"] for row in rows if row.values["address_code"]]
        found = _references(session, Address, Address.code, addresses) if addresses else {}
        for row in rows:
            if row.values["credit_code"] in existing:
                row.fail("credit_code", row.values["credit_code"], "统一社会信用代码已存在于数据库")
            code = row.values["address_code"]
            if code:
                if code in found:
                    row.values["address_id"], *reference = found[code]
                    row.reference = tuple(reference)
                else:
                    row.fail("address_code", code, "地址编码不存在：请先导入标准地址")

    def record(self, row):
        values = row.values
        return {"name": values["name"], "credit_code": values["credit_code"], "kind": values["kind"],
                "address_id": values.get("address_id"), "lon": row.lon, "lat": row.lat,
                "contact_name": values["contact_name"], "contact_phone": values["contact_phone"],
                "employees": values["employees"]}


class KeyPersons(Kind):
    name, label, model, columns = "key-persons", "重点人员", KeyPerson, C.KEY_PERSONS

    def parse(self, row) -> None:
        cells, values = row.cells, row.values
        number = _optional(row, "id_number", V.id_number)
        values["id_digest"] = id_digest(self.key, number) if number else None
        values["category"] = cells.get("category", "")
        values["risk_level"] = _optional(row, "risk_level", V.choice, V.RISK_LEVELS,
                                         "风险等级应为 低、中 或 高") or "low"
        values["visit_every_days"] = _optional(row, "visit_every_days", V.integer, "走访周期", 1, 366) or 30
        last = _optional(row, "last_visit_at", V.date, "最近走访日期")
        if last is not None and last > self.today:
            row.fail("last_visit_at", cells["last_visit_at"], "最近走访日期不能晚于今天")
        values["last_visit_at"] = last
        values["note"] = cells.get("note", "")

    def unique_keys(self, row):
        return [("category", (row.values["id_digest"], row.values["category"]), "同一人员的同一类别")]

    def look_up(self, session, rows):
        residents = _references(session, Resident, Resident.id_digest, [row.values["id_digest"] for row in rows])
        pairs = []
        for row in rows:
            found = residents.get(row.values["id_digest"])
            if found is None:
                row.fail("id_number", row.cells.get("id_number", ""), "未找到该身份证号的实有人口：请先导入人口")
                continue
            row.values["resident_id"], *reference = found
            row.reference = tuple(reference)
            pairs.append((found[0], row.values["category"]))
        existing = set()
        for part in chunks(sorted(set(pairs))):
            existing.update(session.execute(select(KeyPerson.resident_id, KeyPerson.category)
                                            .where(tuple_(KeyPerson.resident_id, KeyPerson.category).in_(part))))
        for row in rows:
            if (row.values.get("resident_id"), row.values["category"]) in existing:
                row.fail("category", row.values["category"], f"该人员已登记为“{row.values['category']}”重点人员")

    def record(self, row):
        values = row.values
        last = values["last_visit_at"]
        every = values["visit_every_days"]
        return {"resident_id": values["resident_id"], "category": values["category"],
                "risk_level": values["risk_level"], "note": values["note"], "visit_every_days": every,
                "last_visit_at": city.midnight(last) if last else None,  # the start of that day in the city
                "next_visit_due": last + dt.timedelta(days=every) if last else self.today}


KINDS: dict[str, type[Kind]] = {kind.name: kind for kind in (Addresses, Houses, Residents, Units, KeyPersons)}
