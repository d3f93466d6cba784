"""重复件: likely duplicates of a report, merging them into one master case, and undoing a wrong merge.

    candidates.for_case(platform, session, case, viewer)     likely duplicates of a case, with their evidence
    candidates.find(platform, session, Draft(...), viewer)   ... of a report still being written
    merge(platform, session, duplicate, master, actor, reason=...)
    undo(platform, session, duplicate, actor, reason=...)
    duplicates_of(session, master_id), live_merge(session, duplicate_id), history(session, case_id)

The engine calls `follow.check_step` and `follow.after_step` around every transition. See docs/duplicates.md.
"""
from . import candidates
from .candidates import Candidate, Draft
from .merge import duplicates_of, history, live_merge, merge, undo
from .settings import DEFAULTS, DuplicateSettings, for_theme

__all__ = ["DEFAULTS", "Candidate", "Draft", "DuplicateSettings", "candidates", "duplicates_of", "for_theme",
           "history", "live_merge", "merge", "undo"]
