"""Checking what a person uploads to start a theme: its size, and that its content is what it claims to be."""
from __future__ import annotations

import io
import zipfile

MAX_BYTES = 2 * 1024 * 1024
XLSX_PARTS = ("[Content_Types].xml", "xl/workbook.xml")


class UploadRefused(ValueError):
    """A file that is not taken, with the reason in Chinese."""


def read_upload(file_storage, kind: str) -> bytes:
    """The bytes of an .xlsx workbook (kind "xlsform") or of a JSON file (kind "json"; what it holds is
    `authoring.load_document`'s to check)."""
    if file_storage is None or not file_storage.filename:
        raise UploadRefused("请选择要导入的文件")
    content = file_storage.read(MAX_BYTES + 1)
    if len(content) > MAX_BYTES:
        raise UploadRefused(f"文件过大：最大 {MAX_BYTES // 1024 // 1024} MB")
    if not content:
        raise UploadRefused("文件是空的")
    return _workbook(content) if kind == "xlsform" else content


def _workbook(content: bytes) -> bytes:
    """An .xlsx is a zip holding a workbook part; anything else (an old .xls, a renamed file) is refused."""
    if not content.startswith(b"PK\x03\x04"):
        raise UploadRefused("不是 Excel 工作簿（.xlsx）文件：请在 Excel/WPS 中另存为 .xlsx 后再导入")
    try:
        with zipfile.ZipFile(io.BytesIO(content)) as archive:
            names = set(archive.namelist())
    except zipfile.BadZipFile:
        raise UploadRefused("文件已损坏，无法作为 .xlsx 工作簿读取") from None
    if not all(part in names for part in XLSX_PARTS):
        raise UploadRefused("压缩包里没有 Excel 工作簿：请上传 XLSForm 表格（.xlsx）")
    return content
