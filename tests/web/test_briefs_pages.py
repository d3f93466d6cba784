"""研判简报 pages: the dashboard's button publishes a brief of the operator's region, the archive lists what each
viewer's scope covers and serves the files, bad input is refused in Chinese and changes nothing."""
from __future__ import annotations

import datetime as dt
import io

import docx
import pytest
from sqlalchemy import select

from minqing.core.models import AuditRecord, Brief, Case

from tests.fixtures.web import INSIDE, section

REPORTED = dt.datetime(2026, 11, 10, 2, tzinfo=dt.UTC)


@pytest.fixture
def briefs_world(platform, world):
    """Three cases in 永昌路社区 (张掖路街道) in 2026-11 (briefs go to the session's temporary folder)."""
    with platform.db.session() as session:
        for n in range(3):
            session.add(Case(theme_key="urban_management.street_vending", category="市容环境", title="占道经营",
                             source="grid_worker", status="reported", grid_id=world.grids["G620102001001001"],
                             region_code="620102001001", lon=INSIDE[0] + n * 0.01, lat=INSIDE[1],
                             created_at=REPORTED + dt.timedelta(hours=n)))
        session.commit()
    return world


def _publish(client, period="2026-11", format_="docx"):
    return client.post("/manage/briefs", data={"period": period, "format": format_})


def test_the_dashboard_offers_the_button_to_operators_and_the_archive_to_leaders(as_user, briefs_world):
    page = as_user("station").get("/manage/").get_data(as_text=True)
    assert 'id="publish-brief"' in section(page, "briefs") and "生成并发布研判简报" in page
    page = as_user("leader").get("/manage/").get_data(as_text=True)
    assert 'id="publish-brief"' not in page and 'id="brief-archive-link"' in page


def test_publishing_stores_the_brief_lists_it_and_serves_it(platform, as_user, briefs_world):
    station = as_user("station")
    answer = _publish(station)
    assert answer.status_code == 302 and "/manage/briefs#brief-" in answer.headers["Location"]
    page = station.get("/manage/briefs").get_data(as_text=True)
    assert "已发布研判简报：张掖路街道2026年11月社会治理形势研判简报" in page
    with platform.db.session() as session:
        brief = session.scalar(select(Brief))
        assert (brief.region_code, brief.period_key, brief.format) == ("620102001000", "2026-11", "docx")
        assert brief.figures["totals"]["current"]["reported"] == 3
        [audit] = session.scalars(select(AuditRecord).where(AuditRecord.action == "brief.publish")).all()
        assert audit.object_id == str(brief.id) and audit.actor_name == "station"
    assert f'id="brief-{brief.id}"' in section(page, "brief-archive")
    download = station.get(f"/manage/briefs/{brief.id}")
    assert download.status_code == 200 and "attachment" in download.headers["Content-Disposition"]
    assert "brief-620102-2026-11.docx" in download.headers["Content-Disposition"]
    word = docx.Document(io.BytesIO(download.data))
    assert "张掖路街道2026年11月社会治理形势研判简报" in word.paragraphs[0].text


def test_each_scope_sees_its_own_briefs(platform, as_user, briefs_world):
    _publish(as_user("station"), format_="html")
    with platform.db.session() as session:
        brief_id = session.scalar(select(Brief.id))
    other = as_user("jiuquan")                       # 酒泉路街道: another township
    assert 'id="no-briefs"' in other.get("/manage/briefs").get_data(as_text=True)
    assert other.get(f"/manage/briefs/{brief_id}").status_code == 404
    centre = as_user("centre")                       # the city's centre covers every township
    assert f'id="brief-{brief_id}"' in centre.get("/manage/briefs").get_data(as_text=True)
    assert centre.get(f"/manage/briefs/{brief_id}").status_code == 200
    _publish(other, format_="html")
    with platform.db.session() as session:
        theirs = session.scalar(select(Brief).where(Brief.region_code == "620102002000"))
        assert theirs.figures["totals"]["current"]["reported"] == 0    # 永昌路's cases are not 酒泉路's


@pytest.mark.parametrize("period, format_, message", [
    ("2026/11", "docx", "格式不正确"), ("2099-01", "docx", "尚未开始"), ("2026-11", "xlsx", "不支持的格式")])
def test_bad_input_is_refused_in_chinese_and_publishes_nothing(platform, as_user, briefs_world, period, format_,
                                                                message):
    station = as_user("station")
    answer = _publish(station, period, format_)
    assert answer.status_code == 302
    assert message in station.get(answer.headers["Location"]).get_data(as_text=True)
    with platform.db.session() as session:
        assert session.scalar(select(Brief)) is None


def test_leaders_read_but_do_not_publish(platform, as_user, briefs_world):
    assert _publish(as_user("leader")).status_code == 403
    assert as_user("worker").get("/manage/briefs").status_code == 403
    with platform.db.session() as session:
        assert session.scalar(select(Brief)) is None
