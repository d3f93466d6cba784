"""Uploads: image size refused from the header, PDFs that can act refused, files kept private (0600/0700)."""
from __future__ import annotations

import stat
import struct
import zlib

import pytest
from sqlalchemy import func, select

from minqing.core import attachments
from minqing.core.models import Attachment


@pytest.fixture(autouse=True)
def upload_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("MINQING_UPLOAD_DIR", str(tmp_path / "uploads"))
    return tmp_path / "uploads"


def _chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


def header_only_png(width: int, height: int) -> bytes:
    """A 1-bit greyscale PNG whose header says width × height but whose pixel data is a few bytes: decoding it
    would fail as "damaged", so a refusal that speaks of the size proves the header alone was read."""
    header = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", header) + _chunk(b"IDAT", zlib.compress(b"\x00" * 64)) \
        + _chunk(b"IEND", b"")


def count(session) -> int:
    return session.scalar(select(func.count(Attachment.id)))


@pytest.mark.parametrize("side", [8_900, 6_400, 50_000])
def test_an_image_over_the_pixel_limit_is_refused_from_its_header(session, system, upload_dir, side):
    assert side * side > attachments.MAX_PIXELS   # 8,900² lies between 1× and 2×, where Pillow only warned
    with pytest.raises(attachments.UploadRejected, match="像素总数不能超过 4000 万"):
        attachments.store(session, system, header_only_png(side, side), "bomb.png")
    assert count(session) == 0 and (not upload_dir.exists() or not any(upload_dir.iterdir()))


def test_an_image_within_the_limit_is_still_decoded(session, system):
    with pytest.raises(attachments.UploadRejected, match="损坏"):   # the same truncated file, a smaller header
        attachments.store(session, system, header_only_png(6_000, 6_000), "ok.png")


def test_a_truncated_image_is_refused_after_weasyprint_turned_on_truncated_loading(session, system, monkeypatch):
    from PIL import ImageFile

    # what `import weasyprint` does to the whole process (the briefs' PDFs import it)
    monkeypatch.setattr(ImageFile, "LOAD_TRUNCATED_IMAGES", True)
    with pytest.raises(attachments.UploadRejected, match="损坏"):
        attachments.store(session, system, header_only_png(6_000, 6_000), "ok.png")
    assert ImageFile.LOAD_TRUNCATED_IMAGES is True   # given back as it was: WeasyPrint's own images stay as it wants


def pdf(*objects: bytes) -> bytes:
    body = b"%PDF-1.7\n" + b"".join(b"%d 0 obj\n%s\nendobj\n" % (i + 1, o) for i, o in enumerate(objects))
    return body + b"trailer\n<< /Root 1 0 R >>\n%%EOF\n"


def object_stream(inner: bytes) -> bytes:
    packed = zlib.compress(inner)
    return b"<< /Type /ObjStm /N 1 /First 4 /Filter /FlateDecode /Length %d >>\nstream\n%s\nendstream" % (
        len(packed), packed)


PLAIN = pdf(b"<< /Type /Catalog /Pages 2 0 R >>", b"<< /Type /Pages /Kids [] /Count 0 >>")


@pytest.mark.parametrize("document, what", [
    (pdf(b"<< /Type /Catalog /OpenAction 2 0 R >>", b"<< /S /JavaScript /JS (app.alert(1)) >>"), "脚本"),
    (pdf(b"<< /Type /Catalog /OpenAction << /S /Launch /F (cmd.exe) >> >>"), "启动外部程序"),
    (pdf(b"<< /Type /Catalog /Names << /EmbeddedFiles 2 0 R >> >>"), "嵌入的文件"),
    (pdf(b"<< /Type /Catalog /AcroForm << /XFA 2 0 R >> >>"), "XFA"),
    (pdf(b"<< /Type /Catalog /Names << /J#61vaScript 2 0 R >> >>"), "脚本"),   # a #xx-escaped name
    (pdf(b"<< /Type /Catalog >>", object_stream(b"3 0 << /S /JavaScript /JS (app.alert(1)) >>")), "脚本"),
])
def test_a_pdf_that_can_act_is_refused(session, system, document, what):
    with pytest.raises(attachments.UploadRejected, match=what):
        attachments.store(session, system, document, "通知.pdf")
    assert count(session) == 0


def test_a_pdf_whose_object_stream_cannot_be_read_is_refused(session, system):
    hidden = b"<< /Type /ObjStm /N 1 /First 4 /Filter /ASCIIHexDecode >>\nstream\n2F4A53\nendstream"
    with pytest.raises(attachments.UploadRejected, match="无法检查"):
        attachments.store(session, system, pdf(b"<< /Type /Catalog >>", hidden), "通知.pdf")


def test_a_plain_pdf_is_kept_unchanged(session, system):
    with_stream = pdf(b"<< /Type /Catalog /Pages 2 0 R >>", object_stream(b"2 0 << /Type /Pages /Count 0 >>"))
    for document in (PLAIN, with_stream):
        stored = attachments.store(session, system, document, "整改通知.pdf")
        assert attachments.read(stored) == document


def test_files_and_their_directory_are_private_whatever_the_umask(session, system, upload_dir):
    import os
    previous = os.umask(0o022)   # the usual umask, which made files 0644 and directories 0755
    try:
        stored = attachments.store(session, system, PLAIN, "通知.pdf")
    finally:
        os.umask(previous)
    assert stat.S_IMODE(upload_dir.stat().st_mode) == 0o700
    assert stat.S_IMODE((upload_dir / stored.storage_key).stat().st_mode) == 0o600


def test_a_portrait_phone_photo_is_kept_upright_without_its_exif(session, system, upload_dir):
    """Phones store portrait photos as landscape pixels with EXIF orientation 6 (turn 90° clockwise to view)."""
    import io

    from PIL import Image

    landscape = Image.new("RGB", (40, 20), "white")
    landscape.paste((255, 0, 0), (0, 0, 10, 20))        # red on the left edge of the stored pixels
    exif = Image.Exif()
    exif[0x0112] = 6                                     # Orientation: rotate 90° CW
    exif[0x010F] = "PhoneMaker"                          # Make: a field that must not survive
    raw = io.BytesIO()
    landscape.save(raw, format="JPEG", exif=exif.tobytes(), quality=95)
    stored = attachments.read(attachments.store(session, system, raw.getvalue(), "portrait.jpg"))
    with Image.open(io.BytesIO(stored)) as image:
        assert image.size == (20, 40)                    # turned upright: portrait
        red, green, _ = image.convert("RGB").getpixel((10, 2))
        assert red > 200 and green < 60                  # the left edge went to the top, as the viewer saw it
        assert not image.getexif() and "exif" not in image.info
