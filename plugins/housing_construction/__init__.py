"""住建 (housing and construction): the 自建房安全排查 theme, and the checks of the survey that depend on the
calendar or combine several answers in ways a JSON Schema cannot state.

The rules are those of the national self-built housing campaign: a commercially used house of three or more
floors must have an appraisal report; a D-rated house must be taken out of use and its occupants moved out; and
a house cannot have been built in the future.
"""
from __future__ import annotations

from minqing.core import city
from minqing.core.hooks import hookimpl

from .. import theme_files

MINQING_TITLE = "住建 · 自建房安全排查"  # what the admin page and `minqing plugins list` show
MINQING_DESCRIPTION = "自建房安全排查主题及其排查规则。"

SURVEY_THEME = "housing_construction.self_built_housing"
APPRAISAL_FROM_FLOORS = 3


@hookimpl
def register_themes():
    return theme_files.load(__name__)  # fresh documents: the caller may annotate what it is given


@hookimpl
def validate_submission(theme_key, form_key, document, session):
    if theme_key != SURVEY_THEME or form_key != "record":
        return None
    return survey_problems(document, city.today(session).year)


def survey_problems(document: dict, this_year: int) -> list[tuple[str, str]]:
    problems = []
    built = document.get("built_year")
    if isinstance(built, int) and built > this_year:
        problems.append(("built_year", f"建成年份不能晚于今年（{this_year}年）"))
    floors = document.get("floors") or 0
    if document.get("commercial") and floors >= APPRAISAL_FROM_FLOORS:
        if document.get("appraisal") in (None, "未鉴定"):
            problems.append(("appraisal", f"{APPRAISAL_FROM_FLOORS}层及以上经营性自建房必须经过安全鉴定"))
        elif not document.get("appraisal_report"):
            problems.append(("appraisal_report", f"{APPRAISAL_FROM_FLOORS}层及以上经营性自建房须上传鉴定报告"))
    if document.get("appraisal") == "D级":
        missing = [m for m in ("停止使用", "人员撤离") if m not in (document.get("control_measures") or ())]
        if missing:
            problems.append(("control_measures", "D级危房必须" + "并".join(missing)))
    return problems
