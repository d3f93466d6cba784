"""智能分拨: explainable dispatch suggestions learnt from the city's own history. See docs/dispatch.md.

    suggest(platform, session, case, k=3, viewer=...)  the top categories, department, confidence, reason
    train(platform, session)                            retrain from the dispatches that stuck; stored for all
    confirm(platform, session, case, actor, code)       a dispatcher confirms one (through the engine)
    auto_dispatch(platform, session, case)              a theme's automatic dispatch above its threshold
    reach.able(session, case) / reach.picker(session)   who can act on a case; the department picker's list
"""
from . import catalogue, reach
from .actions import auto_dispatch, confirm
from .store import ModelInfo
from .store import current as current_model
from .suggestions import SimilarCase, Suggestion, suggest, train

__all__ = ["ModelInfo", "SimilarCase", "Suggestion", "auto_dispatch", "catalogue", "confirm", "current_model",
           "reach", "suggest", "train"]
