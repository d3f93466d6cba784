"""教育 (education): the 校园周边安全 theme, and dashboard figures of campus-surroundings hazards.

Hazards at the school gate matter most at the school run, so the figure reports the open ones and, of those, the
share found while children were coming or going, computed over the cases the viewer may see.
"""
from __future__ import annotations

from sqlalchemy import select

from minqing.core import scope
from minqing.core.hooks import hookimpl
from minqing.core.models import Case

from .. import theme_files

MINQING_TITLE = "教育 · 校园周边安全"  # what the admin page and `minqing plugins list` show
MINQING_DESCRIPTION = "校园周边安全主题及驾驶舱指标。"

CAMPUS_THEME = "education.campus_surroundings"
FINAL_STATUSES = ("closed", "voided")


@hookimpl
def register_themes():
    return theme_files.load(__name__)  # fresh documents: the caller may annotate what it is given


@hookimpl
def dashboard_figures(viewer, session):
    statement = scope.restrict(select(Case.form_data).where(Case.theme_key == CAMPUS_THEME,
                                                             Case.status.notin_(FINAL_STATUSES)), Case, viewer)
    open_cases = [data or {} for data in session.scalars(statement)]
    school_run = sum(1 for data in open_cases if data.get("during_school_run"))
    schools = len({data.get("school_name") for data in open_cases if data.get("school_name")})
    return [{"key": "education.campus_open", "title": "校园周边安全隐患（未办结）", "value": len(open_cases),
             "unit": "件", "department": "education",
             "detail": f"涉及学校 {schools} 所，其中上下学时段发现 {school_run} 件"}]
