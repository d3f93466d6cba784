"""The workflow engine: declarative case workflows (上报 → 受理 → 分拨 → 处置 → 反馈 → 回访 → 办结) with time
limits, urging, supervision, escalation, a notification outbox and evaluation. See docs/workflows.md."""
from .actions import supervise, urge
from .definition import Workflow
from .definition import get as get_workflow
from .engine import transition
from .errors import (CaseRejected, Conflict, DefinitionInvalid, FormInvalid, InvalidTransition, NotRoutable,
                     PermissionDenied, UnknownWorkflow, WorkflowError)
from .evaluation import Indicators, evaluate
from .rehandling import standing as rehandling_standing
from .reporting import report_case

__all__ = [
    "CaseRejected", "Conflict", "DefinitionInvalid", "FormInvalid", "Indicators", "InvalidTransition",
    "NotRoutable", "PermissionDenied", "UnknownWorkflow", "Workflow", "WorkflowError", "evaluate", "get_workflow",
    "rehandling_standing", "report_case", "supervise", "transition", "urge",
]
