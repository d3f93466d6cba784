"""研判简报: the figures of a brief checked against direct SQL, each format opened and read back, reproducibility,
the scope of a county, and the CLI."""
from __future__ import annotations

import datetime as dt
import io
import json
from html.parser import HTMLParser

import docx
import pytest
from click.testing import CliRunner
from sqlalchemy import bindparam, text

from minqing.core.cli import build_cli
from minqing.core.models import UTCDateTime
from minqing.workflows import FormInvalid, briefs
from minqing.workflows.briefs import archive, content, periods, render

from tests.fixtures.briefs import (CHENGGUAN, CHENGGUAN_CENTRE, QILIHE, QILIHE_CENTRE, add_case, at, build_city)

NOVEMBER = periods.parse("2026-11")
ADDRESS = "张掖路街道南关什字12号楼"
PHONE = "13912345678"


@pytest.fixture
def town(platform):
    """城关 has 10 cases in 2026-11 (one void), 4 in 2026-10 and 2 in 2025-11; 七里河 5 in 2026-11."""
    with platform.db.session() as session:
        town = build_city(session)
        nov = at(2026, 11, 3)
        add_case(session, town, reported=nov, closed=nov + dt.timedelta(days=1), address=ADDRESS)
        add_case(session, town, reported=nov, closed=nov + dt.timedelta(days=2))
        add_case(session, town, reported=nov, closed=nov + dt.timedelta(days=9))                 # closed late
        for day in (4, 5, 6):                                                                    # open past due
            add_case(session, town, reported=at(2026, 11, day), reporter_phone=PHONE, reporter_name="张建国")
        for _ in range(3):
            add_case(session, town, reported=at(2026, 11, 10), category="供水排水", department="water_affairs",
                     returned=_ < 2)
        add_case(session, town, reported=at(2026, 11, 11), voided=True)
        for day in (1, 2, 3):
            add_case(session, town, reported=at(2026, 10, day), closed=at(2026, 10, day + 1))
        add_case(session, town, reported=at(2026, 10, 20), category="供水排水", department="water_affairs",
                 address=ADDRESS, lon=103.86, lat=36.06)
        add_case(session, town, reported=at(2026, 9, 20), address=ADDRESS, lon=103.87, lat=36.07)
        for day in (7, 8):
            add_case(session, town, reported=at(2025, 11, day))
        for day in range(1, 6):
            add_case(session, town, county=QILIHE, reported=at(2026, 11, day), category="道路交通",
                     reporter_phone=PHONE)
        session.commit()
    return town


def _count(session, where: str, **values) -> int:
    """A count over the period's cases of 城关 (void and merged ones out), written by hand."""
    statement = text(
        "SELECT count(*) FROM cases c LEFT JOIN case_milestones m ON m.case_id = c.id "
        "WHERE c.created_at >= :start AND c.created_at < :end AND c.merged_into_id IS NULL "
        "AND coalesce(m.voided, false) = false AND c.region_code >= '620102' AND c.region_code < '620102:' "
        f"AND ({where})").bindparams(bindparam("start", type_=UTCDateTime()), bindparam("end", type_=UTCDateTime()),
                                     *(bindparam(key, type_=UTCDateTime()) for key in values))
    return session.execute(statement, {"start": NOVEMBER.start, "end": NOVEMBER.end, **values}).scalar()


def _brief(platform, session, viewer=CHENGGUAN_CENTRE, region=CHENGGUAN):
    return content.build(platform, session, viewer, NOVEMBER, region_code=region)


def test_periods_are_months_and_iso_weeks_with_their_comparisons():
    assert (NOVEMBER.first_day, NOVEMBER.last_day) == (dt.date(2026, 11, 1), dt.date(2026, 11, 30))
    assert NOVEMBER.previous().key == "2026-10" and NOVEMBER.a_year_before().key == "2025-11"
    week = periods.parse("2026-W45")
    assert (week.first_day, week.last_day) == (dt.date(2026, 11, 2), dt.date(2026, 11, 8))
    assert week.previous().key == "2026-W44" and week.a_year_before().key == "2025-W45"
    assert periods.parse("2027-W01").previous().key == "2026-W53"
    assert periods.parse("2026-W53").a_year_before().key == "2025-W52"      # 2025 has no week 53
    for wrong, message in (("2026-13", "格式不正确"), ("2025-W53", "没有第 53 周"), ("yesterday", "格式不正确")):
        with pytest.raises(FormInvalid) as refused:
            periods.parse(wrong)
        assert message in refused.value.errors["period"][0]


def test_the_figures_match_direct_queries(platform, session, town):
    brief = _brief(platform, session)
    now = brief["totals"]["current"]
    assert now["reported"] == _count(session, "1 = 1") == 9
    assert now["closed"] == _count(session, "c.closed_at IS NOT NULL") == 3
    assert now["overdue"] == _count(session, "c.closed_at > c.due_at OR (c.closed_at IS NULL AND c.due_at <= :as_of)",
                                    as_of=NOVEMBER.end) == 7
    assert brief["totals"]["previous"]["reported"] == 4 and brief["totals"]["last_year"]["reported"] == 2
    assert brief["provisional"] is False and brief["as_of"] == NOVEMBER.end.isoformat()
    categories = {row["category"]: row for row in brief["categories"]}
    assert categories["市容环境"]["current"] == _count(session, "c.category = '市容环境'") == 6
    assert categories["供水排水"] == {"category": "供水排水", "current": 3, "previous": 1, "last_year": 0,
                                      "trend": [0, 0, 0, 0, 1, 3]}
    by_department = {row["name"]: row for row in brief["departments"]}
    assert by_department["水务"]["returned"] == _count(
        session, "EXISTS (SELECT 1 FROM case_events e WHERE e.case_id = c.id AND e.action = 'return')") == 2
    assert by_department["城管"]["overdue"] == 4


def test_repeat_places_and_reporters_are_found_and_masked(platform, session, town):
    brief = _brief(platform, session)
    [place] = brief["repeat_places"]
    assert place["cases"] == 3 and place["months"] == ["2026-09", "2026-10", "2026-11"]
    assert "12" not in place["address"] and place["address"].startswith("张掖路街道南关什字")
    [person] = brief["repeat_reporters"]
    assert (person["name"], person["phone"], person["cases"]) == ("张**", "139****5678", 3)
    assert PHONE not in json.dumps(brief, ensure_ascii=False) and "张建国" not in json.dumps(brief, ensure_ascii=False)


def test_a_county_sees_only_its_own_cases(platform, session, town):
    chengguan = _brief(platform, session)
    qilihe = _brief(platform, session, QILIHE_CENTRE, QILIHE)
    assert qilihe["totals"]["current"]["reported"] == 5
    assert [row["category"] for row in qilihe["categories"]] == ["道路交通"]
    assert "道路交通" not in {row["category"] for row in chengguan["categories"]}
    assert qilihe["repeat_places"] == []                       # 城关's address is not 七里河's to see
    [person] = qilihe["repeat_reporters"]
    assert person["cases"] == 5                                # the same phone: only 七里河's reports count there
    assert (chengguan["region_name"], qilihe["region_name"]) == ("城关区", "七里河区")


def test_the_same_data_and_period_give_the_same_brief(platform, session, town):
    first = _brief(platform, session)
    later = content.build(platform, session, CHENGGUAN_CENTRE, NOVEMBER, region_code=CHENGGUAN,
                          now=dt.datetime.now(dt.UTC) + dt.timedelta(days=40))
    assert json.dumps(first, sort_keys=True) == json.dumps(later, sort_keys=True)


class _Text(HTMLParser):
    def __init__(self):
        super().__init__()
        self.parts, self.images, self.tables = [], [], 0

    def handle_data(self, data):
        self.parts.append(data)

    def handle_starttag(self, tag, attrs):
        if tag == "img":
            self.images.append(dict(attrs)["src"])
        self.tables += tag == "table"


def test_the_html_brief_states_the_figures_charts_and_definitions(platform, session, town):
    figures, document = archive.generate(platform, session, CHENGGUAN_CENTRE, NOVEMBER, "html",
                                         region_code=CHENGGUAN)
    page = _Text()
    page.feed(document.decode("utf-8"))
    shown = "".join(page.parts)
    assert "城关区2026年11月社会治理形势研判简报" in shown
    assert "本期共上报事件 9 件，较2026年10月+5（+125.0%），较2025年11月+7（+350.0%）" in shown
    assert "附：指标口径" in shown and "DBSCAN" in shown
    assert "139****5678" in shown and PHONE not in shown
    assert page.tables >= 5 and len(page.images) >= 3
    assert all(src.startswith("data:image/png;base64,") for src in page.images)
    assert "<script" not in document.decode("utf-8")


def test_the_word_brief_opens_with_its_tables_and_charts(platform, session, town):
    _, document = archive.generate(platform, session, CHENGGUAN_CENTRE, NOVEMBER, "docx", region_code=CHENGGUAN)
    word = docx.Document(io.BytesIO(document))
    paragraphs = "\n".join(paragraph.text for paragraph in word.paragraphs)
    assert "城关区2026年11月社会治理形势研判简报" in paragraphs and "本期共上报事件 9 件" in paragraphs
    totals = word.tables[0]
    assert [cell.text for cell in totals.rows[1].cells][:3] == ["上报事件（件）", "9", "4"]
    assert len(word.inline_shapes) >= 3
    assert PHONE not in paragraphs


def test_the_pdf_brief_has_the_same_text(platform, session, town):
    import weasyprint  # noqa: F401  (the PDF engine is a dependency; .ci/run installs its Pango)
    import pypdf

    _, document = archive.generate(platform, session, CHENGGUAN_CENTRE, NOVEMBER, "pdf", region_code=CHENGGUAN)
    assert document.startswith(b"%PDF")
    words = "".join(page.extract_text() for page in pypdf.PdfReader(io.BytesIO(document)).pages)
    assert "研判简报" in words and "上报事件" in words


def test_without_a_pdf_engine_the_error_says_what_to_install(monkeypatch):
    import builtins

    real_import = builtins.__import__

    def no_weasyprint(name, *args, **kwargs):
        if name == "weasyprint":
            raise OSError("cannot load library 'libpango-1.0-0'")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_weasyprint)
    with pytest.raises(render.PdfUnavailable, match="未找到 PDF 生成引擎"):
        render.pdf({})


def test_the_command_writes_each_format_and_refuses_bad_input(platform, town, database_url, tmp_path):
    runner = CliRunner()
    for suffix in ("docx", "html"):
        target = tmp_path / f"brief.{suffix}"
        result = runner.invoke(build_cli(), ["--db", database_url, "brief", "--period", "2026-11", "--region", CHENGGUAN,
                                     "-o", str(target)])
        assert result.exit_code == 0, result.output
        assert "城关区2026年11月，上报 9 件" in result.output and target.stat().st_size > 1000
    for arguments, message in (
            (["--period", "2026-11", "-o", str(tmp_path / "brief.txt")], "不支持的输出格式"),
            (["--period", "11/2026", "-o", str(tmp_path / "b.html")], "格式不正确"),
            (["--period", "2026-11", "--region", "999999999999", "-o", str(tmp_path / "b.html")], "不存在"),
            (["--period", "2026-11", "--eps-m", "1", "-o", str(tmp_path / "b.html")], "邻域半径（米）不能小于 10")):
        result = runner.invoke(build_cli(), ["--db", database_url, "brief", *arguments])
        assert result.exit_code != 0 and message in result.output, result.output
    assert not (tmp_path / "b.html").exists()


def test_the_brief_package_is_one_name_of_workflows():
    assert briefs.periods is periods and briefs.archive is archive
