"""Deadlines in working hours for a year of generated cases, by table instead of by walk.

`WorkingCalendar.add_hours` walks the days from the start, interval by interval (~0.1 ms a deadline): at a
million cases with two or three deadlines each, a third of the generation. Here the working intervals of the
generated span are listed once, with the working time before each, so a deadline is two bisections. The answer is
the calendar's own (the same intervals, the same "fits within the interval, end included" rule); outside the span,
or for a calendar that is not a `WorkingCalendar` (a plugin's own), it asks the calendar.
"""
from __future__ import annotations

import bisect
import datetime as dt

from minqing.workflows.calendar import WorkingCalendar


class WorkingTime:
    def __init__(self, calendar, first: dt.datetime, last: dt.datetime):
        self.calendar = calendar
        self.begins: list[dt.datetime] = []
        self.ends: list[dt.datetime] = []
        self.before: list[dt.timedelta] = []   # working time of the table before each interval
        if not isinstance(calendar, WorkingCalendar):
            return
        zone, total = calendar.zone, dt.timedelta()
        day, stop = first.astimezone(zone).date() - dt.timedelta(days=1), last.astimezone(zone).date()
        while day <= stop:
            if calendar.is_workday(day):
                for begin, end in calendar.intervals(day):
                    if begin < end:
                        self.begins.append(begin.astimezone(dt.UTC))
                        self.ends.append(end.astimezone(dt.UTC))
                        self.before.append(total)
                        total += end - begin
            day += dt.timedelta(days=1)

    def add_hours(self, start: dt.datetime, hours: float) -> dt.datetime:
        """As `calendar.add_hours(start, hours)`, in UTC."""
        index = bisect.bisect_right(self.ends, start)   # the first interval that ends after the start
        if not self.begins or index == len(self.ends) or start < self.begins[0]:
            return self.calendar.add_hours(start, hours)
        target = self.before[index] + max(start - self.begins[index], dt.timedelta()) + dt.timedelta(hours=hours)
        # the calendar's rule: the deadline falls in the first interval it fits in, its end included
        found = max(bisect.bisect_left(self.before, target) - 1, index)
        if found == len(self.before) - 1 and target - self.before[found] > self.ends[found] - self.begins[found]:
            return self.calendar.add_hours(start, hours)   # beyond the table
        return self.begins[found] + (target - self.before[found])
