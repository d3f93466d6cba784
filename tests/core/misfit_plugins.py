"""Plugins whose hooks do not match the specs, loaded through real entry points by tests/core/test_hook_contract.py."""
from minqing.core.hooks import hookimpl


class Misspelled:
    """`route_cases` is no hook: pluggy would register it and never call it."""

    @hookimpl
    def register_departments(self):
        return [{"key": "misspelled", "name": "拼写错误的部门", "short_name": "错"}]

    @hookimpl
    def route_cases(self, case, session):
        return "misspelled"


class WrongArgument:
    """`route_case` has no argument `sesion`."""

    @hookimpl
    def route_case(self, case, sesion):
        return "wrong_argument"


class ClaimsRequired:
    """A third-party plugin cannot make itself impossible to switch off."""

    MINQING_REQUIRED = True

    @hookimpl
    def register_departments(self):
        return [{"key": "claims_required", "name": "自称必需的部门", "short_name": "必"}]
