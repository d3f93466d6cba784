"""Uploaded files (photos, documents): checked by content, re-encoded, stored outside the web root.

The type is decided by the bytes, never by the name or the browser's word: a file must start with the magic
number of an allowed type and, for images, decode completely. Images are re-encoded, which drops EXIF (GPS
position, camera serial) and anything smuggled after the image data (a PNG header followed by HTML).
"""
from __future__ import annotations

import hashlib
import io
import os
import secrets
from pathlib import Path

from PIL import Image, UnidentifiedImageError
from sqlalchemy.orm import Session

from .actors import Actor
from .changes import record_change
from .models import Attachment

DEFAULT_MAX_BYTES = 10 * 1024 * 1024
MAGIC = {
    "image/jpeg": (b"\xff\xd8\xff",),
    "image/png": (b"\x89PNG\r\n\x1a\n",),
    "image/webp": (b"RIFF",),
    "application/pdf": (b"%PDF-",),
}
PILLOW_FORMATS = {"image/jpeg": "JPEG", "image/png": "PNG", "image/webp": "WEBP"}
EXTENSIONS = {"image/jpeg": ".jpg", "image/png": ".png", "image/webp": ".webp", "application/pdf": ".pdf"}
Image.MAX_IMAGE_PIXELS = 40_000_000  # refuse decompression bombs


class UploadRejected(ValueError):
    """An upload the platform will not keep; the message says why, in Chinese."""


def upload_dir() -> Path:
    """Where files live: MINQING_UPLOAD_DIR, else ./instance/uploads — never under the web app's static files."""
    path = Path(os.environ.get("MINQING_UPLOAD_DIR") or Path.cwd() / "instance" / "uploads")
    path.mkdir(parents=True, exist_ok=True)
    return path


def sniff(data: bytes) -> str | None:
    for content_type, prefixes in MAGIC.items():
        if any(data.startswith(prefix) for prefix in prefixes):
            if content_type == "image/webp" and data[8:12] != b"WEBP":
                continue
            return content_type
    return None


def _clean_image(data: bytes, content_type: str) -> bytes:
    """Decode fully and encode again: only pixels survive (no EXIF, no comments, no trailing payload)."""
    try:
        with Image.open(io.BytesIO(data)) as image:
            image.load()
            if image.format != PILLOW_FORMATS[content_type]:
                raise UploadRejected("文件内容与图片格式不符")
            image.info.clear()
            output = io.BytesIO()
            options = {"quality": 90} if content_type == "image/jpeg" else {}
            image.save(output, format=PILLOW_FORMATS[content_type], **options)
            return output.getvalue()
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, Image.DecompressionBombError) as error:
        raise UploadRejected("图片文件已损坏或不是有效的图片") from error


def difference_hash(data: bytes) -> str | None:
    """dHash of an image: 64 bits (16 hex digits) comparing neighbouring pixels of a 9×8 grey thumbnail. Two
    photos of the same scene, re-encoded or resized, differ in a few bits; None for what is not an image."""
    try:
        with Image.open(io.BytesIO(data)) as image:
            grey = image.convert("L").resize((9, 8), Image.Resampling.LANCZOS)
            pixels = grey.tobytes()   # one byte per pixel in mode L
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, Image.DecompressionBombError):
        return None
    bits = 0
    for row in range(8):
        for column in range(8):
            bits = (bits << 1) | (pixels[row * 9 + column] > pixels[row * 9 + column + 1])
    return f"{bits:016x}"


def _trailing_bytes_in_png(data: bytes) -> bool:
    end = data.find(b"IEND")
    return end >= 0 and len(data) > end + 8


def store(session: Session, actor: Actor, data: bytes, filename: str, *, accept: tuple[str, ...] | None = None,
          max_bytes: int = DEFAULT_MAX_BYTES, case_id: int | None = None) -> Attachment:
    """Check, clean and keep an upload; return its row (the id goes into form documents)."""
    if not data:
        raise UploadRejected("文件为空")
    if len(data) > max_bytes:
        raise UploadRejected(f"文件过大：不能超过 {max_bytes // (1024 * 1024) or 1} MB")
    content_type = sniff(data)
    if content_type is None:
        raise UploadRejected("不支持的文件类型：只接受 JPEG、PNG、WebP 图片或 PDF 文件")
    if accept and content_type not in accept:
        raise UploadRejected(f"此处只接受：{'、'.join(EXTENSIONS.get(kind, kind) for kind in accept)}")
    if content_type == "image/png" and _trailing_bytes_in_png(data):
        raise UploadRejected("图片文件末尾附带了其他内容，已拒收")
    if content_type in PILLOW_FORMATS:
        data = _clean_image(data, content_type)
    attachment_id = secrets.token_hex(16)
    storage_key = attachment_id + EXTENSIONS[content_type]
    (upload_dir() / storage_key).write_bytes(data)
    safe_name = "".join(ch for ch in Path(filename or "file").name if ch.isprintable() and ch not in '"\\/')[:150]
    attachment = Attachment(id=attachment_id, case_id=case_id, owner_account_id=actor.account_id,
                            filename=safe_name or "file", content_type=content_type, size=len(data),
                            sha256=hashlib.sha256(data).hexdigest(), storage_key=storage_key,
                            dhash=difference_hash(data) if content_type in PILLOW_FORMATS else None)
    session.add(attachment)
    record_change(session, actor, "attachment.upload", object_type="attachment", object_id=attachment_id,
                  summary=f"上传文件（{content_type}，{len(data)} 字节）")
    return attachment


def read(attachment: Attachment) -> bytes:
    return (upload_dir() / attachment.storage_key).read_bytes()
