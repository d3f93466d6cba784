"""研判简报 in 小兰民情: the dashboard's button publishes a brief of a month or week for the viewer's region (as
their scope sees it), and the archive lists the published briefs the viewer's scope covers, each downloadable."""
from __future__ import annotations

import io

from flask import abort, flash, redirect, render_template, request, send_file, url_for

from minqing import workflows
from minqing.core import city
from minqing.core.models import Role
from minqing.workflows import briefs

from ..context import db, platform, viewer
from ..permissions import roles_required
from . import blueprint, figures

READERS = (Role.ADMIN, Role.OPERATOR, Role.LEADER)
PUBLISHERS = (Role.ADMIN, Role.OPERATOR)


def form_context() -> dict:
    """What the publishing form (manage/_brief_form.html) needs: on the dashboard and the archive page."""
    return {"can_publish": briefs.archive.may_publish(viewer()), "formats": briefs.render.FORMATS,
            "period": briefs.periods.last_month(city.today(db())).key}


@blueprint.get("/briefs")
@roles_required(*READERS)
def briefs_page():
    return render_template("manage/briefs.html", rows=briefs.archive.published(db(), viewer()),
                           brief_form=form_context())


@blueprint.post("/briefs")
@roles_required(*PUBLISHERS)
def publish_brief():
    session, who = db(), viewer()
    region = figures.viewer_region(session, who)
    if region is None:
        abort(403)   # a grant without a region: no region to brief on
    try:
        period = briefs.periods.parse(request.form.get("period", "")[:20])
        brief = briefs.archive.publish(platform(), session, who, period, request.form.get("format", "")[:8],
                                       region_code=region.code)
        session.commit()
    except workflows.FormInvalid as error:
        session.rollback()
        flash("；".join(m for messages in error.errors.values() for m in messages), "error")
        return redirect(url_for("manage.briefs_page"))
    except briefs.render.PdfUnavailable as error:
        session.rollback()
        flash(str(error), "error")
        return redirect(url_for("manage.briefs_page"))
    flash(f"已发布研判简报：{brief.title}", "info")
    return redirect(url_for("manage.briefs_page") + f"#brief-{brief.id}")


@blueprint.get("/briefs/<int:brief_id>")
@roles_required(*READERS)
def brief_file(brief_id: int):
    brief = briefs.archive.find(db(), viewer(), brief_id)
    if brief is None:
        abort(404)   # outside the viewer's scope it does not exist for them
    return send_file(io.BytesIO(briefs.archive.document(brief)), mimetype=briefs.render.FORMATS[brief.format][1],
                     as_attachment=True, download_name=briefs.archive.file_name(brief))
