"""The audit log in Chinese: action names, state titles and case numbers, the raw keys only as small print."""
from __future__ import annotations

import html as html_lib
import re

from sqlalchemy import select

from minqing.core.actors import Actor, actor_for
from minqing.core.audit.labels import ACTION_NAMES
from minqing.core.changes import record_change
from minqing.core.models import Account, Case
from minqing.workflows import report_case, transition

from tests.fixtures.web import INSIDE

ROOT = __import__("pathlib").Path(__file__).resolve().parents[2]


def _actor(session, username: str) -> Actor:
    return actor_for(session, session.scalar(select(Account).where(Account.username == username)), origin="10.0.0.1")


def _row(page: str, text: str) -> str:
    """The table row (the filters above list every action's name) holding `text`."""
    body = page.split("<tbody>", 1)[1]
    return next(row for row in body.split("<tr ") if text in row)


def _cells(row: str) -> list[str]:
    return [re.sub(r"\s+", " ", cell) for cell in re.findall(r"<td>(.*?)</td>", row, re.S)]


def test_case_steps_show_chinese_names_state_titles_and_the_case_number(platform, world, as_user):
    with platform.db.session() as session:
        case = report_case(platform, session, _actor(session, "worker"), theme_key="urban_management.street_vending",
                           title="占道经营", description="夜市占道", lon=INSIDE[0], lat=INSIDE[1], source="grid_worker")
        case_id = case.id
    with platform.db.session() as session:
        case = session.get(Case, case_id)
        transition(platform, session, case, "accept", _actor(session, "station"), {"comment": "受理"})
        number = case.number
    with platform.db.session() as session:
        record_change(session, Actor(None, "测试", (), ""), "attachment.upload", object_type="attachment",
                      object_id="a1b2", summary="上传照片")
    page = html_lib.unescape(as_user("auditor").get("/audit/").get_data(as_text=True))
    accepted = _cells(_row(page, "case.accept"))
    assert accepted[4].startswith("受理立案") and '<small class="raw">case.accept</small>' in accepted[4]
    assert accepted[5].startswith(f"事件 {number}") and "case #" not in accepted[5]
    assert accepted[6].startswith("待受理 → 待分拨<details>")                               # state titles, not keys
    reported = _cells(_row(page, "case.report"))
    assert reported[4].startswith("上报事件") and reported[6].startswith("— → ")
    upload = _cells(_row(page, "attachment.upload"))
    assert upload[4].startswith("上传附件") and upload[5].startswith("附件 a1b2")
    table = page.split("<tbody>", 1)[1]
    assert "registered" not in table and "reported →" not in table


def test_every_action_recorded_in_the_code_has_a_chinese_name():
    """Every literal action passed to record_change / record_case_event anywhere in the code is named."""
    sources = [path for folder in ("core", "workflows", "themes", "web", "plugins", "forms")
               for path in (ROOT / folder).rglob("*.py")]
    literal = re.compile(r'record_change\(\s*[^,]+,\s*[^,]+,\s*"([a-z_.]+)"')
    case_literal = re.compile(r'record_case_event\(\s*[^,]+,\s*[^,]+,\s*[^,]+,\s*"([a-z_]+)"')
    found = set()
    for path in sources:
        text = path.read_text(encoding="utf-8")
        found |= set(literal.findall(text))
        found |= {f"case.{name}" for name in case_literal.findall(text)}
    assert len(found) > 30
    missing = sorted(action for action in found if action not in ACTION_NAMES)
    assert not missing, missing
