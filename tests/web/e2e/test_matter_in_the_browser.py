"""帮办实事 from promise to result in real Chromium at phone width (390×844): a village cadre picks a household of
their village, promises a matter for its resident with a deadline, starts it and records the result; the resident,
signed in on 小兰帮办, sees the matter and its result. Every page fits the phone's width."""
from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from minqing.core.models import AuditRecord, PracticalMatter

from tests.fixtures import key_grids as kg


@pytest.fixture
def world(platform):
    """The server fixture serves this city (its `world`)."""
    return kg.build(platform)


def _fits(page) -> None:
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, f"{page.url} is {width} px wide on a 390 px phone"


def test_a_matter_from_promise_to_result_on_the_phone(server, open_page, sign_in, platform, world):
    deadline = (dt.date.today() + dt.timedelta(days=10)).isoformat()
    cadre, _ = open_page(phone=True)
    sign_in(cadre, "committee", kg.PASSWORD)
    cadre.goto(f"{server}/work/matters")
    _fits(cadre)
    cadre.select_option("#choose-household select[name=household_id]", str(world.households["a"]))
    cadre.click("#choose-household button[type=submit]")
    cadre.wait_for_load_state("networkidle")
    cadre.select_option("#promise-form select[name=resident_id]", str(world.residents["a"]))
    cadre.fill("#promise-form input[name=title]", "帮助申领高龄补贴")
    cadre.fill("#promise-form textarea[name=detail]", "老人行动不便，代为递交材料")
    cadre.fill("#promise-form input[name=deadline]", deadline)
    _fits(cadre)
    cadre.click("#promise-form button[type=submit]")
    cadre.wait_for_load_state("networkidle")
    assert "帮办实事已登记" in cadre.content()
    assert cadre.locator("#matter-status").inner_text().startswith("已承诺")
    cadre.click("#start-matter")
    cadre.wait_for_load_state("networkidle")
    assert cadre.locator("#matter-status").inner_text().startswith("办理中")
    cadre.fill("#finish-form textarea[name=result]", "材料已递交，补贴12月起按月发放")
    _fits(cadre)
    cadre.click("#finish-form button[type=submit]")
    cadre.wait_for_load_state("networkidle")
    assert cadre.locator("#matter-status").inner_text().startswith("已办结")
    assert "补贴12月起按月发放" in cadre.locator("#matter-result").inner_text()
    assert cadre.locator("#matter-actions").count() == 0

    resident, _ = open_page(phone=True)
    sign_in(resident, "citizen", kg.PASSWORD)
    resident.goto(f"{server}/citizen/")
    resident.click("text=我的帮办实事")
    resident.wait_for_load_state("networkidle")
    row = resident.locator("#citizen-matters tbody tr").first
    assert "帮助申领高龄补贴" in row.inner_text() and "已办结" in row.inner_text()
    assert "补贴12月起按月发放" in row.inner_text()
    _fits(resident)

    with platform.db.session() as session:
        matter = session.scalar(select(PracticalMatter))
        assert (matter.status, matter.owner_account_id, matter.resident_id) == (
            "done", world.accounts["committee"], world.residents["a"])
        actions = session.scalars(select(AuditRecord.action).where(AuditRecord.action.like("matter.%"))
                                  .order_by(AuditRecord.id)).all()
        assert actions == ["matter.promise", "matter.start", "matter.finish"]
