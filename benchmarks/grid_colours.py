"""Benchmark: the 公安 and 消防救援 grid-colour rules answered for every grid at once (`grid_colours`: one
GROUP BY and a walk up the grid tree) against the same rules asked grid by grid (`grid_colour`: one subtree
query per grid, as they were written before), on the demo city's 8,703 grids.

    python benchmarks/grid_colours.py                       # builds a small demo city in a temporary SQLite file
    python benchmarks/grid_colours.py --db sqlite:///minqing.db   # an existing demo database (read only)

Prints both times, the ratio, and checks that both give the same colour and reason to every grid.
"""
from __future__ import annotations

import argparse
import datetime as dt
import random
import tempfile
import time

from sqlalchemy import func, select

from minqing.core import city
from minqing.core.geo import grid_tree
from minqing.plugins.demo_city.build import build_demo
from minqing.core.models import Case, Grid, KeyPerson, utcnow
from minqing.core.platform import Platform
from minqing.core.geo.regions import within
from minqing.plugins import fire_rescue, police


def fire_lane_per_grid(grid, session):
    """消防救援's rule as one query per grid (the former `grid_colour`)."""
    count = session.scalar(
        select(func.count()).select_from(Case)
        .where(Case.theme_key == fire_rescue.FIRE_LANE_THEME, Case.created_at >= utcnow() - fire_rescue.WINDOW,
               Case.status != "voided", Case.grid_id.in_(select(Grid.id).where(within(Grid.code, grid.code))))) or 0
    if count >= fire_rescue.RED_FROM:
        return "red", f"近30日消防通道占用 {count} 起"
    if count >= fire_rescue.YELLOW_FROM:
        return "yellow", f"近30日消防通道占用 {count} 起"
    return None


def overdue_visits_per_grid(grid, session):
    """公安's rule as one query per grid (the former `grid_colour`)."""
    today = city.today(session)
    counts = dict(session.execute(
        select(KeyPerson.risk_level, func.count())
        .where(KeyPerson.grid_id.in_(select(Grid.id).where(within(Grid.code, grid.code))),
               KeyPerson.risk_level.in_(("high", "medium")), KeyPerson.next_visit_due < today)
        .group_by(KeyPerson.risk_level)).all())
    if counts.get("high"):
        return "red", f"高风险重点人员走访逾期 {counts['high']} 人"
    if counts.get("medium"):
        return "yellow", f"中风险重点人员走访逾期 {counts['medium']} 人"
    return None


def per_grid(session) -> dict[str, dict[int, tuple[str, str]]]:
    answers = {"fire": {}, "police": {}}
    for grid in session.scalars(select(Grid).order_by(Grid.id)):
        for name, rule in (("fire", fire_lane_per_grid), ("police", overdue_visits_per_grid)):
            answer = rule(grid, session)
            if answer:
                answers[name][grid.id] = answer
    return answers


def at_once(session) -> dict[str, dict[int, tuple[str, str]]]:
    parents = grid_tree.parents(session)
    return {"fire": fire_rescue.grid_colours(parents, session), "police": police.grid_colours(parents, session)}


def add_fire_lane_reports(platform, count: int = 3_000, seed: int = 1) -> None:
    """Blocked fire lanes in the last 30 days, several in some small grids, so both rules colour grids."""
    chance = random.Random(seed)
    with platform.db.session() as session:
        small = session.execute(select(Grid.id, Grid.region_code).where(Grid.level == "small")).all()
        hot = chance.sample(small, len(small) // 20)
        now = utcnow()
        for _ in range(count):
            grid_id, region_code = chance.choice(hot)
            session.add(Case(theme_key=fire_rescue.FIRE_LANE_THEME, title="消防通道被占", source="grid_worker",
                             status="reported", grid_id=grid_id, region_code=region_code,
                             created_at=now - dt.timedelta(days=chance.uniform(0, 29))))


def timed(call):
    start = time.perf_counter()
    answer = call()
    return time.perf_counter() - start, answer


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", default=None, help="an existing demo database; default: build one")
    parser.add_argument("--residents", type=int, default=20_000, help="residents of the demo city built")
    options = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        platform = Platform(options.db or f"sqlite:///{folder}/bench.db")
        if options.db is None:
            platform.db.upgrade()
            build_demo(platform, residents=options.residents, show_progress=False)
            add_fire_lane_reports(platform)
        with platform.db.session() as session:
            grids = session.scalar(select(func.count()).select_from(Grid))
            slow, old = timed(lambda: per_grid(session))
            fast, new = timed(lambda: at_once(session))
        assert old == new, "the two ways disagree"
        coloured = {name: len(answers) for name, answers in new.items()}
        print(f"{grids} grids, coloured by 消防救援 {coloured['fire']}, by 公安 {coloured['police']}: same answers")
        print(f"grid by grid ({2 * grids} queries): {slow:.2f} s")
        print(f"all at once (2 GROUP BY queries):  {fast:.3f} s")
        print(f"ratio: {slow / fast:.0f}x faster")


if __name__ == "__main__":
    main()
