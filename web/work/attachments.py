"""Files of cases and patrol photos, served only to those who may see the case or what was patrolled or
visited, as downloads that browsers do not sniff; photo thumbnails behind the same check; and a case's files
in the groups its page shows (report, handling feedback)."""
from __future__ import annotations

import dataclasses
import io
from pathlib import Path
from urllib.parse import quote

from flask import Response, abort
from flask_login import current_user
from PIL import Image, ImageOps, UnidentifiedImageError
from sqlalchemy import select

from minqing import themes, workflows
from minqing.core import attachments as storage, scope, storage as object_store
from minqing.core.models import Attachment, Case, Visit

from ..context import db, viewer
from . import blueprint
from .common import case_in_scope

THUMBNAIL_EDGE = 320          # pixels of the longer side
THUMBNAIL_QUALITY = 80


def _permitted(attachment_id: str) -> Attachment:
    """The file, if this viewer may see it: its case in their scope, the record its patrol saw (or the person or
    place its visit saw) in their scope, or their own upload not yet on either."""
    if not current_user.is_authenticated:
        abort(403)  # the same answer for every id, existing or not; never a redirect that a file link follows
    row = db().get(Attachment, attachment_id)
    if row is None:
        abort(404)
    if row.case_id is not None:
        case_in_scope(row.case_id)  # 404 unless the viewer may see the case
    elif row.visit_id is not None:
        _visit_in_scope(row.visit_id)
    elif row.owner_account_id != viewer().account_id:
        abort(404)
    return row


def _visit_in_scope(visit_id: int) -> None:
    """404 unless the viewer may see what the visit saw: a patrol's record as the record's own pages decide
    (`themes.records.get_record`), any other visit as the visits list does (`core.scope` on visits)."""
    visit = db().get(Visit, visit_id)
    if visit is None:
        abort(404)
    if visit.target_kind == themes.patrols.TARGET_KIND:
        try:
            themes.records.get_record(db(), viewer(), visit.target_id)
        except themes.records.RecordNotFound:
            abort(404)
    elif db().scalar(scope.restrict(select(Visit.id).where(Visit.id == visit_id), Visit, viewer())) is None:
        abort(404)


def _private(response: Response) -> Response:
    response.headers["X-Content-Type-Options"] = "nosniff"
    # Photos of residents and their homes: no copy on a shared computer's disk or in the browser's back cache.
    response.headers["Cache-Control"] = "private, no-store"
    return response


def send(row: Attachment) -> Response:
    """The file as its answer: a photo inline, anything else as a download, never sniffed nor kept in a cache.
    The caller has checked that the viewer may see it."""
    response = Response(storage.read(row), mimetype=row.content_type)
    disposition = "inline" if row.content_type.startswith("image/") else "attachment"
    response.headers["Content-Disposition"] = f"{disposition}; filename*=UTF-8''{quote(row.filename)}"
    return _private(response)


@blueprint.get("/attachments/<attachment_id>")
def attachment(attachment_id: str):
    return send(_permitted(attachment_id))


@blueprint.get("/attachments/<attachment_id>/thumbnail")
def attachment_thumbnail(attachment_id: str):
    """A small JPEG of a photo, made once and kept beside the file (in the same store, private like it)."""
    row = _permitted(attachment_id)
    if row.content_type not in storage.PILLOW_FORMATS:
        abort(404)
    response = Response(thumbnail(row), mimetype="image/jpeg")
    response.headers["Content-Disposition"] = "inline"
    return _private(response)


def thumbnail_key(row: Attachment) -> str:
    return f"{Path(row.storage_key).stem}.thumb{THUMBNAIL_EDGE}.jpg"


def thumbnail(row: Attachment) -> bytes:
    """Kept in the uploads store beside the photo, so any node serves the thumbnail another node made. Two
    requests at once both write it; either copy wins, and neither reader sees half of one."""
    uploads, key = object_store.uploads(), thumbnail_key(row)
    try:
        return uploads.get(key)
    except object_store.Missing:
        pass
    data = make_thumbnail(storage.read(row))
    uploads.put(key, data)
    return data


def make_thumbnail(data: bytes) -> bytes:
    """At most THUMBNAIL_EDGE pixels a side, turned upright by its EXIF orientation, as JPEG (transparency on
    white). Stored photos were checked and re-encoded on upload; a file that no longer decodes is a 404."""
    try:
        with Image.open(io.BytesIO(data)) as image:
            if image.width * image.height > storage.MAX_PIXELS:
                abort(404)
            image.draft("RGB", (THUMBNAIL_EDGE, THUMBNAIL_EDGE))  # JPEG: decode at a reduced scale already
            upright = ImageOps.exif_transpose(image)
            upright.thumbnail((THUMBNAIL_EDGE, THUMBNAIL_EDGE), Image.Resampling.LANCZOS)
            if upright.mode in ("RGBA", "LA", "P"):
                rgba = upright.convert("RGBA")
                flat = Image.new("RGB", rgba.size, (255, 255, 255))
                flat.paste(rgba, mask=rgba.getchannel("A"))
                upright = flat
            output = io.BytesIO()
            upright.convert("RGB").save(output, format="JPEG", quality=THUMBNAIL_QUALITY, optimize=True)
            return output.getvalue()
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, Image.DecompressionBombError):
        abort(404)


@dataclasses.dataclass(frozen=True)
class CaseFiles:
    """A case's files as its page shows them: what came with the report, and what handling added (处置反馈,
    co-handlers' feedback), photos apart from other files."""
    report: list[Attachment]
    feedback: list[Attachment]

    @staticmethod
    def photos(rows: list[Attachment]) -> list[Attachment]:
        return [row for row in rows if row.content_type in storage.PILLOW_FORMATS]

    @staticmethod
    def documents(rows: list[Attachment]) -> list[Attachment]:
        return [row for row in rows if row.content_type not in storage.PILLOW_FORMATS]


def case_files(case: Case) -> CaseFiles:
    """The case's files in one query, grouped: those the report's form names are the report's, the rest were
    added while it was handled."""
    rows = db().scalars(select(Attachment).where(Attachment.case_id == case.id)
                        .order_by(Attachment.created_at, Attachment.id)).all()
    named = {item for _path, item in workflows.attachment_refs(_report_form(case), case.form_data)}
    return CaseFiles(report=[row for row in rows if row.id in named],
                     feedback=[row for row in rows if row.id not in named])


def _report_form(case: Case) -> dict | None:
    """The report form the case was filled in against (`case_page.report_schema`; imported here when used, as
    case_page imports this module)."""
    from .case_page import report_schema

    return report_schema(case)
