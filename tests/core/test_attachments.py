"""Uploads are judged by their bytes, cleaned of metadata and kept outside the web root."""
import io

import pytest
from PIL import Image

from minqing.core import attachments


@pytest.fixture(autouse=True)
def upload_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("MINQING_UPLOAD_DIR", str(tmp_path / "uploads"))
    return tmp_path / "uploads"


def image_bytes(format_="JPEG", exif_gps=False) -> bytes:
    image = Image.new("RGB", (32, 24), (200, 30, 30))
    output = io.BytesIO()
    options = {}
    if exif_gps:
        exif = Image.Exif()
        exif[0x8825] = {1: "N", 2: (36.0, 3.0, 0.0), 3: "E", 4: (103.0, 50.0, 0.0)}  # GPSInfo
        exif[0x010F] = "PhoneMaker"
        options["exif"] = exif
    image.save(output, format=format_, **options)
    return output.getvalue()


def test_a_photo_is_kept_without_its_gps_position(session, system, upload_dir):
    original = image_bytes(exif_gps=True)
    assert Image.open(io.BytesIO(original)).getexif().get(0x8825)
    stored = attachments.store(session, system, original, "现场.jpg")
    kept = attachments.read(stored)
    assert stored.content_type == "image/jpeg" and stored.size == len(kept)
    assert not Image.open(io.BytesIO(kept)).getexif()
    assert (upload_dir / stored.storage_key).exists()


def test_a_png_followed_by_html_is_refused(session, system):
    with pytest.raises(attachments.UploadRejected, match="末尾附带"):
        attachments.store(session, system, image_bytes("PNG") + b"<script>alert(1)</script>", "a.png")


def test_type_comes_from_the_content_not_the_name(session, system):
    with pytest.raises(attachments.UploadRejected, match="不支持的文件类型"):
        attachments.store(session, system, b"<html><body>hi</body></html>", "photo.jpg")
    with pytest.raises(attachments.UploadRejected, match="损坏"):
        attachments.store(session, system, b"\xff\xd8\xff" + b"not really a jpeg" * 10, "x.jpg")
    pdf = attachments.store(session, system, b"%PDF-1.4\n%%EOF\n", "整改通知.pdf")
    assert pdf.content_type == "application/pdf"


def test_size_and_accept_limits(session, system):
    with pytest.raises(attachments.UploadRejected, match="过大"):
        attachments.store(session, system, image_bytes(), "a.jpg", max_bytes=100)
    with pytest.raises(attachments.UploadRejected, match="只接受"):
        attachments.store(session, system, b"%PDF-1.4\n", "a.pdf", accept=("image/jpeg", "image/png"))
    with pytest.raises(attachments.UploadRejected, match="为空"):
        attachments.store(session, system, b"", "a.jpg")
