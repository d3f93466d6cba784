"""Dispatch suggestions (智能分拨): explained by words really in the text, the region's responsibility and
similar closed cases the viewer may see; returns and confirmations teach the model; automatic dispatch only
above a theme's threshold."""
from __future__ import annotations

import copy
import datetime as dt
import io

import pytest
from PIL import Image

from minqing.core import attachments
from minqing.core.actors import system_actor
from minqing.core.departments import by_key, sync_departments
from minqing.core.hooks import hookimpl
from minqing.core.models import Case, CaseEvent, Supervision
from minqing.plugins.urban_management import THEMES as URBAN_THEMES
from minqing.themes.versions import sync_themes
from minqing.workflows import dispatch
from minqing.workflows.dispatch import history

from tests.fixtures.workflow import INSIDE, add_actor, report, step

VENDING = "urban_management.street_vending"
WATER = "water_supply.water_supply_issues"
DISPUTES = "justice.dispute_mediation"
HISTORY = {  # category code → (theme, texts people wrote)
    "1001": (VENDING, ["有人在人行道上摆摊卖水果", "早市摆摊占了半条马路", "小贩摆摊把路堵了", "路边摆摊卖菜的很多"]),
    "5304": (WATER, ["井盖丢了一个大窟窿", "窨井盖松动车一过就响", "井盖子碎了很危险", "路中间井盖儿没了"]),
    "0401": (DISPUTES, ["邻居吵架快打起来了", "楼上楼下因为漏水闹矛盾吵架", "和邻居闹矛盾天天吵", "邻居占过道吵起来"]),
}
STAFFED = ("urban_management_chengguan", "water_supply", "justice")  # the HISTORY categories' departments
OUTSIDE = (104.50, 36.50)   # no grid there: no region, so no operator of a region sees it


@pytest.fixture(autouse=True)
def folders(tmp_path, monkeypatch):
    monkeypatch.setenv("MINQING_MODEL_DIR", str(tmp_path / "models"))
    monkeypatch.setenv("MINQING_UPLOAD_DIR", str(tmp_path / "uploads"))


def _close(platform, case_id, department):
    system = system_actor("test")
    step(platform, case_id, "accept", system)
    step(platform, case_id, "dispatch", system, {"department": department})
    step(platform, case_id, "take", system)
    with platform.db.session() as session:
        picture = io.BytesIO()
        Image.new("RGB", (8, 8), (90, 90, 90)).save(picture, "JPEG")
        photo = attachments.store(session, system, picture.getvalue(), "现场.jpg", case_id=case_id).id
    step(platform, case_id, "feedback", system, {"result": "已处置完毕", "photos": [photo]})
    step(platform, case_id, "confirm", system, {"rating": 5})


def _history(platform, city, *, where=INSIDE) -> dict[str, list[int]]:
    with platform.db.session() as session:
        sync_departments(session, platform.plugins, system_actor("test"))
        for key in STAFFED:   # suggestions go only where someone can act
            add_actor(session, f"staff_{key}", "department_staff", department_id=by_key(session, key).id)
    made: dict[str, list[int]] = {}
    for code, (theme, texts) in HISTORY.items():
        for text in texts:
            case_id = report(platform, city.worker if where == INSIDE else system_actor("test"), theme_key=theme,
                             title=text[:10], description=text, subcategory=code, lon=where[0], lat=where[1])
            if code == "0401":   # dispatched and not returned is enough to learn from (only closed ones are shown)
                step(platform, case_id, "accept", system_actor("test"))
                step(platform, case_id, "dispatch", system_actor("test"), {"department": "water_affairs"})
            else:
                _close(platform, case_id, "urban_management" if code == "1001" else "water_affairs")
            made.setdefault(code, []).append(case_id)
    return made


def _suggest(platform, case_id, viewer):
    with platform.db.session() as session:
        return dispatch.suggest(platform, session, session.get(Case, case_id), viewer=viewer)


def test_suggestions_name_the_category_its_words_and_the_responsible_department(platform, city):
    _history(platform, city)
    text = "小区门口有人摆摊卖菜，占了人行道"
    case_id = report(platform, city.worker, theme_key=VENDING, title="门口摆摊", description=text)
    suggestions = _suggest(platform, case_id, city.station)
    assert len(suggestions) == 3 and [s.rank for s in suggestions] == [1, 2, 3]
    top = suggestions[0]
    assert top.code == "1001" and top.title == "占道经营" and top.parent == "市容环境"
    assert 0 < top.confidence <= 1 and top.confidence >= suggestions[1].confidence
    assert top.words and all(word in "门口摆摊。" + text for word in top.words)
    assert "摆摊" in "".join(top.words)
    # 城关区 street vending goes to the district team by the urban management plugin's regional rule
    assert top.department_key == "urban_management_chengguan"
    assert "城关区城市管理综合执法局" in top.responsibility and "属地" in top.responsibility
    assert top.similar and all(similar.title for similar in top.similar)
    assert "摆摊" in top.reason and top.similar[0].number in top.reason


def test_the_responsibility_follows_the_theme_table_where_no_regional_rule_applies(platform, city):
    _history(platform, city)
    case_id = report(platform, city.worker, theme_key=WATER, title="井盖没了", description="路口的窨井盖没了，很危险")
    top = _suggest(platform, case_id, city.station)[0]
    assert top.code == "5304" and top.department_key == "water_supply"
    assert "供水管网和水质" in top.responsibility and "权责分工" in top.responsibility


def test_similar_cases_are_only_those_the_viewer_may_see(platform, city):
    _history(platform, city)
    far = report(platform, system_actor("test"), theme_key=VENDING, title="路边摆摊", subcategory="1001",
                 description="路边摆摊卖菜的很多，占了人行道", lon=OUTSIDE[0], lat=OUTSIDE[1])
    _close(platform, far, "urban_management")
    with platform.db.session() as session:
        dispatch.train(platform, session)
    case_id = report(platform, city.worker, theme_key=VENDING, title="路边摆摊", description="路边摆摊卖菜的很多")
    shown_to_admin = {similar.id for s in _suggest(platform, case_id, system_actor("test")) for similar in s.similar}
    assert far in shown_to_admin          # it is among the nearest ...
    for viewer in (city.station, city.elsewhere, city.worker):
        shown = {similar.id for s in _suggest(platform, case_id, viewer) for similar in s.similar}
        assert far not in shown           # ... yet out of these viewers' regions, so never shown to them
    assert not {s.id for s in _suggest(platform, case_id, city.elsewhere)[0].similar}


def test_a_return_becomes_a_training_signal(platform, city):
    _history(platform, city)
    text = "有人在桥下面摆摊卖小吃"
    case_id = report(platform, city.worker, theme_key=WATER, title="桥下", description=text, subcategory="5304")
    step(platform, case_id, "accept", city.station)
    step(platform, case_id, "dispatch", city.station, {"department": "water_affairs"})
    with platform.db.session() as session:
        assert case_id in {sample.case_id for sample in history.samples(session)}   # a dispatch that stuck, so far
    step(platform, case_id, "return", city.water, {"reason": "不属于供水问题，是占道经营"})
    with platform.db.session() as session:
        assert case_id not in {sample.case_id for sample in history.samples(session)}  # its category is in doubt
        dispatch.confirm(platform, session, session.get(Case, case_id), city.station, "1001")
    with platform.db.session() as session:
        case = session.get(Case, case_id)
        assert (case.theme_key, case.subcategory, case.status) == (VENDING, "1001", "dispatched")
        assert case.department_id == by_key(session, "urban_management_chengguan").id  # 城关区's district team
        sample = next(sample for sample in history.samples(session) if sample.case_id == case_id)
        assert sample.label == "1001" and sample.weight == history.CORRECTION_WEIGHT
        event = session.query(CaseEvent).filter_by(case_id=case_id, action="dispatch_suggestion").one()
        assert event.data["previous_category"] == "5304" and event.actor_name == "station"
        info = dispatch.train(platform, session)
    assert info.corrections == 1 and info.samples == 13


class AutoTheme:
    """A theme that lets the system dispatch its cases above `min_confidence`."""

    def __init__(self, key, min_confidence):
        self.document = copy.deepcopy(URBAN_THEMES[0])
        self.document.update(key=key, title=f"自动分拨{key}", auto_dispatch={"min_confidence": min_confidence})
        self.document.pop("categories", None)

    @hookimpl
    def register_themes(self):
        return [copy.deepcopy(self.document)]


def test_auto_dispatch_happens_only_above_the_themes_threshold(platform, city):
    _history(platform, city)
    text = "早市摆摊占了半条马路，小贩摆摊把路堵了"
    with platform.db.session() as session:
        dispatch.train(platform, session)
    probe = report(platform, city.worker, theme_key=VENDING, title="摆摊", description=text)
    confidence = _suggest(platform, probe, None)[0].confidence
    assert 0.05 < confidence < 0.99
    platform.plugins.register(AutoTheme("urban_management.auto_low", round(confidence - 0.01, 4)), "auto_low")
    platform.plugins.register(AutoTheme("urban_management.auto_high", round(confidence + 0.01, 4)), "auto_high")
    with platform.db.session() as session:
        sync_themes(platform, session, system_actor("test"))
    below = report(platform, city.worker, theme_key="urban_management.auto_high", title="摆摊", description=text)
    above = report(platform, city.worker, theme_key="urban_management.auto_low", title="摆摊", description=text)
    with platform.db.session() as session:
        assert session.get(Case, below).status == "reported"           # left for a person
        case = session.get(Case, above)
        assert case.status == "dispatched" and case.subcategory == "1001"
        actions = [(event.action, event.actor_name) for event in case.events]
        assert ("dispatch", "系统") in actions and ("dispatch_suggestion", "系统") in actions
        dispatched = next(event for event in case.events if event.action == "dispatch")
        assert "自动分拨" in dispatched.comment


def test_dispatch_accuracy_and_return_rate_are_indicators(platform, city):
    from minqing.workflows import evaluate

    from tests.fixtures.workflow import MONDAY_10AM

    day = dt.timedelta(days=1)
    first = report(platform, city.worker, theme_key=WATER, title="井盖", description="井盖丢了")
    second = report(platform, city.worker, theme_key=WATER, title="摆摊", description="桥下摆摊")
    for case_id in (first, second):
        step(platform, case_id, "accept", city.station)
        step(platform, case_id, "dispatch", city.station, {"department": "water_affairs"})
    step(platform, second, "return", city.water, {"reason": "不是供水问题"})
    step(platform, second, "dispatch", city.station, {"department": "water_affairs"})
    step(platform, second, "return", city.water, {"reason": "仍不是供水问题"})    # returned twice: one case
    with platform.db.session() as session:   # supervised twice: one case too
        session.add_all([Supervision(case_id=first, actor_name="centre", deadline_at=MONDAY_10AM + day * n)
                         for n in (1, 2)])
        session.commit()
        [row] = evaluate(session, by="region", start=MONDAY_10AM.replace(day=1), end=MONDAY_10AM.replace(day=9))
    assert (row.reported, row.dispatched, row.returned, row.supervised) == (2, 2, 1, 1)
    assert row.dispatch_accuracy == 0.5 and row.return_rate == 0.5
