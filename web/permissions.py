"""Role checks for views. Scope (which objects) is core.scope's job; this only says which pages a role opens."""
from __future__ import annotations

import functools

from flask import abort
from flask_login import current_user

from .context import viewer


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
