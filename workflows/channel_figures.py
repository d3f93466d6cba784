"""Per-channel figures (按受理渠道): how many cases each intake channel brought in a period, how fast they were
first answered, how many closed in time and how satisfied the reporters were. docs/channels.md, "Figures".

The population and the in-time and satisfaction counts are the evaluation's (`evaluate(by="channel")`, one GROUP
BY); the median time to first response (受理: `case_milestones.accepted_at`) is one more set-based query: an
ordered-set aggregate on PostgreSQL, window functions ranking each channel's times on SQLite. Both within the
viewer's scope.
"""
from __future__ import annotations

import dataclasses
import datetime as dt

from sqlalchemy import Float, cast, func, select
from sqlalchemy.orm import Session

from minqing.core.actors import Actor
from minqing.core.models import Case, CaseMilestone
from minqing.core.scope import restrict

from .evaluation import Indicators, evaluate, milestones_of, population, seconds_between


@dataclasses.dataclass(frozen=True)
class ChannelFigures:
    channel: str
    reported: int
    responded: int                        # cases accepted (受理) so far
    median_response_hours: float | None   # report → acceptance, over the responded cases
    closure_due: int
    closed_on_time: int
    rated: int
    satisfied: int

    @property
    def on_time_closure_rate(self) -> float | None:
        return self.closed_on_time / self.closure_due if self.closure_due else None

    @property
    def satisfaction_rate(self) -> float | None:
        return self.satisfied / self.rated if self.rated else None


def by_channel(session: Session, *, start: dt.datetime, end: dt.datetime, as_of: dt.datetime | None = None,
               viewer: Actor | None = None, evaluated: list[Indicators] | None = None) -> list[ChannelFigures]:
    """One row per channel with cases reported in [start, end), most cases first. `evaluated`: the period's
    `evaluate(by="channel")` rows when the caller has them already (the dashboard's `evaluate_many`)."""
    rows = evaluated if evaluated is not None else evaluate(session, by="channel", start=start, end=end,
                                                            as_of=as_of, viewer=viewer)
    medians = median_response(session, start=start, end=end, viewer=viewer)
    figures = [ChannelFigures(channel=row.key or "", reported=row.reported, responded=medians.get(row.key, (0, None))[0],
                              median_response_hours=medians.get(row.key, (0, None))[1],
                              closure_due=row.closure_due, closed_on_time=row.closed_on_time, rated=row.rated,
                              satisfied=row.satisfied)
               for row in rows if row.reported]
    return sorted(figures, key=lambda row: (-row.reported, row.channel))


def median_response(session: Session, *, start: dt.datetime, end: dt.datetime,
                    viewer: Actor | None = None) -> dict[str, tuple[int, float | None]]:
    """channel → (cases accepted, median hours from report to acceptance): the middle value of each channel's
    sorted times, or the mean of the two middle ones. PostgreSQL answers it with its ordered-set aggregate
    (`percentile_cont(0.5)`, which is that definition: one sort per channel, where two window functions over the
    period's cases sorted and counted them, a third of the statement at a month of a city); SQLite, which has none,
    ranks each channel's times with window functions and averages the middle ones."""
    seconds = seconds_between(session, CaseMilestone.accepted_at, Case.created_at)
    if session.get_bind().dialect.name == "postgresql":
        ordered = func.percentile_cont(0.5).within_group(cast(seconds, Float))
        statement = _accepted(select(Case.channel, func.count(), ordered), start, end, viewer).group_by(Case.channel)
    else:
        ranked = _accepted(select(Case.channel.label("channel"), seconds.label("seconds"),
                                  func.row_number().over(partition_by=Case.channel, order_by=seconds)
                                  .label("position"),
                                  func.count().over(partition_by=Case.channel).label("total")),
                           start, end, viewer).subquery()
        middle = ranked.c.position.in_([(ranked.c.total + 1) // 2, (ranked.c.total + 2) // 2])
        statement = (select(ranked.c.channel, func.max(ranked.c.total), func.avg(ranked.c.seconds))
                     .where(middle).group_by(ranked.c.channel))
    return {channel: (int(total), float(middle) / 3600 if middle is not None else None)
            for channel, total, middle in session.execute(statement)}


def _accepted(statement, start: dt.datetime, end: dt.datetime, viewer: Actor | None):
    """`statement` over the period's population (evaluation's) of accepted cases, within the viewer's scope."""
    statement = (statement.select_from(Case).join(CaseMilestone, milestones_of(start, end))
                 .where(*population(start, end), CaseMilestone.accepted_at.is_not(None)))
    return restrict(statement, Case, viewer) if viewer is not None else statement


__all__ = ["ChannelFigures", "by_channel", "median_response"]
