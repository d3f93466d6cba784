"""Per request: one database session, the signed-in account and the `Actor` every rule of core takes."""
from __future__ import annotations

from flask import Flask, current_app, g, request
from flask_login import UserMixin, current_user
from sqlalchemy.orm import Session

from minqing.core import city, counters
from minqing import workflows
from minqing.core.actors import Actor, actor_for
from minqing.core.models import Account, utcnow

from .extensions import login_manager



class SignedIn(UserMixin):
    """The Flask-Login user: an account id plus the actor resolved for this request."""

    def __init__(self, account: Account):
        self.account = account
        self.id = str(account.id)


def platform():
    return current_app.extensions["minqing"]


def db() -> Session:
    """This request's session; closed (and rolled back if not committed) when the request ends."""
    if "db_session" not in g:
        g.db_session = platform().db.sessionmaker()
    return g.db_session


def origin() -> str:
    return request.remote_addr or ""


def viewer() -> Actor:
    """Who is looking: the signed-in account with its grants, or an anonymous actor who may see nothing."""
    if "viewer" not in g:
        if current_user.is_authenticated:
            g.viewer = actor_for(db(), current_user.account, origin=origin())
        else:
            g.viewer = Actor(account_id=None, name="访客", grants=(), origin=origin())
    return g.viewer


@login_manager.user_loader
def _load_user(account_id: str) -> SignedIn | None:
    account = db().get(Account, int(account_id)) if account_id.isdigit() else None
    if account is None or not account.is_active:
        return None
    from .auth import live_account  # the cookie must belong to an open server-side session (web/auth.py)
    return SignedIn(account) if live_account(account) else None


def init_app(app: Flask) -> None:
    @app.before_request
    def _begin_unit():
        # the change counters read once for the whole request (core.counters), and the notifications it queues
        # delivered once the answer is sent (the embedded mode; with a broker a worker delivers them anyway)
        g.counters_unit = counters.begin_unit()
        g.held_deliveries = workflows.hold_deliveries()

    @app.after_request
    def _deliver_after_answer(response):
        token = g.pop("held_deliveries", None)
        if token is not None and (deliver := workflows.release_deliveries(token)) is not None:
            response.call_on_close(deliver)
        return response

    @app.teardown_request
    def _end_unit(_error):
        token = g.pop("held_deliveries", None)   # no answer was made (an error before one): deliver now
        if token is not None and (deliver := workflows.release_deliveries(token)) is not None:
            deliver()
        token = g.pop("counters_unit", None)
        if token is not None:
            counters.end_unit(token)

    @app.teardown_appcontext
    def _close_session(_error):
        session = g.pop("db_session", None)
        if session is not None:
            session.rollback()
            session.close()

    @app.template_filter("localtime")
    def _localtime(value):
        """Times are stored in UTC and shown in the city's time (its setting, read for this request)."""
        return city.local(value, db()).strftime("%Y-%m-%d %H:%M") if value else ""

    @app.template_filter("personal")
    def _personal(text):
        """Free text from people: ID numbers (and phones, unless the role needs them) masked."""
        from minqing.core.privacy.masking import text_for
        return text_for(viewer(), text)

    @app.template_filter("address")
    def _address(text):
        """An exact address: house, building and room numbers hidden unless the role needs them."""
        from minqing.core.privacy.masking import ADDRESS, show, text_for
        return show(viewer(), ADDRESS, text_for(viewer(), text))

    @app.context_processor
    def _inject():
        return {"viewer": viewer(), "now": utcnow()}
