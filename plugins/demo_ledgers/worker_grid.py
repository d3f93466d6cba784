"""The demo grid worker's own patrol work: a few ledger records in their grid, some overdue, and the patrols that
were made of the others, so `gridworker` finds tasks in 巡查任务 and the department finds patrols in 最近的巡查.

The records are moved there from the city-wide sample (same themes, same values); the patrols are visits of the
kind the patrol service stores (`target_kind="theme_record"`), written in bulk like the rest of the demo."""
from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from minqing.core.models import Account, Department, Grid, RoleGrant, ThemeRecord, Visit

WORKER = "gridworker"
TASKS = 6   # records moved into the worker's grid: half overdue or due soon (tasks), half patrolled (history)
FINDINGS = ("设施完好，周边无安全隐患", "标识清晰，已提醒管理人定期检查", "现场整洁，运行正常")


def place_in_worker_grid(session, sampler, rng, themes_by_key: dict, now: dt.datetime) -> int:
    """Move a few patrolled point records into the demo grid worker's grid; how many were moved."""
    worker = session.scalar(select(Account).where(Account.username == WORKER))
    grid_id = worker and session.scalar(select(RoleGrant.grid_id).where(RoleGrant.account_id == worker.id,
                                                                       RoleGrant.grid_id.is_not(None)))
    grid = session.get(Grid, grid_id) if grid_id else None
    patrolled = [key for key, theme in themes_by_key.items()
                 if theme.patrol_every_days and theme.layer.get("geometry") == "point"]
    if grid is None or grid.geometry is None or not patrolled:
        return 0
    from shapely.geometry import shape

    outline = shape(grid.geometry).buffer(0)
    # records of departments someone can sign in for, so the department's account sees the patrols too
    staffed = set(session.scalars(select(Department.key).join(RoleGrant, RoleGrant.department_id == Department.id)))
    candidates = select(ThemeRecord).where(ThemeRecord.theme_key.in_(patrolled))
    chosen = (session.scalars(candidates.where(ThemeRecord.department_key.in_(staffed))
                              .order_by(ThemeRecord.id).limit(TASKS * 4)).all()
              or session.scalars(candidates.order_by(ThemeRecord.id).limit(TASKS * 4)).all())
    chosen = rng.sample(chosen, min(TASKS, len(chosen)))
    for number, record in enumerate(chosen):
        point = sampler.inside(outline)
        lon, lat = round(point.x, 6), round(point.y, 6)
        every = themes_by_key[record.theme_key].patrol_every_days
        record.lon, record.lat, record.geometry = lon, lat, None
        record.min_lon = record.max_lon = lon
        record.min_lat = record.max_lat = lat
        record.grid_id, record.region_code = grid.id, grid.region_code or ""
        if number % 2:   # patrolled on time, with its visit in the patrol history
            finding = rng.choice(FINDINGS)
            record.last_patrolled_at = now - dt.timedelta(days=rng.uniform(0.1, 0.5) * every)
            session.add(Visit(target_kind="theme_record", target_id=record.id, visitor_account_id=worker.id,
                              grid_id=grid.id, region_code=grid.region_code or "", visited_at=record.last_patrolled_at,
                              lon=lon, lat=lat, summary=finding, form_data={"summary": finding},
                              theme_key=record.theme_key, schema_version=f"{record.theme_key}@patrol",
                              distance_m=round(rng.uniform(3, 40), 1)))
        else:            # a task: overdue, or never patrolled since it was put on the map long ago
            record.last_patrolled_at = now - dt.timedelta(days=rng.uniform(1.1, 2.0) * every)
            record.created_at = min(record.created_at, record.last_patrolled_at - dt.timedelta(days=1))
    session.flush()
    return len(chosen)
