"""Uploading a photo or PDF before it is named in a form (a report's photos, a feedback's evidence)."""
from __future__ import annotations

import hashlib

from flask import request

from minqing.core import attachments
from minqing.core.models import Role

from ..context import db
from . import idempotency
from .auth import current_actor, roles_required
from .common import IDEMPOTENCY, ref, route
from .errors import ApiError, json_response

# Those who report or handle cases; a leader's read-only overview attaches nothing.
UPLOAD_ROLES = (Role.ADMIN, Role.OPERATOR, Role.DEPARTMENT_STAFF, Role.GRID_WORKER, Role.CITIZEN)


@route("/attachments", ("POST",), summary="上传附件", tags=("cases",), roles=UPLOAD_ROLES,
       description="multipart/form-data 的 file 字段：JPEG、PNG、WebP 图片或 PDF（至多 10 MB）。返回的 id 填入表单的"
                   "附件字段（如 details.photos）；上报或办理时附件随之归入该事件。",
       params=[IDEMPOTENCY], body_content="multipart/form-data",
       body={"type": "object", "required": ["file"], "properties": {"file": {"type": "string", "format": "binary"}}},
       responses={201: ("已接收", ref("Attachment")), 400: ("没有文件", ref("Problem")),
                  422: ("文件被拒收", ref("Problem"))})
@roles_required(*UPLOAD_ROLES, what="上传附件")
def upload_attachment():
    actor = current_actor()
    upload = request.files.get("file")
    if upload is None:
        raise ApiError(400, "file_required", "请以 multipart/form-data 的 file 字段上传文件", {"file": ["未提供文件"]})
    data = upload.read()
    fingerprint = {"filename": upload.filename or "", "sha256": hashlib.sha256(data).hexdigest()}
    key = idempotency.key_of()

    def work():
        try:
            stored = attachments.store(db(), actor, data, upload.filename or "")
        except attachments.UploadRejected as error:
            raise ApiError(422, "upload_rejected", f"文件未被接收：{error}", {"file": [str(error)]}) from None
        db().flush()
        return 201, {"id": stored.id, "filename": stored.filename, "content_type": stored.content_type,
                     "size": stored.size}

    status, answer, replayed = idempotency.run_once(db(), actor, key, "POST", request.path, fingerprint, work)
    db().commit()
    return json_response(answer, status, {idempotency.REPLAYED_HEADER: "true"} if replayed else {})
