"""政策服务: the policies, service guides and services departments publish — open to everyone, signed in or not."""
from __future__ import annotations

from flask import abort, render_template, request
from sqlalchemy import select

from minqing.core import publications
from minqing.core.models import Department, Publication

from ..context import db
from . import blueprint


@blueprint.get("/publications")
def publication_list():
    keyword = request.args.get("q", "").strip()[:publications.MAX_KEYWORD]
    kind = request.args.get("kind", "")
    area = request.args.get("area", "")
    kind = kind if kind in publications.KINDS else ""
    area = area if area in publications.AREAS else ""
    department = request.args.get("department", "")[:40]
    items = publications.search(db(), keyword=keyword, kind=kind, area=area, department_key=department)
    departments = db().execute(select(Department.key, Department.short_name).where(
        Department.id.in_(select(Publication.department_id).where(Publication.status == publications.PUBLISHED)))
        .order_by(Department.short_name)).all()  # a department with drafts only is not offered as a filter
    return render_template("citizen/publications.html", groups=publications.grouped(items), count=len(items),
                           keyword=keyword, kind=kind, area=area, department=department,
                           kinds=publications.KINDS, areas=publications.AREAS, departments=departments)


@blueprint.get("/publications/<int:publication_id>")
def publication(publication_id: int):
    item = publications.get(db(), publication_id)
    if item is None:
        abort(404)
    return render_template("citizen/publication.html", item=item, blocks=publications.blocks(item.body))
