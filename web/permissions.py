"""Role checks for views. Scope (which objects) is core.scope's job; this only says which pages a role opens."""
from __future__ import annotations

import functools

from flask import abort, request
from flask_login import current_user

from .context import viewer

# Who works in the work end (/work/*). Citizens have their own pages (小兰帮办); auditors read the audit log only.
STAFF_ROLES = ("admin", "operator", "department_staff", "grid_worker", "leader", "cadre")


def roles_required(*roles: str):
    def decorate(view):
        @functools.wraps(view)
        def wrapped(*args, **kwargs):
            if not current_user.is_authenticated:
                from .extensions import login_manager
                return login_manager.unauthorized()
            if not viewer().has_role(*roles):
                abort(403)
            return view(*args, **kwargs)
        return wrapped
    return decorate


def staff_or_anonymous(shared: frozenset[str] = frozenset()) -> bool:
    """For a staff blueprint's guard: whether this request may go on to its view. Anonymous requests go on (the
    view sends them to sign in, or refuses them its own way); `shared` endpoints serve citizens too."""
    return (not current_user.is_authenticated or request.endpoint in shared
            or viewer().has_role(*STAFF_ROLES))
