"""What the engine refuses, as exceptions with a stable `.code` and a Chinese `.message` for the user.

Anything raised here leaves the database as it was: checks run before the first change.
"""
from __future__ import annotations


class WorkflowError(Exception):
    code = "workflow_error"

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


class UnknownWorkflow(WorkflowError):
    code = "unknown_workflow"

    def __init__(self, key: str):
        super().__init__(f"没有名为“{key}”的处置流程")
        self.key = key


class DefinitionInvalid(WorkflowError):
    code = "definition_invalid"

    def __init__(self, key: str, problems: list[str]):
        super().__init__(f"处置流程“{key}”的定义有误：" + "；".join(problems))
        self.problems = problems


class PermissionDenied(WorkflowError):
    code = "permission_denied"


class InvalidTransition(WorkflowError):
    code = "invalid_transition"


class FormInvalid(WorkflowError):
    """The submitted data does not satisfy the form; `errors` maps each field path to its messages."""

    code = "form_invalid"

    def __init__(self, errors: dict[str, list[str]], message: str = "填写的内容有误"):
        details = "；".join(f"{path or '整体'}：{'，'.join(texts)}" for path, texts in errors.items())
        super().__init__(f"{message}：{details}")
        self.errors = errors


class CaseRejected(FormInvalid):
    """A `validate_case` plugin refused the report."""

    code = "case_rejected"

    def __init__(self, errors: dict[str, list[str]]):
        super().__init__(errors, "事件未通过校验")


class Conflict(WorkflowError):
    code = "conflict"

    def __init__(self, message: str = "该事件刚刚已被他人处理，请刷新后重试"):
        super().__init__(message)


class NotRoutable(WorkflowError):
    code = "not_routable"
