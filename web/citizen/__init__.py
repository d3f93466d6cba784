"""小兰帮办: the citizens' end — sign in with a phone number and a text-message code, report a problem with
photos and a location, follow it and rate how it was handled, and read the departments' policies and service
guides."""
from flask import Blueprint

from ..extensions import login_manager

blueprint = Blueprint("citizen", __name__, url_prefix="/citizen")
# Citizens who are not signed in are sent to the phone sign-in, not to the staff's password page.
login_manager.blueprint_login_views["citizen"] = "citizen.login"

from . import publications, reports, signin  # noqa: E402,F401  (routes register on import)
from . import matters  # noqa: E402,F401  (我的帮办实事)
