"""Patrol photos (巡查照片): a photo sent with a patrol belongs to that visit; whoever may see the record may open
it and its thumbnail (the department on its patrols view, the record's grid worker on the patrol page), nobody
else; it is no longer a loose upload that another patrol or a report could take."""
from __future__ import annotations

import io

from PIL import Image
from sqlalchemy import select

from minqing.core.models import Attachment, AuditRecord, Visit

from tests.fixtures.ledgers import east_of
from tests.fixtures.web import INSIDE


def _jpeg() -> bytes:
    output = io.BytesIO()
    Image.new("RGB", (640, 480), (30, 120, 200)).save(output, format="JPEG")
    return output.getvalue()


def _patrol_with_photo(client, record_id, client_id="p1"):
    return client.post(f"/work/patrols/{record_id}?client_id={client_id}", content_type="multipart/form-data",
                       data={"location-lon": east_of(15), "location-lat": str(INSIDE[1]),
                             "details-summary": "河面清洁，无排污", "details-photos": (io.BytesIO(_jpeg()), "河面.jpg")})


def _photo(platform) -> tuple[str, int]:
    with platform.db.session() as session:
        row = session.scalar(select(Attachment))
        return row.id, row.visit_id


def test_the_photo_belongs_to_the_visit_and_the_department_sees_it(platform, river, as_user):
    record_id = river()
    worker = as_user("worker")
    assert _patrol_with_photo(worker, record_id).status_code == 302
    photo_id, visit_id = _photo(platform)
    with platform.db.session() as session:
        visit = session.scalar(select(Visit))
        assert visit_id == visit.id and visit.form_data["photos"] == [photo_id]
        audit = session.scalar(select(AuditRecord).where(AuditRecord.action == "theme_record.patrol"))
        assert photo_id in str(audit.details)
    water = as_user("water")
    page = water.get("/work/patrols").get_data(as_text=True)
    assert "最近的巡查" in page and "雁滩河段" in page and "河面清洁" in page
    assert f"/work/attachments/{photo_id}/thumbnail" in page
    assert f"/ledgers/water_affairs.zz_patrolled_river/{record_id}" in page      # the record's own page
    thumbnail = water.get(f"/work/attachments/{photo_id}/thumbnail")
    assert thumbnail.status_code == 200 and thumbnail.mimetype == "image/jpeg"
    assert thumbnail.headers["Cache-Control"] == "private, no-store"
    full = water.get(f"/work/attachments/{photo_id}")
    assert full.status_code == 200 and full.mimetype == "image/jpeg"
    # the grid worker sees the photo in the record's patrol history
    history = worker.get(f"/work/patrols/{record_id}").get_data(as_text=True)
    assert f"/work/attachments/{photo_id}/thumbnail" in history


def test_who_may_not_see_the_record_may_not_see_its_photo(platform, river, as_user):
    record_id = river()
    assert _patrol_with_photo(as_user("worker"), record_id).status_code == 302
    photo_id, _ = _photo(platform)
    for name in ("other_worker", "chengguan", "citizen"):
        client = as_user(name)
        assert client.get(f"/work/attachments/{photo_id}").status_code in (403, 404), name
        assert client.get(f"/work/attachments/{photo_id}/thumbnail").status_code in (403, 404), name
    assert photo_id not in as_user("chengguan").get("/work/patrols").get_data(as_text=True)


def test_a_linked_photo_is_nobodys_loose_upload(platform, river, as_user):
    """A second patrol naming the first one's photo is refused: the photo is the first visit's."""
    from minqing import themes
    from minqing.core.actors import Actor, Grant

    record_id = river()
    assert _patrol_with_photo(as_user("worker"), record_id).status_code == 302
    photo_id, visit_id = _photo(platform)
    with platform.db.session() as session:
        owner = session.get(Attachment, photo_id).owner_account_id
        me = Actor(owner, "网格员", (Grant("grid_worker", grid_code="G620102001001001"),))
        try:
            themes.record_patrol(platform, session, me, record_id, {"summary": "再拍一次"}, float(east_of(5)),
                                 INSIDE[1], [photo_id], client_id="again")
        except themes.PatrolRefused as refused:
            assert list(refused.errors) == ["photos[0]"]
        else:
            raise AssertionError("a photo of another visit was taken again")
        session.rollback()
    assert _photo(platform) == (photo_id, visit_id)
