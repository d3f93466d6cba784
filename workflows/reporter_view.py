"""What the reporter of a case (a citizen on 小兰帮办, or an anonymous Open311 client) may read of its timeline.

One list for the citizen pages and the API: every step shows as a title and a time, but its comment only for
the steps that speak to the reporter (the handling result, why it was voided or re-handled); and some lines
are not theirs to see at all — a department's appeal (申诉) of a case is about the department's ranking, not
about the reporter's problem.
"""
from __future__ import annotations

# Steps whose comment the reporter may read.
PUBLIC_COMMENTS = frozenset({"report", "feedback", "close_on_the_spot", "void", "rework", "confirm",
                             "citizen_rating", "follow_master"})
# Lines the reporter never sees (prefixes of the timeline's action).
INTERNAL_PREFIXES = ("appeal_",)


def shows(action: str) -> bool:
    """Whether the reporter sees this timeline line at all."""
    return not action.startswith(INTERNAL_PREFIXES)


def shows_comment(action: str) -> bool:
    return action in PUBLIC_COMMENTS
