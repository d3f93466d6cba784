"""The one place that limits what a viewer may see. Every query of cases, people, places, grids, themes and
layers goes through `restrict`; pages, the API and exports never filter on their own.

Rules, by role (a viewer with several grants sees the union):
- admin: everything; leader and operator: everything at or under their region (published 研判 briefs by the
  region they cover);
- department staff: their department's cases, the cases they co-handle (协办: an open or answered task of
  their department), and, through themes, their department's records and the early warnings about the
  department or under one of its themes;
- grid worker: what lies in their grid and the grids under it (early warnings of those grids included);
- cadre (村、乡镇干部): the base data (households, residents, ...), grids and regions of their village or
  township subtree, not its cases;
- citizen: only the cases they reported themselves;
- anyone who reported a case may read it (a grid worker reporting in a neighbouring grid opens the case they
  just reported), but acting on a case still needs jurisdiction: `can_see` leaves this reading rule out;
- auditor: nothing here (the audit log has its own page).
"""
from __future__ import annotations

import dataclasses
import datetime as dt

from sqlalchemy import Boolean, Select, and_, false, or_, select, true
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql import ColumnElement
from sqlalchemy.sql.visitors import InternalTraversal

from .actors import Actor
from .models import (Account, Address, Brief, Case, Department, Grid, House, Household, HouseholdCount, KeyPerson,
                     KeyPlace, Person, PracticalMatter, Region, Resident, Role, StoredWarning, StoredWarningFigure,
                     ThemeRecord, ThemeVersion, Unit, Visit, WarningAction)
from .models.cohandling import CoHandlingStatus, CoHandlingTask
from minqing.core.geo.regions import within

# A practical matter (帮办实事) is seen with its household: it carries the household's grid id and region code, kept
# equal to the household's by a trigger (migration 0034), so it is scoped exactly as the household is.
BASE_DATA = (Address, House, Household, HouseholdCount, Resident, KeyPerson, KeyPlace, Unit, Visit, PracticalMatter)
LOCATED = (*BASE_DATA, ThemeRecord)  # rows with grid_id and region_code


class HouseholdPlace:
    """A household's grid id and region code as another row keeps them (a household visit's
    `household_grid_id` and `household_region_code`, kept equal to its household's by triggers: migration 0038),
    scoped exactly as the household is: `restrict(statement, HouseholdPlace(grid_id, region_code), viewer)`."""

    def __init__(self, grid_id, region_code):
        self.grid_id, self.region_code = grid_id, region_code


def _base_data(model) -> bool:
    return model in BASE_DATA or isinstance(model, HouseholdPlace)


def _located(model) -> bool:
    return model in LOCATED or isinstance(model, HouseholdPlace)


class _AmongRows(ColumnElement):
    """`column IN (subquery)`, written for PostgreSQL as `column = ANY(ARRAY(subquery))`: a scope is an OR (their
    own reports, or their grid; their department's cases, or those it co-handles), and inside an OR PostgreSQL
    runs an IN-subquery as a filter on every row, a scan of a year of cases for a grid worker's inbox; the array
    is computed once and the column's index answers it (a bitmap OR with the other arms)."""
    inherit_cache = True
    _traverse_internals = [("column", InternalTraversal.dp_clauseelement),
                           ("subquery", InternalTraversal.dp_clauseelement)]
    type = Boolean()

    def __init__(self, column, subquery: Select):
        self.column, self.subquery = column, subquery.scalar_subquery()


@compiles(_AmongRows)
def _among_rows(element, compiler, **kw):
    return f"{compiler.process(element.column, **kw)} IN {compiler.process(element.subquery, **kw)}"


@compiles(_AmongRows, "postgresql")
def _among_rows_postgresql(element, compiler, **kw):
    return f"{compiler.process(element.column, **kw)} = ANY(ARRAY{compiler.process(element.subquery, **kw)})"


def _grid_subtree(model, grid_code: str) -> ColumnElement[bool]:
    return _AmongRows(model.grid_id, select(Grid.id).where(within(Grid.code, grid_code)))


def condition(model, viewer: Actor) -> ColumnElement[bool]:
    """A WHERE clause: the rows of `model` that `viewer` may see."""
    if viewer.has_role(Role.ADMIN):
        return true()
    clauses = []
    for grant in viewer.grants:
        clause = _grant_condition(model, grant)
        if clause is not None:
            clauses.append(clause)
    return or_(*clauses) if clauses else false()


def _grant_condition(model, grant) -> ColumnElement[bool] | None:
    role = grant.role
    if role in (Role.LEADER, Role.OPERATOR) and grant.region_code:
        if model is Grid or model is Case or _located(model):
            return within(model.region_code, grant.region_code)
        if model is Region:
            return within(Region.code, grant.region_code)
        if model in (WarningAction, StoredWarning, StoredWarningFigure):  # early warnings, by the warning's region
            return within(model.region_code, grant.region_code)
        if model is Brief:  # published 研判 briefs, by the region they cover
            return within(Brief.region_code, grant.region_code)
        if model is Person:
            return Person.region_id.in_(select(Region.id).where(within(Region.code, grant.region_code)))
    if role == Role.DEPARTMENT_STAFF and grant.department_id:
        if model is Case:
            co_handled = select(CoHandlingTask.case_id).where(
                CoHandlingTask.department_id == grant.department_id,
                CoHandlingTask.status.in_((CoHandlingStatus.OPEN, CoHandlingStatus.ANSWERED)))
            return or_(Case.department_id == grant.department_id, _AmongRows(Case.id, co_handled))
        if model is Person:
            return Person.department_id == grant.department_id
        key = grant.department_key or (select(Department.key).where(Department.id == grant.department_id)
                                       .scalar_subquery())
        if model is ThemeRecord:  # the records of the department's themes
            return ThemeRecord.department_key == key
        if model is StoredWarning:  # early warnings about the department, or under one of its themes
            themes = select(ThemeVersion.theme_key).where(ThemeVersion.department_key == key)
            return or_(StoredWarning.department_key == key,
                       and_(StoredWarning.theme_key != "", StoredWarning.theme_key.in_(themes)))
    if role == Role.GRID_WORKER and grant.grid_code:
        if model is Grid:
            return within(Grid.code, grant.grid_code)
        if model is Case or _located(model) or model in (StoredWarning, StoredWarningFigure):
            return _grid_subtree(model, grant.grid_code)
    if role == Role.CADRE and grant.region_code:
        # a cadre answers for the households of a region: its early warnings too (走村不漏户 is theirs)
        if model is Grid or _base_data(model) or model in (StoredWarning, StoredWarningFigure):
            return within(model.region_code, grant.region_code)
        if model is Region:
            return within(Region.code, grant.region_code)
    return None


def restrict(statement: Select, model, viewer: Actor) -> Select:
    """Add the viewer's scope to a SELECT over `model`: what the viewer may read, their own reports included."""
    return _restrict(statement, model, viewer, reporter_reads=True)


def _restrict(statement: Select, model, viewer: Actor, *, reporter_reads: bool) -> Select:
    reporter = viewer.has_role(Role.CITIZEN) or reporter_reads
    if model is Case and reporter and viewer.account_id is not None:
        own = Case.reporter_account_id == viewer.account_id
        return statement.where(or_(own, condition(model, viewer)))
    if model is Account and not viewer.has_role(Role.ADMIN):
        return statement.where(Account.id == viewer.account_id)
    return statement.where(condition(model, viewer))


def shared_key(viewer: Actor) -> tuple:
    """A key equal for two viewers exactly when `condition` gives them the same rows of every model (it reads
    nothing but their grants): a result computed for one within their jurisdiction may be kept for the other.
    Their own reports outside it (`restrict` lets each read theirs) are not in the key: see
    `reported_beyond`."""
    if viewer.has_role(Role.ADMIN):
        return (Role.ADMIN,)
    return tuple(sorted({dataclasses.astuple(grant) for grant in viewer.grants}, key=repr))


def reported_beyond(session, viewer: Actor, start: dt.datetime, end: dt.datetime) -> bool:
    """Whether the viewer reported a case created in [start, end) outside their jurisdiction: `restrict` lets
    them read it, so what they see of that window's cases is more than what their grants alone give."""
    if viewer.account_id is None or viewer.has_role(Role.ADMIN):
        return False
    return session.scalar(select(Case.id).where(Case.reporter_account_id == viewer.account_id,
                                                Case.created_at >= start, Case.created_at < end,
                                                ~condition(Case, viewer)).limit(1)) is not None


def can_see(session, model, row_id, viewer: Actor) -> bool:
    """Whether one row (by primary key) is within the viewer's jurisdiction, before acting on it: a citizen's own
    cases count, a staff member's own reports elsewhere do not (they may read them, not handle them)."""
    statement = _restrict(select(model.id).where(model.id == row_id), model, viewer, reporter_reads=False)
    return session.scalar(statement) is not None
