"""The dashboard's per-channel table (按受理渠道): the 12345 sample feed and a work-end report, counted per channel
within the viewer's scope (docs/channels.md, "Figures"); the case page names a case's channel and order number."""
from __future__ import annotations

import re

from sqlalchemy import select

from minqing.core.actors import system_actor
from minqing.core.models import Case
from minqing.plugins.hotline_12345 import import_orders
from minqing.workflows import report_case

from tests.fixtures.hotline import CSV_FEED, add_booked_address
from tests.fixtures.web import INSIDE, section


def rows(page: str) -> dict[str, list[str]]:
    table = section(page, "by-channel")
    found = {}
    for row in re.findall(r"<tr>(.*?)</tr>", table, re.S):
        cells = re.findall(r"<td>(.*?)</td>", row)
        if cells:
            found[cells[0]] = cells[1:]
    return found


def test_the_dashboard_counts_cases_per_channel_in_scope(platform, world, as_user):
    add_booked_address(platform, world)
    summary = import_orders(platform, CSV_FEED, actor=system_actor("test"))
    assert summary.imported == 4, summary.errors
    with platform.db.session() as session:
        report_case(platform, session, system_actor("worker"), theme_key="urban_management.street_vending",
                    title="占道经营", description="夜市占道", lon=INSIDE[0], lat=INSIDE[1], source="grid_worker")
        session.commit()
    city_wide = rows(as_user("leader").get("/manage/").get_data(as_text=True))
    assert city_wide == {"12345政务服务便民热线": ["4", "—", "—", "—"], "工作端": ["1", "—", "—", "—"]}
    # 酒泉路街道's operator sees the one work order that lies in its township (the heating complaint)
    township = rows(as_user("jiuquan").get("/manage/").get_data(as_text=True))
    assert township == {"12345政务服务便民热线": ["1", "—", "—", "—"]}


def test_the_case_page_names_the_channel_and_its_order_number(platform, world, as_user):
    add_booked_address(platform, world)
    import_orders(platform, CSV_FEED, actor=system_actor("test"))
    with platform.db.session() as session:
        case_id = session.scalar(select(Case.id).where(Case.external_id == "GD202612010001"))
    page = as_user("centre").get(f"/work/cases/{case_id}").get_data(as_text=True)
    assert re.search(r'id="case-channel">12345政务服务便民热线（工单编号 GD202612010001）<', page)
