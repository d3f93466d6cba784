"""巡查任务 in the work end: a grid worker's list of records due for patrol, the patrol page (the record masked by
role, the theme's visit form with location and photos) and its submission; a department's own view of its overdue
patrols, flagged patrols and data freshness."""
from __future__ import annotations

from sqlalchemy import func, select

from minqing.core.models import AuditRecord, Visit

from tests.fixtures.ledgers import east_of
from tests.fixtures.web import INSIDE


def _patrol(client, record_id, metres=20, summary="河面清洁，无排污"):
    return client.post(f"/work/patrols/{record_id}?client_id=c-{metres}-{len(summary)}",
                       data={"location-lon": east_of(metres), "location-lat": str(INSIDE[1]),
                             "details-summary": summary})


def test_the_worker_sees_the_task_and_patrols(platform, river, as_user):
    record_id = river()
    worker = as_user("worker")
    listing = worker.get("/work/patrols").get_data(as_text=True)
    assert "巡查任务" in listing and "雁滩河段" in listing and "河道巡查" in listing and "3 天" in listing
    page = worker.get(f"/work/patrols/{record_id}")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "河段名称" in html and "雁滩河段" in html and "巡查情况" in html and "巡查位置" in html
    assert "李建国" in html and "620102198507091010" not in html     # ID numbers are always masked
    answer = _patrol(worker, record_id)
    assert answer.status_code == 302 and answer.headers["Location"].endswith("/work/patrols")
    assert "巡查已记录" in worker.get("/work/patrols").get_data(as_text=True)
    assert "雁滩河段" not in worker.get("/work/patrols").get_data(as_text=True)     # done: no longer a task
    with platform.db.session() as session:
        visit = session.scalar(select(Visit))
        assert (visit.target_kind, visit.target_id, visit.form_data) == ("theme_record", record_id,
                                                                         {"summary": "河面清洁，无排污"})
        assert session.scalar(select(func.count()).select_from(AuditRecord)
                              .where(AuditRecord.action == "theme_record.patrol")) == 1


def test_bad_input_is_refused_with_the_field_named(platform, river, as_user):
    record_id = river()
    worker = as_user("worker")
    answer = worker.post(f"/work/patrols/{record_id}", data={"location-lon": east_of(10),
                                                             "location-lat": str(INSIDE[1]), "details-summary": ""})
    assert answer.status_code == 400 and "巡查情况" in answer.get_data(as_text=True)
    answer = worker.post(f"/work/patrols/{record_id}", data={"details-summary": "正常"})
    assert answer.status_code == 400 and "巡查位置" in answer.get_data(as_text=True)
    with platform.db.session() as session:
        assert session.scalar(select(func.count()).select_from(Visit)) == 0


def test_too_far_refused_or_flagged_for_the_department(platform, river, as_user):
    record_id = river(patrol_distance={"max_m": 100, "policy": "refuse"})
    worker = as_user("worker")
    refused = _patrol(worker, record_id, metres=300)
    assert refused.status_code == 400 and "超过本主题允许的 100 米" in refused.get_data(as_text=True)
    with platform.db.session() as session:
        assert session.scalar(select(func.count()).select_from(Visit)) == 0


def test_a_flagged_patrol_is_shown_to_the_department(platform, river, as_user):
    record_id = river()                                          # default: 200 m, flag
    worker = as_user("worker")
    assert _patrol(worker, record_id, metres=600).status_code == 302
    water = as_user("water").get("/work/patrols").get_data(as_text=True)
    assert "距离异常的巡查" in water and "雁滩河段" in water and "约 600 米" in water
    assert "数据鲜活度" in water and "河道巡查" in water
    assert "雁滩河段" not in as_user("chengguan").get("/work/patrols").get_data(as_text=True)   # another department


def test_out_of_scope_and_other_roles(platform, river, as_user):
    record_id = river()
    other = as_user("other_worker")
    assert "雁滩河段" not in other.get("/work/patrols").get_data(as_text=True)
    assert other.get(f"/work/patrols/{record_id}").status_code == 404
    assert _patrol(other, record_id).status_code == 404
    assert as_user("water").get(f"/work/patrols/{record_id}").status_code == 403
    assert as_user("leader").get("/work/patrols").status_code == 403
    with platform.db.session() as session:
        assert session.scalar(select(func.count()).select_from(Visit)) == 0
