"""Files named on the command line are checked by their content, not only their name: a photo passed as a theme
document gets a clear refusal, not a JSON parser's complaint or a traceback."""
from __future__ import annotations

from pathlib import Path

# What the first bytes of each kind look like (after a UTF-8 byte-order mark and blanks, for text kinds).
_ZIP, _OLE = b"PK\x03\x04", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
KIND_NAMES = {".json": "JSON 文档", ".geojson": "GeoJSON 文档", ".csv": "CSV 表格", ".xlsx": "Excel（.xlsx）表格",
              ".xls": "Excel 97-2003（.xls）表格"}


class WrongFileKind(ValueError):
    pass


def check(path: str | Path, allowed: tuple[str, ...]) -> str:
    """The file's suffix (lower case) when its name and its content agree with one of `allowed`; else
    `WrongFileKind` with a Chinese message saying what was expected."""
    path = Path(path)
    suffix = path.suffix.lower()
    expected = "、".join(f"{KIND_NAMES.get(kind, kind)}（{kind}）" for kind in allowed)
    if suffix not in allowed:
        raise WrongFileKind(f"不支持的文件类型“{suffix or '无扩展名'}”：{path.name}；只接受 {expected}")
    with path.open("rb") as handle:
        head = handle.read(4096)
    if not _content_matches(suffix, head):
        raise WrongFileKind(f"{path.name} 的内容不是{KIND_NAMES.get(suffix, suffix)}（文件可能损坏，或扩展名与内容不符）")
    return suffix


def _content_matches(suffix: str, head: bytes) -> bool:
    if suffix == ".xlsx":
        return head.startswith(_ZIP)
    if suffix == ".xls":
        return head.startswith(_OLE)
    text = head.removeprefix(b"\xef\xbb\xbf").lstrip()
    if b"\x00" in head or head.startswith((_ZIP, _OLE, b"\x89PNG", b"\xff\xd8\xff", b"%PDF", b"GIF8")):
        return False
    if suffix in (".json", ".geojson"):
        return text[:1] in (b"{", b"[")
    return True   # .csv: any text
