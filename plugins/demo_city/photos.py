"""Photos for the year of cases (`volume.py`): the standard workflow requires one at 处置反馈 and at 即报即办, so
every such step of a generated case carries one, as an attachment row of its case.

A million cases cannot each have a file of their own without gigabytes of disk, and an attachment row names its
file by `storage_key`, which many rows may share (nothing ever deletes an upload's file). So a small pool of
distinct generated JPEGs (`POOL` files of ~8 kB: about 0.4 MB in all) is written once into the uploads store
(`core.storage`) and each photo row refers to one of them, with the file's own size, SHA-256 and dHash. The pool is
drawn from a fixed seed, so every load writes (or finds) the same files.
"""
from __future__ import annotations

import dataclasses
import hashlib
import io
import random

from PIL import Image, ImageDraw

from minqing.core import storage
from minqing.core.attachments import difference_hash

POOL = 48
SIZE = (480, 360)
KEY = "demo-volume-photo-{:02d}.jpg"


@dataclasses.dataclass(frozen=True)
class Photo:
    storage_key: str
    size: int
    sha256: str
    dhash: str | None


def pool() -> list[Photo]:
    """The pool's photos, written into the uploads store where they are not there yet."""
    store, found = storage.uploads(), []
    for index in range(POOL):
        data = _draw(index)
        key = KEY.format(index)
        if not store.exists(key):
            store.put(key, data)
        found.append(Photo(key, len(data), hashlib.sha256(data).hexdigest(), difference_hash(data)))
    return found


def _draw(index: int) -> bytes:
    """A street scene of sorts: sky, ground, a few blocks and a patch; different enough that no two share a
    dHash, so the duplicate finder does not take two cases for one because of their photos."""
    rng = random.Random(7919 * index + 1)
    width, height = SIZE
    image = Image.new("RGB", SIZE, tuple(rng.randrange(120, 230) for _ in range(3)))
    draw = ImageDraw.Draw(image)
    horizon = rng.randrange(height // 3, 2 * height // 3)
    draw.rectangle((0, horizon, width, height), fill=tuple(rng.randrange(40, 140) for _ in range(3)))
    for _ in range(rng.randrange(3, 8)):
        left, top = rng.randrange(width), rng.randrange(height)
        box = (left, top, left + rng.randrange(20, 160), top + rng.randrange(20, 120))
        shape = draw.rectangle if rng.random() < 0.6 else draw.ellipse
        shape(box, fill=tuple(rng.randrange(256) for _ in range(3)))
    output = io.BytesIO()
    image.save(output, format="JPEG", quality=80)
    return output.getvalue()
