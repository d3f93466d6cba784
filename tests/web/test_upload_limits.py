"""POST /api/v1/attachments is rate limited per API key; files are served with Cache-Control: private, no-store."""
from __future__ import annotations

import io

import pytest
from PIL import Image

from minqing.web import create_app

from tests.fixtures.api import report, street_vending


@pytest.fixture
def upload_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("MINQING_UPLOAD_DIR", str(tmp_path / "uploads"))
    return tmp_path / "uploads"


@pytest.fixture
def app(platform, upload_dir):
    return create_app({"TESTING": True, "WTF_CSRF_ENABLED": False, "RATELIMIT_API_UPLOAD": "2 per minute"},
                      platform=platform)


def photo() -> io.BytesIO:
    output = io.BytesIO()
    Image.new("RGB", (20, 20), (200, 100, 0)).save(output, format="JPEG")
    output.seek(0)
    return output


def upload(api, username: str):
    return api(username).http.post("/api/v1/attachments", headers=api(username).headers(),
                                   data={"file": (photo(), "现场.jpg")}, content_type="multipart/form-data")


def test_uploads_through_the_api_are_rate_limited_per_key(api, upload_dir):
    assert [upload(api, "worker").status_code for _ in range(2)] == [201, 201]
    limited = upload(api, "worker")
    assert limited.status_code == 429 and 1 <= int(limited.headers["Retry-After"]) <= 60
    assert "too_many_requests" in limited.get_data(as_text=True) and "频繁" in limited.get_data(as_text=True)
    assert len(list(upload_dir.iterdir())) == 2   # the refused one was not kept
    assert upload(api, "station").status_code == 201   # another key counts on its own


def test_a_case_file_is_never_kept_in_a_cache(api, as_user):
    photo_id = upload(api, "worker").get_json()["id"]
    report(api, "worker", street_vending(**{"details.photos": [photo_id]}))
    served = as_user("worker").get(f"/work/attachments/{photo_id}")
    assert served.status_code == 200 and served.headers["Cache-Control"] == "private, no-store"
