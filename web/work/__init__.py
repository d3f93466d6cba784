"""小兰网格: the work end of grid workers, command centres and departments."""
from flask import Blueprint, abort, redirect, request, url_for

from ..context import viewer
from ..permissions import staff_or_anonymous
from .common import case_in_scope

blueprint = Blueprint("work", __name__, url_prefix="/work")
# Work-end endpoints citizens use from their own pages: a report's photos, the duplicate check while reporting and
# whether the chosen point lies in a grid.
SHARED_WITH_CITIZENS = frozenset({"work.attachment", "work.check_duplicates", "work.locate_point",
                                  "work.attachment_thumbnail"})
# The app's manifest and service worker: files any browser may fetch (they hold nothing of anyone's).
PUBLIC = frozenset({"work.manifest", "work.service_worker"})


@blueprint.before_request
def _staff_only():
    """The work end shows staff names and internal comments the citizen pages leave out: staff roles only. A
    citizen who follows a link to the staff page of their own case lands on its citizen page instead."""
    if request.endpoint in PUBLIC or staff_or_anonymous(SHARED_WITH_CITIZENS):
        return None
    if request.endpoint == "work.case_page" and viewer().has_role("citizen"):
        case = case_in_scope(request.view_args["case_id"])  # 404 unless it is their own
        return redirect(url_for("citizen.case_page", case_id=case.id))
    abort(403)


from . import appeals, attachments, case_page, inbox, my_grid, report, reveal, suggestions  # noqa: E402,F401  (routes register on import)
from . import joint  # noqa: E402,F401  (协同处置)
from . import duplicates  # noqa: E402,F401  (重复件)
from . import publications  # noqa: E402,F401  (政策服务的编写)
from . import case_export  # noqa: E402,F401  (导出事件列表)
from . import patrols  # noqa: E402,F401  (巡查任务: patrols of department records)
from . import households  # noqa: E402,F401  (走村入户: household visits of grid workers and cadres)
from . import matters  # noqa: E402,F401  (帮办实事)
from . import offline  # noqa: E402,F401  (小兰网格 offline: manifest, service worker, outbox sync)
