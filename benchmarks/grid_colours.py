"""Benchmark: recolouring every grid 红/黄/蓝 (`themes.colours.recompute_grid_colours`, the hourly task) against
the same colours computed set-based by hand, on a grid tree the shape of Lanzhou's (110 large grids, 1,100 medium,
7,700 small; `--scale tiny`: 10 large grids).

The data: open cases (a tenth of them overdue), closed cases, blocked fire lanes of the last 30 days piled up in
a twentieth of the small grids, and key persons of every risk level, some with a visit overdue (`--scale`:
2,000, 30,000 or 200,000 cases and a tenth as many key persons). The rules are the built-in plugins' (the default
rule `grid_colour_rule`, 公安 `dept_police`, 消防救援 `dept_fire_rescue`): a small grid by what lies in it, a
medium or large grid by the shares of its small grids, the most severe answer winning.

- ours: `recompute_grid_colours(platform, session, actor)`: each plugin's `grid_colours` answer through the
  plugin host (4 GROUP BY queries and a walk up the tree each), combined, the changed grids updated, one audit record;
- baseline (`hand_written`): one GROUP BY over cases (overdue and fire-lane counts side by side), one over key
  persons (by risk level, with the overdue visits), one walk up the tree tallying all three rules at once, the
  changed grids written by one executemany UPDATE and the same audit record.

Two figures: every grid starts blue without a reason before each run (not timed), so both sides write every grid
(the colours and reasons stored are checked equal); then the hourly run, the colours already stored, so nothing
changes and the figure is the computing alone.

    python -m benchmarks.grid_colours [--scale small] [--db URL]      # --db: a database of its own (EMPTIED)
"""
from __future__ import annotations

import collections
import datetime as dt
import random

from shapely.geometry import box, mapping
from sqlalchemy import and_, bindparam, case, func, insert, or_, select, update

from minqing.core import city
from minqing.core.actors import system_actor
from minqing.core.changes import record_change
from minqing.core.geo.grid_tree import shares, upper_grid_colour
from minqing.core.models import Case, Grid, GridColour, KeyPerson, Region, Resident, utcnow
from minqing.core.platform import Platform
from minqing.plugins import fire_rescue
from minqing.themes.colour_plugin import FINAL_STATUSES, small_grid_colour
from minqing.themes.colours import combine, recompute_grid_colours

from .harness import ROUNDS, Figure, best_times, run_alone

BLUE = GridColour.BLUE.value
FIRE_WHAT, POLICE_WHAT = "消防通道反复占用", "重点人员走访逾期"   # what the plugins lead an upper grid's reason with


def build(url: str, large: int, cases: int, seed: int = 2260) -> None:
    """A grid tree the shape of Lanzhou's (each large grid with 10 medium grids of 7 small ones: 110 large grids
    make 8,910, Lanzhou has 8,703), and the cases and key persons the rules look at. The rules read no outline:
    every grid gets the same small square."""
    platform = Platform(url, load_plugins=False)
    chance = random.Random(seed)
    now, today = utcnow(), city.today()
    square = mapping(box(103.8, 36.0, 103.801, 36.001))
    with platform.db.engine.begin() as connection:
        city_region = connection.execute(insert(Region).values(code="620100000000", name="兰州市", level="city")
                                    .returning(Region.id)).scalar_one()
        above = [None]
        for level, children in (("large", large), ("medium", 10), ("small", 7)):
            rows = [{"code": f"G{parent or 0}-{n}", "name": f"{level}{n}", "level": level, "parent_id": parent,
                     "region_id": city_region, "region_code": "620100000000", "geometry": square}
                    for parent in above for n in range(large if parent is None else children)]
            above = connection.execute(insert(Grid).returning(Grid.id, sort_by_parameter_order=True), rows
                                       ).scalars().all()
        small = [(grid_id, "620100000000") for grid_id in above]
        hot = chance.sample(small, len(small) // 20)
        rows = []
        for n in range(cases):
            grid_id, region = chance.choice(hot if n % 10 == 0 else small)
            row = {"theme_key": "hotline.general_appeals", "title": "群众诉求", "source": "grid_worker",
                   "status": "processing", "grid_id": grid_id, "region_code": region,
                   "created_at": now - dt.timedelta(days=chance.uniform(0, 90)),
                   "due_at": now + (dt.timedelta(hours=-chance.uniform(1, 48)) if n % 10 == 1
                                    else dt.timedelta(days=chance.uniform(1, 10)))}
            if n % 10 == 0:   # a blocked fire lane of the last 30 days, in a few grids
                row.update(theme_key=fire_rescue.FIRE_LANE_THEME, title="消防通道被占", due_at=None,
                           status="voided" if n % 70 == 0 else "reported",
                           created_at=now - dt.timedelta(days=chance.uniform(0, 29)))
            elif n % 10 in (2, 3, 4):
                row.update(status="closed", closed_at=now - dt.timedelta(days=1),
                           due_at=now - dt.timedelta(days=2))
            rows.append(row)
        connection.execute(insert(Case), rows)
        people = max(cases // 10, 1)
        first = connection.execute(insert(Resident).values(
            name="重点人员", id_number="", id_digest="first", gender="male", birth_date=dt.date(1980, 1, 1),
            region_code=small[0][1]).returning(Resident.id)).scalar()
        connection.execute(insert(Resident), [{"name": "重点人员", "id_number": "", "id_digest": f"d{n}",
                                               "gender": "male", "birth_date": dt.date(1980, 1, 1),
                                               "region_code": small[0][1]} for n in range(1, people)])
        persons = []
        for n in range(people):
            grid_id, region = chance.choice(small)
            persons.append({"resident_id": first + n, "category": "社区矫正", "grid_id": grid_id,
                            "region_code": region, "risk_level": chance.choice(("low", "low", "medium", "high")),
                            "next_visit_due": today + dt.timedelta(days=chance.randint(-20, 40))})
        connection.execute(insert(KeyPerson), persons)
        if connection.dialect.name == "postgresql":
            connection.exec_driver_sql("ANALYZE")
    platform.close()


# -- the baseline --------------------------------------------------------------------------------------------------

def hand_written(session) -> dict[str, int]:
    """The same colours as the three plugins', set-based: two GROUP BY queries, one walk up the tree, one UPDATE."""
    now, today = utcnow(), city.today(session)
    overdue = and_(Case.closed_at.is_(None), Case.status.notin_(FINAL_STATUSES),
                   or_(Case.due_at < now, Case.state_deadline_at < now))
    fire = and_(Case.theme_key == fire_rescue.FIRE_LANE_THEME, Case.created_at >= now - fire_rescue.WINDOW,
                Case.status != "voided")
    cases = {grid_id: (late, lanes) for grid_id, late, lanes in session.execute(
        select(Case.grid_id, func.sum(case((overdue, 1), else_=0)), func.sum(case((fire, 1), else_=0)))
        .where(Case.grid_id.is_not(None), or_(overdue, fire)).group_by(Case.grid_id))}
    persons = collections.defaultdict(lambda: {"high": (0, 0), "medium": (0, 0)})
    for grid_id, level, count, late in session.execute(
            select(KeyPerson.grid_id, KeyPerson.risk_level, func.count(),
                   func.sum(case((KeyPerson.next_visit_due < today, 1), else_=0)))
            .where(KeyPerson.grid_id.is_not(None), KeyPerson.risk_level.in_(("high", "medium")))
            .group_by(KeyPerson.grid_id, KeyPerson.risk_level)):
        persons[grid_id][level] = (count, late)
    grids = session.execute(select(Grid.id, Grid.parent_id, Grid.colour, Grid.colour_reason)).all()
    parents = {grid_id: parent for grid_id, parent, _, _ in grids}
    leaves = set(parents) - set(parents.values())
    answers: dict[int, list[tuple[str, str]]] = {}
    tally = collections.defaultdict(lambda: (collections.Counter(), collections.Counter(), collections.Counter()))
    below = collections.Counter()   # (parent, the three rules' colours of a leaf) → leaves
    for leaf in leaves:
        late, lanes = cases.get(leaf, (0, 0))
        (high, high_late), (medium, medium_late) = persons[leaf]["high"], persons[leaf]["medium"]
        # in the plugins' order: the default rule first (tryfirst), then 公安, then 消防救援
        found = [small_grid_colour(late, high, medium)]
        if high_late or medium_late:
            found.append(("red", f"高风险重点人员走访逾期 {high_late} 人") if high_late
                         else ("yellow", f"中风险重点人员走访逾期 {medium_late} 人"))
        if lanes >= fire_rescue.YELLOW_FROM:
            found.append(("red" if lanes >= fire_rescue.RED_FROM else "yellow", f"近30日消防通道占用 {lanes} 起"))
        answers[leaf] = found
        below[parents[leaf], (found[0][0], found[1][0] if high_late or medium_late else BLUE,
                              found[-1][0] if lanes >= fire_rescue.YELLOW_FROM else BLUE)] += 1
    for (grid_id, values), count in below.items():   # the leaves counted by parent first, then carried up
        seen = set()
        while grid_id is not None and grid_id not in seen:
            seen.add(grid_id)
            for counter, value in zip(tally[grid_id], values):
                counter[value] += count
            grid_id = parents.get(grid_id)
    red_share, yellow_share = shares()
    for grid_id, (default, visits, lanes) in tally.items():
        found = answers[grid_id] = [upper_grid_colour(default, red_share, yellow_share)]
        for counts, what in ((visits, POLICE_WHAT), (lanes, FIRE_WHAT)):
            colour, reason = upper_grid_colour(counts, red_share, yellow_share)
            if colour != BLUE:
                found.append((colour, f"{what}：{reason}"))
    stamp = utcnow()
    changed = []
    for grid_id, _, colour, reason in grids:
        new = combine(answers[grid_id]) if grid_id in answers else (BLUE, "")
        if new != (colour, reason):
            changed.append({"grid": grid_id, "colour": new[0], "reason": new[1]})
    if changed:
        session.connection().execute(
            update(Grid.__table__).where(Grid.__table__.c.id == bindparam("grid"))
            .values(colour=bindparam("colour"), colour_reason=bindparam("reason"), colour_set_at=stamp), changed)
        record_change(session, system_actor("benchmark"), "grid.colour", object_type="grid",
                      summary=f"重新评定网格颜色：变化 {len(changed)} 个", details={"changed": len(changed)})
    return {"changed": len(changed)}


# -- the figure -------------------------------------------------------------------------------------------------

def _blue(platform) -> None:
    with platform.db.engine.begin() as connection:
        connection.execute(update(Grid).values(colour=BLUE, colour_reason="", colour_set_at=None))


def _colours(platform) -> list[tuple]:
    with platform.db.session() as session:
        return session.execute(select(Grid.id, Grid.colour, Grid.colour_reason).order_by(Grid.id)).all()


def figures(url: str, scale) -> list[Figure]:
    build(url, 10 if scale.name == "tiny" else 110, scale.recent_cases)
    platform = Platform(url)
    actor = system_actor("benchmark")

    def ours():
        with platform.db.session() as session:
            return recompute_grid_colours(platform, session, actor)["changed"]

    def baseline():
        with platform.db.session() as session:
            return hand_written(session)["changed"]

    stored = {}
    ours()   # the plugin host's first call of the hook (its workers, the switches read): a start-up cost
    first = best_times({"ours": ours, "baseline": baseline}, ROUNDS, before=lambda: _blue(platform),
                       after=lambda side, changed: stored.__setitem__(side, (changed, _colours(platform))))
    assert stored["ours"] == stored["baseline"], "the hand-written colours differ"
    again = best_times({"ours": ours, "baseline": baseline}, ROUNDS,   # the hourly run: the colours are already stored
                       after=lambda side, changed: stored.__setitem__(f"{side} again", changed))
    platform.close()
    assert stored["ours again"] == stored["baseline again"] == 0, "a second recolouring changed grids"
    grids, colours = len(stored["ours"][1]), collections.Counter(colour for _, colour, _ in stored["ours"][1])
    what = f"{grids:,} grids, {scale.recent_cases:,} cases"
    note = ("baseline: two GROUP BY queries (cases, key persons), one walk up the tree for the three rules, "
            "one executemany UPDATE of the grids that changed")
    return [Figure(f"grid recolouring, every grid changed, {what}", first["ours"], first["baseline"], "s", 2.0,
                   False, note=note, extra={"changed": stored["ours"][0], **{name: colours[name] for name in ("red", "yellow", "blue")}}),
            Figure(f"grid recolouring, nothing changed, {what}", again["ours"], again["baseline"], "s", 2.0, False,
                   note=note)]

if __name__ == "__main__":
    run_alone(figures, __doc__)
