"""Uploads through the real interfaces: judged by content, limited in size, cleaned of their GPS position, kept
outside the web root, and served (as downloads browsers do not sniff) only to those who may see the case."""
from __future__ import annotations

import io
import secrets
from pathlib import Path

import pytest
from PIL import Image
from sqlalchemy import func, select

from minqing.core import attachments
from minqing.core.models import Attachment

from tests.fixtures.api import error_of, report, street_vending


@pytest.fixture(autouse=True)
def upload_dir(tmp_path, monkeypatch) -> Path:
    monkeypatch.setenv("MINQING_UPLOAD_DIR", str(tmp_path / "uploads"))
    return tmp_path / "uploads"


def photo(gps: bool = False, format_: str = "JPEG") -> bytes:
    output = io.BytesIO()
    options = {}
    if gps:
        exif = Image.Exif()
        exif[0x8825] = {1: "N", 2: (36.0, 3.0, 0.0), 3: "E", 4: (103.0, 50.0, 0.0)}  # GPSInfo
        exif[0x010F] = "PhoneMaker"
        options["exif"] = exif
    Image.new("RGB", (40, 30), (30, 140, 60)).save(output, format=format_, **options)
    return output.getvalue()


def upload(api, username: str, data: bytes, filename: str = "现场.jpg"):  # noqa: F811
    return api(username).http.post("/api/v1/attachments", headers=api(username).headers(),
                                   data={"file": (io.BytesIO(data), filename)}, content_type="multipart/form-data")


def stored(platform) -> int:
    with platform.db.session() as session:
        return session.scalar(select(func.count(Attachment.id)))


def test_a_png_header_followed_by_html_is_refused_and_nothing_is_kept(api, platform, upload_dir):  # noqa: F811
    for data, name in ((photo(format_="PNG") + b"<html><script>alert(1)</script></html>", "a.png"),
                       (b"\x89PNG\r\n\x1a\n<html><script>alert(1)</script></html>", "b.png"),
                       (b"<svg xmlns='http://www.w3.org/2000/svg' onload='alert(1)'/>", "c.svg"),
                       (b"<html><body>hi</body></html>", "d.jpg")):
        error = error_of(upload(api, "worker", data, name), 422, "upload_rejected")
        assert "file" in error["fields"]
    assert stored(platform) == 0
    assert not upload_dir.exists() or list(upload_dir.iterdir()) == []


def test_size_limits(api, platform, app):  # noqa: F811
    over_file_limit = b"\x89PNG\r\n\x1a\n" + bytes(attachments.DEFAULT_MAX_BYTES)
    error = error_of(upload(api, "worker", over_file_limit, "big.png"), 422, "upload_rejected")
    assert "过大" in error["message"]
    over_request_limit = bytes(app.config["MAX_CONTENT_LENGTH"] + 1)
    error_of(upload(api, "worker", over_request_limit, "huge.jpg"), 413)
    assert stored(platform) == 0


def test_a_citizens_photo_loses_its_gps_position_and_is_kept_outside_the_web_root(
        api, as_user, app, platform, upload_dir):  # noqa: F811
    original = photo(gps=True)
    assert Image.open(io.BytesIO(original)).getexif().get(0x8825)
    answer = upload(api, "citizen", original)
    assert answer.status_code == 201, answer.get_json()
    attachment_id = answer.get_json()["id"]
    with platform.db.session() as session:
        row = session.get(Attachment, attachment_id)
        on_disk = upload_dir / row.storage_key
    assert on_disk.exists()
    for web_root in (Path(app.static_folder), Path(app.root_path)):
        assert web_root.resolve() not in on_disk.resolve().parents
    assert as_user("citizen").get(f"/static/{row.storage_key}").status_code == 404
    served = as_user("citizen").get(f"/work/attachments/{attachment_id}")
    assert served.status_code == 200 and served.mimetype == "image/jpeg"
    kept = Image.open(io.BytesIO(served.data))
    assert not kept.getexif() and "exif" not in kept.info
    assert served.headers["X-Content-Type-Options"] == "nosniff"
    assert served.headers["Content-Disposition"].startswith("inline; filename*=UTF-8''")


def test_a_case_file_is_served_only_to_those_who_may_see_the_case(api, as_user, app, world):  # noqa: F811
    photo_id = upload(api, "worker", photo()).get_json()["id"]
    report(api, "worker", street_vending(**{"details.photos": [photo_id]}))
    pdf = upload(api, "station", b"%PDF-1.4\n%%EOF\n", "通知<1>.pdf").get_json()["id"]   # still unattached
    url = f"/work/attachments/{photo_id}"
    for username in ("worker", "station", "centre", "admin"):  # reporter, its command post, the city centre
        served = as_user(username).get(url)
        assert served.status_code == 200, username
        assert served.headers["X-Content-Type-Options"] == "nosniff"
        assert served.headers["Content-Disposition"].startswith("inline;")
    download = as_user("station").get(f"/work/attachments/{pdf}")
    assert download.status_code == 200 and download.mimetype == "application/pdf"
    assert download.headers["Content-Disposition"].startswith("attachment; filename*=UTF-8''")
    assert "<" not in download.headers["Content-Disposition"]
    # The other township, a department the case was not dispatched to, another grid's worker, a citizen: 404,
    # exactly as for an id that does not exist; the other operator's unattached upload too.
    for username in ("jiuquan", "water", "other_worker", "citizen"):
        assert as_user(username).get(url).status_code == 404, username
        assert as_user(username).get(f"/work/attachments/{secrets.token_hex(16)}").status_code == 404
    assert as_user("worker").get(f"/work/attachments/{pdf}").status_code == 404
    anonymous = app.test_client()
    for target in (url, f"/work/attachments/{secrets.token_hex(16)}"):
        response = anonymous.get(target)
        assert response.status_code == 403 and not response.data.startswith(b"\xff\xd8")
