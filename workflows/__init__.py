"""The workflow engine: declarative case workflows (上报 → 受理 → 分拨 → 处置 → 反馈 → 回访 → 办结) with time
limits, urging, supervision, escalation, a notification outbox and evaluation. See docs/workflows.md.

`__all__` is the one import path from web (tests/test_architecture.py): the application services of each action,
the errors they raise, and the read models the pages and the API show. Submodules listed here are names too
(`from minqing.workflows import appeals`); web never imports `minqing.workflows.<submodule>` itself."""
from .actions import is_higher_level, supervise, urge
from .definition import URGENCIES, Workflow, all_workflows, final_states
from .definition import get as get_workflow
from .diagram import workflow_svg
from .engine import not_the_lead, transition
from .errors import (CaseRejected, Conflict, DefinitionInvalid, FormInvalid, InvalidTransition, NotRoutable,
                     PermissionDenied, UnknownWorkflow, WorkflowError)
from .evaluation import Indicators, evaluate, evaluate_many
from .evaluation import total as total_indicators
from . import (appeals, briefs, channel_figures, channels, co_tasks, dispatch, duplicates, fallback, intake, joint,
               months, orphans, rankings, rating, reporter_view, schemes, transfer, warning_cases)
from .intake import Reporter, attachment_refs, submit_report
from .rating import rate_as_reporter
from .rehandling import standing as rehandling_standing
from .reporting import report_case


def hold_deliveries():
    """A web request's notifications leave after its answer (`tasks.hold_deliveries`; Celery is imported only
    when a request is served, not by every `minqing` command that imports this package)."""
    from .tasks import hold_deliveries as hold

    return hold()


def release_deliveries(token):
    from .tasks import release_deliveries as release

    return release(token)

__all__ = [
    # services and read models as modules
    "appeals", "briefs", "channel_figures", "channels", "co_tasks", "dispatch", "duplicates", "fallback", "intake", "joint",
    "months", "orphans", "rankings", "rating", "reporter_view", "schemes", "transfer", "warning_cases",
    # errors
    "CaseRejected", "Conflict", "DefinitionInvalid", "FormInvalid", "InvalidTransition", "NotRoutable",
    "PermissionDenied", "UnknownWorkflow", "WorkflowError",
    # definitions and the engine
    "URGENCIES", "Workflow", "all_workflows", "final_states", "get_workflow", "not_the_lead", "transition",
    "workflow_svg",
    # services and read models as functions
    "Indicators", "Reporter", "attachment_refs", "evaluate", "evaluate_many", "hold_deliveries", "is_higher_level",
    "rate_as_reporter", "rehandling_standing", "release_deliveries", "report_case", "submit_report", "supervise", "total_indicators",
    "urge",
]
