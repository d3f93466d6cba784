"""公安 (police): the 治安隐患 theme, a check of reported persons against the resident register, and a grid
colour rule for key persons whose visits are overdue.

The ID check looks residents up by the keyed digest of the number (`masking.id_digest`), so no query ever carries
a plain ID number. A name that differs from the register is refused (a mistyped number points at someone else);
an unknown number is refused only for a tenant, who must be registered (流动人口登记) before renting, while a
suspect or witness from elsewhere may well be unknown. The colour rule is narrower than the platform's default (which counts key persons by risk):
a high-risk key person whose visit is overdue is out of sight of the police, which is what makes a small grid red
(a medium-risk one, yellow); a medium or large grid is judged by the shares of its small grids, as every colour
rule is (`grid_tree.colours_by_share`), so one overdue visit does not colour a whole district.
"""
from __future__ import annotations

from sqlalchemy import func, select

from minqing.core import city
from minqing.core.geo.grid_tree import colours_by_share
from minqing.core.hooks import hookimpl
from minqing.core.privacy.masking import id_digest
from minqing.core.models import KeyPerson, Resident
from minqing.core.settings import lookup_key

from .. import theme_files

MINQING_TITLE = "公安 · 治安隐患"  # what the admin page and `minqing plugins list` show
MINQING_DESCRIPTION = "治安隐患主题、涉事人员与户籍比对及网格着色规则。"

SECURITY_THEME = "police.public_security"


@hookimpl
def register_themes():
    return theme_files.load(__name__)  # fresh documents: the caller may annotate what it is given


@hookimpl
def validate_submission(theme_key, form_key, document, session):
    if theme_key != SECURITY_THEME or form_key != "report":
        return None
    key = lookup_key(session)
    problems = []
    for index, person in enumerate(document.get("persons") or ()):
        number = person.get("id_number")
        if not number:
            continue
        resident = session.scalar(select(Resident).where(Resident.id_digest == id_digest(key, number)))
        path = f"persons/{index}/id_number"
        if resident is None:
            if person.get("role_in_event") == "承租人":
                problems.append((path, "承租人未登记为实有人口，请先办理流动人口登记"))
        elif person.get("name") and person["name"].strip() != resident.name:
            problems.append((f"persons/{index}/name", "姓名与实有人口库中该身份证号的登记姓名不一致"))
    return problems


@hookimpl
def grid_colours(parents, session):
    today = city.today(session)
    overdue = {"high": {}, "medium": {}}
    for grid_id, level, count in session.execute(
            select(KeyPerson.grid_id, KeyPerson.risk_level, func.count())
            .where(KeyPerson.grid_id.is_not(None), KeyPerson.risk_level.in_(("high", "medium")),
                   KeyPerson.next_visit_due < today)
            .group_by(KeyPerson.grid_id, KeyPerson.risk_level)):
        overdue[level][grid_id] = count
    small = {grid_id: ("yellow", f"中风险重点人员走访逾期 {count} 人") for grid_id, count in overdue["medium"].items()}
    small.update({grid_id: ("red", f"高风险重点人员走访逾期 {count} 人") for grid_id, count in overdue["high"].items()})
    return colours_by_share(small, parents, what="重点人员走访逾期")
