"""Uploaded files (photos, documents): checked by content, re-encoded, stored outside the web root (in the uploads
store of core/storage.py: MINQING_UPLOAD_DIR, or the object store every node shares).

The type is decided by the bytes, never by the name or the browser's word: a file must start with the magic
number of an allowed type and, for images, decode completely. Images are re-encoded, which drops EXIF (GPS
position, camera serial) and anything smuggled after the image data (a PNG header followed by HTML).
"""
from __future__ import annotations

import hashlib
import io
import re
import secrets
import threading
import warnings
import zlib
from pathlib import Path

from PIL import Image, ImageFile, ImageOps, UnidentifiedImageError
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from .actors import Actor
from .changes import record_change
from .models import Attachment
from . import storage

DEFAULT_MAX_BYTES = 10 * 1024 * 1024
MAGIC = {
    "image/jpeg": (b"\xff\xd8\xff",),
    "image/png": (b"\x89PNG\r\n\x1a\n",),
    "image/webp": (b"RIFF",),
    "application/pdf": (b"%PDF-",),
}
PILLOW_FORMATS = {"image/jpeg": "JPEG", "image/png": "PNG", "image/webp": "WEBP"}
EXTENSIONS = {"image/jpeg": ".jpg", "image/png": ".png", "image/webp": ".webp", "application/pdf": ".pdf"}
MAX_PIXELS = 40_000_000   # width × height of an upload, read from the header before anything is decoded
# Pillow only warns between 1× and 2× MAX_IMAGE_PIXELS; _open_image makes that warning an error as well.
Image.MAX_IMAGE_PIXELS = MAX_PIXELS
# An error, not a warning, wherever Pillow meets such an image in this process (catch_warnings() per call would
# not be thread-safe); _open_image checks the size from the header itself as well, whatever the filters.
warnings.filterwarnings("error", category=Image.DecompressionBombWarning)
# What a PDF may not hold: scripts, actions run on opening or on a click, embedded files, interactive forms.
# Names may be written with #xx escapes (/J#61vaScript), so they are read after those are decoded.
PDF_ACTIVE = {b"/JavaScript": "脚本（JavaScript）", b"/JS": "脚本（JavaScript）", b"/OpenAction": "打开时自动执行的动作",
              b"/AA": "自动执行的动作", b"/Launch": "启动外部程序的动作", b"/EmbeddedFile": "嵌入的文件",
              b"/EmbeddedFiles": "嵌入的文件", b"/XFA": "XFA 表单", b"/AcroForm": "交互式表单",
              b"/RichMedia": "多媒体内容", b"/SubmitForm": "提交表单的动作", b"/ImportData": "导入数据的动作",
              b"/GoToR": "打开其他文件的动作", b"/GoToE": "打开嵌入文件的动作"}
_PDF_NAME = re.compile(rb"/[A-Za-z0-9#]+")
_PDF_STREAM = re.compile(rb"\bobj\b(?:(?!\bobj\b).){0,2000}?\bstream\r?\n", re.DOTALL)
PDF_UNPACKED_LIMIT = 50 * 1024 * 1024   # bytes of object streams inflated to read them, all together


class UploadRejected(ValueError):
    """An upload the platform will not keep; the message says why, in Chinese."""


def sniff(data: bytes) -> str | None:
    for content_type, prefixes in MAGIC.items():
        if any(data.startswith(prefix) for prefix in prefixes):
            if content_type == "image/webp" and data[8:12] != b"WEBP":
                continue
            return content_type
    return None


def _open_image(data: bytes) -> Image.Image:
    """Open (read the header only) and refuse an image of more than MAX_PIXELS before a byte is decoded: an
    8,900 × 8,900 PNG of a few kilobytes would otherwise take ~80 MB per band and seconds of CPU."""
    try:
        image = Image.open(io.BytesIO(data))
    except (Image.DecompressionBombWarning, Image.DecompressionBombError) as error:
        raise _too_many_pixels() from error
    width, height = image.size
    if width * height > MAX_PIXELS:
        image.close()
        raise _too_many_pixels(width, height)
    return image


def _too_many_pixels(width: int | None = None, height: int | None = None) -> UploadRejected:
    size = f"（{width} × {height}）" if width else ""
    return UploadRejected(f"图片尺寸过大{size}：像素总数不能超过 {MAX_PIXELS // 10_000} 万，请缩小后再上传")


_strict = threading.Lock()


def _load_strictly(image: Image.Image) -> None:
    """Decode every pixel, refusing a truncated file. Pillow's `LOAD_TRUNCATED_IMAGES` is process-wide, and
    WeasyPrint (the briefs' PDFs) turns it on when imported: an upload would then be padded with grey instead of
    refused. It is turned off for this decode, under a lock, so two uploads cannot restore each other's value."""
    with _strict:
        previous, ImageFile.LOAD_TRUNCATED_IMAGES = ImageFile.LOAD_TRUNCATED_IMAGES, False
        try:
            image.load()
        finally:
            ImageFile.LOAD_TRUNCATED_IMAGES = previous


def _clean_image(data: bytes, content_type: str) -> bytes:
    """Decode fully and encode again: only pixels survive (no EXIF, no comments, no trailing payload)."""
    try:
        with _open_image(data) as image:
            _load_strictly(image)
            if image.format != PILLOW_FORMATS[content_type]:
                raise UploadRejected("文件内容与图片格式不符")
            # A phone stores a portrait photo as landscape pixels plus an EXIF orientation; the EXIF is dropped
            # below, so turn the pixels first or the photo is kept lying on its side.
            upright = ImageOps.exif_transpose(image)
            upright.info.clear()
            output = io.BytesIO()
            options = {"quality": 90} if content_type == "image/jpeg" else {}
            upright.save(output, format=PILLOW_FORMATS[content_type], **options)
            return output.getvalue()
    except UploadRejected:
        raise   # already says why (it is a ValueError too, which the next clause would blur)
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


def check_pdf(data: bytes) -> None:
    """Refuse a PDF that can act on the reader's machine (scripts, actions, embedded files, forms).

    PDFs are kept as they are (not re-rendered), so they are read for the names of the active features instead.
    A compressed object stream could hide those names, and a PDF cannot be checked through it without a PDF
    library, so one is refused as well: scanners and "print to PDF" write plain documents that pass."""
    if not data.startswith(b"%PDF-") or b"%%EOF" not in data[-1024:]:
        raise UploadRejected("PDF 文件不完整或已损坏")
    names = set()
    for text in (data, *_object_streams(data)):
        names |= {_pdf_name(raw) for raw in _PDF_NAME.findall(text)}
    found = [label for name, label in PDF_ACTIVE.items() if name in names]
    if found:
        raise UploadRejected(f"PDF 文件含有{'、'.join(dict.fromkeys(found))}，出于安全原因不予接收；"
                             "请另存为（或打印为）不含这些内容的 PDF 后再上传")


def _object_streams(data: bytes):
    """The inflated contents of the PDF's object streams (/Type /ObjStm), where PDF 1.5+ writers put their
    dictionaries, action ones included. One that cannot be inflated (another filter, encryption, too big)
    cannot be checked, so the file is refused."""
    budget = PDF_UNPACKED_LIMIT
    for match in _PDF_STREAM.finditer(data):
        header = match.group(0)
        if b"/ObjStm" not in {_pdf_name(raw) for raw in _PDF_NAME.findall(header)}:
            continue
        end = data.find(b"endstream", match.end())
        inflater = zlib.decompressobj()
        try:
            if b"/FlateDecode" not in header or b"/DecodeParms" in header:
                raise zlib.error("another filter")
            text = inflater.decompress(data[match.end():end if end >= 0 else len(data)], budget + 1)
        except zlib.error:
            raise UploadRejected("PDF 文件含有无法检查的压缩内容（对象流），不予接收；"
                                 "请另存为（或打印为）普通 PDF 后再上传") from None
        budget -= len(text)
        if budget < 0 or inflater.unconsumed_tail:
            raise UploadRejected("PDF 文件解压后过大，无法检查，不予接收")
        yield text


def _pdf_name(raw: bytes) -> bytes:
    """A PDF name with its #xx escapes decoded (/J#61vaScript is /JavaScript)."""
    return re.sub(rb"#([0-9A-Fa-f]{2})", lambda m: bytes([int(m.group(1), 16)]), raw)


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
    else:
        check_pdf(data)
    attachment_id = secrets.token_hex(16)
    storage_key = attachment_id + EXTENSIONS[content_type]
    # the uploads store (core/storage.py): a private local folder (0600 files) or the city's object store
    storage.uploads().put(storage_key, data)
    safe_name = "".join(ch for ch in Path(filename or "file").name if ch.isprintable() and ch not in '"\\/')[:150]
    attachment = Attachment(id=attachment_id, case_id=case_id, owner_account_id=actor.account_id,
                            filename=safe_name or "file", content_type=content_type, size=len(data),
                            sha256=hashlib.sha256(data).hexdigest(), storage_key=storage_key,
                            dhash=difference_hash(data) if content_type in PILLOW_FORMATS else None)
    session.add(attachment)
    record_change(session, actor, "attachment.upload", object_type="attachment", object_id=attachment_id,
                  summary=f"上传文件（{content_type}，{len(data)} 字节）")
    return attachment


def _unclaimed_condition(actor: Actor, case_id: int | None = None):
    """The one test of "an upload the actor may still attach": their own, no visit's photo (a patrol's photo is
    the patrol's), and on no case, or already on `case_id` when that is given."""
    on_case = Attachment.case_id.is_(None)
    if case_id is not None:
        on_case = on_case | (Attachment.case_id == case_id)
    return (Attachment.owner_account_id == actor.account_id) & Attachment.visit_id.is_(None) & on_case


def unclaimed(session: Session, actor: Actor, ids, *, case_id: int | None = None) -> set[str]:
    """Of `ids`, the uploads that are the actor's own and belong to nothing yet (no case, no visit); with
    `case_id`, files of the actor's already on that case count as well (a step's form sent again)."""
    ids = list(ids)
    if not ids:
        return set()
    return set(session.scalars(select(Attachment.id).where(Attachment.id.in_(ids),
                                                           _unclaimed_condition(actor, case_id))))


def pending(session: Session, actor: Actor, case_id: int | None = None) -> list[str]:
    """Ids of the actor's uploads a re-submitted form may keep: those that belong to nothing yet, or, with
    `case_id`, the actor's files on that case."""
    condition = (_unclaimed_condition(actor) if case_id is None
                 else (Attachment.owner_account_id == actor.account_id) & Attachment.case_id.in_([case_id]))
    return list(session.scalars(select(Attachment.id).where(condition)))


def link_to_case(session: Session, actor: Actor, ids, case_id: int) -> None:
    """Make the actor's unclaimed uploads `ids` files of the case (those already on it stay as they are)."""
    ids = list(ids)
    if ids:
        session.execute(update(Attachment).where(Attachment.id.in_(ids), _unclaimed_condition(actor))
                        .values(case_id=case_id))


def link_to_visit(session: Session, actor: Actor, ids, visit_id: int) -> None:
    """Make the actor's unclaimed uploads `ids` the photos of the visit: from then on they are served to whoever
    may see what was visited (web/work/attachments.py), and are no longer anyone's loose upload. The caller's
    audit record of the visit names them."""
    ids = list(ids)
    if ids:
        session.execute(update(Attachment).where(Attachment.id.in_(ids), _unclaimed_condition(actor))
                        .values(visit_id=visit_id).execution_options(synchronize_session="fetch"))


def read(attachment: Attachment) -> bytes:
    return storage.uploads().get(attachment.storage_key)
