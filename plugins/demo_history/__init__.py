"""Demo history: a few hundred cases of the last 60 days, run through the real workflow engine, so the map, the
inbox and the dashboard of the demo city have something to show (closed, in handling, overdue, reworked), a few
places where cases crowd together (`hotspots`: the hotspot layer and the 研判 brief), and the year before them as
closed cases (`history`), for the dispatch suggestions to learn from.

A live case goes on past 受理 only to a department with a demo account (see `staffed`): a case left with a
department nobody can sign in for would wait for nobody. The others are closed already or wait for dispatch."""
from __future__ import annotations

import datetime as dt
import random

from sqlalchemy import select

from minqing import themes, workflows
from minqing.core import attachments
from minqing.core.actors import system_actor
from minqing.core.hooks import hookimpl
from minqing.core.models import Account, Department, Grid, Role, RoleGrant

from .appeals import seed_appeals
from .duplicates import seed_duplicates
from .history import seed_history
from .hotspots import seed_hotspots
from .joint import seed_joint
from .texts import history_rows, report_text

MINQING_TITLE = "演示历史事件"  # what the admin page and `minqing plugins list` show
MINQING_DESCRIPTION = "演示数据：近 60 天的数百件事件，按真实流程走完。"

CASES = 300
DAY = dt.timedelta(days=1)
# Where a case stops: weights of the final stage reached
STAGES = (("reported", 6), ("registered", 4), ("dispatched", 6), ("handling", 12), ("awaiting_follow_up", 8),
          ("closed", 58), ("reworked", 4), ("voided", 2))
OWN_SHARE = 0.25
OPEN_WITH_DEPARTMENT = ("dispatched", "handling", "awaiting_follow_up", "reworked")


@hookimpl
def seed_demo(platform, session, seed):
    rng = random.Random(seed * 7 + 1)
    registry = themes.registry(platform, session)
    candidates = [theme for theme in registry.themes.values() if theme.categories]
    grids = session.execute(select(Grid.id, Grid.min_lon, Grid.min_lat, Grid.max_lon, Grid.max_lat)
                            .where(Grid.level == "small").order_by(Grid.id)).all()
    actor = system_actor("demo")
    now = dt.datetime.now(dt.UTC).replace(microsecond=0)
    seed_history(platform, session, actor, [theme for theme in candidates if theme.workflow == "standard"], seed,
                 now)
    can_act = staffed(session)
    locator = platform.locator()
    made = 0
    # a quarter of the live cases go to themes a demo account handles, so 城管 has its own work in progress
    own = [theme for theme in candidates if theme.department in can_act]
    bias = random.Random(seed * 31 + 7)
    while made < CASES:
        theme = rng.choice(candidates)
        if own and bias.random() < OWN_SHARE:
            theme = bias.choice(own)
        category = rng.choice(theme.categories)
        grid = rng.choice(grids)
        lon, lat = rng.uniform(grid.min_lon, grid.max_lon), rng.uniform(grid.min_lat, grid.max_lat)
        if locator.locate(lon, lat) is None:
            continue
        reported_at = now - dt.timedelta(days=rng.uniform(0.2, 60))
        title, description = report_text(rng, theme.title, category["title"])
        case = workflows.report_case(
            platform, session, actor, theme_key=theme.key, title=title, description=description, lon=round(lon, 6),
            lat=round(lat, 6), category=category.get("parent", ""), subcategory=category["code"],
            urgency=rng.choices(("normal", "urgent", "critical"), (85, 12, 3))[0],
            source=rng.choice(("grid_worker", "grid_worker", "citizen", "hotline")),
            client_id=f"demo-{seed}-{made}", now=reported_at)
        _advance(platform, session, case, actor, rng, reported_at, category.get("department") or theme.department,
                 can_act)
        made += 1
    session.flush()
    seed_appeals(session, now)  # last month's ranking published with appeals, this month's appeal pending
    seed_joint(platform, session, actor, lambda case: _photo(session, actor, case, rng))  # 协办, 转办, 兜底
    seed_duplicates(platform, session, actor, candidates, now)  # 重复件: merged, undone, one left to decide
    seed_hotspots(platform, session, actor, candidates, random.Random(seed * 13 + 5), now,  # 热点 for the map
                  lambda case, at, department: _advance(platform, session, case, actor, rng, at, department, can_act))


def _photo(session, actor, case, rng) -> list[str]:
    """A small generated picture as the handling evidence (the feedback form requires one)."""
    import io

    from PIL import Image

    output = io.BytesIO()
    Image.new("RGB", (48, 36), (rng.randrange(256), rng.randrange(256), rng.randrange(256))).save(output, "JPEG")
    return [attachments.store(session, actor, output.getvalue(), "处置照片.jpg", case_id=case.id).id]


def staffed(session) -> set[str]:
    """Keys of the departments with an active staff account: where a live demo case may be dispatched."""
    return set(session.scalars(select(Department.key).join(RoleGrant, RoleGrant.department_id == Department.id)
                               .join(Account, Account.id == RoleGrant.account_id)
                               .where(RoleGrant.role == Role.DEPARTMENT_STAFF, Account.is_active.is_(True),
                                      Department.active.is_(True))))


def _advance(platform, session, case, actor, rng, at, department, can_act):
    feedback = {"result": rng.choice(("已现场处置完毕", "已联系责任单位整改到位", "已清理恢复原状")),
                "photos": _photo(session, actor, case, rng)}
    stage = rng.choices([name for name, _ in STAGES], [weight for _, weight in STAGES])[0]
    if stage in OPEN_WITH_DEPARTMENT and department not in can_act:   # nobody could act there: done or waiting
        stage = "closed" if rng.random() < 0.75 else "registered"
    steps = {
        "reported": [],
        "registered": [("accept", {})],
        "dispatched": [("accept", {}), ("dispatch", {"department": department})],
        "handling": [("accept", {}), ("dispatch", {"department": department}), ("take", {})],
        "awaiting_follow_up": [("accept", {}), ("dispatch", {"department": department}), ("take", {}),
                               ("feedback", feedback)],
        "closed": [("accept", {}), ("dispatch", {"department": department}), ("take", {}),
                   ("feedback", feedback),
                   ("confirm", {"rating": rng.choices((5, 4, 3, 2, 1), (60, 20, 10, 6, 4))[0]})],
        "reworked": [("accept", {}), ("dispatch", {"department": department}), ("take", {}),
                     ("feedback", feedback), ("rework", {"reason": "群众反映问题仍未解决"})],
        "voided": [("void", {"reason": "重复上报"})],
    }[stage]
    for name, data in steps:
        at = at + dt.timedelta(hours=rng.uniform(0.5, 30))
        try:
            workflows.transition(platform, session, case, name, actor, data, now=at)
        except workflows.WorkflowError:
            return  # a step the theme's workflow does not have: the case stays where it is


@hookimpl
def register_commands(cli):
    import click

    @cli.command("demo-history-csv")
    @click.argument("out", type=click.Path(dir_okay=False, writable=True))
    @click.option("--cases", default=4000, show_default=True, type=click.IntRange(10, 1_000_000))
    @click.option("--seed", default=1, show_default=True, type=int)
    @click.pass_obj
    def history_csv_command(context, out, cases, seed):
        """Write a generated history of past cases (text, category, department, region, reported_at) over every
        category of this installation's themes, for `minqing dispatch evaluate --from OUT`."""
        import csv

        with context.platform.db.session() as session:
            categories = [{"code": category["code"], "title": category["title"], "theme_title": theme.title,
                           "department": category.get("department") or theme.department}
                          for theme in themes.registry(context.platform, session).themes.values()
                          for category in theme.categories]
        with open(out, "w", encoding="utf-8", newline="") as handle:
            writer = csv.DictWriter(handle, fieldnames=("text", "category", "department", "region", "reported_at"))
            writer.writeheader()
            writer.writerows(history_rows(categories, cases, seed))
        click.echo(f"已生成 {cases} 件历史事件，{len(categories)} 个分类：{out}")
