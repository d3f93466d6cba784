"""The web application (Flask): blueprints only; the rules live in core, forms, workflows and themes."""
from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import TYPE_CHECKING

from minqing.core.platform import Platform

if TYPE_CHECKING:   # Flask is imported when an app is made, not by every `minqing` command (web.cli)
    from flask import Flask


def create_app(config: dict | None = None, platform: Platform | None = None) -> Flask:
    """App factory. `config` may set DATABASE_URL (default: $MINQING_DATABASE_URL or sqlite:///minqing.db)."""
    from flask import Flask

    # Explicit paths: Flask cannot locate a package inside a namespace that an editable install maps.
    here = Path(__file__).parent
    app = Flask(__name__, root_path=str(here), instance_path=str(Path.cwd() / "instance"))
    app.config.from_mapping(
        DATABASE_URL=None, SECRET_KEY=None,
        BABEL_DEFAULT_LOCALE="zh_CN",  # the time zone is the city's setting (core.city), read per request
        WTF_CSRF_TIME_LIMIT=None,
        SESSION_COOKIE_HTTPONLY=True, SESSION_COOKIE_SAMESITE="Lax",
        PERMANENT_SESSION_LIFETIME=dt.timedelta(minutes=30),
        MAX_CONTENT_LENGTH=20 * 1024 * 1024,
    )
    app.config.from_prefixed_env("MINQING")
    if config:
        app.config.from_mapping(config)
    # The session cookie's Secure flag is decided per request (web/security.py, `cookie_secure`); the remember-me
    # cookie (not offered today) is Secure unless MINQING_INSECURE_COOKIES allows plain-HTTP development.
    app.config.setdefault("REMEMBER_COOKIE_SECURE", not app.config.get("INSECURE_COOKIES"))
    app.config.setdefault("REMEMBER_COOKIE_HTTPONLY", True)
    app.config.setdefault("REMEMBER_COOKIE_SAMESITE", "Lax")
    platform = platform or Platform(app.config["DATABASE_URL"])
    app.extensions["minqing"] = platform
    app.test_client_class = _closing_client_class()

    from . import context, converters, errors, extensions, security
    converters.init_app(app)
    extensions.init_app(app)
    context.init_app(app)
    errors.init_app(app)
    security.init_app(app)
    from . import auth as auth_module
    auth_module.init_app(app)  # server-side sessions checked before every view; TOTP and password settings
    from . import setup
    setup.init_app(app)  # after sign-in is loaded: the city read per request; an admin without a city set it up

    from . import admin, api, auth, citizen, home, manage, map_view, open311, vendor, work
    for blueprint in (home.blueprint, auth.blueprint, map_view.blueprint, admin.blueprint, vendor.blueprint,
                      work.blueprint, manage.blueprint, citizen.blueprint, open311.blueprint, api.blueprint):
        app.register_blueprint(blueprint)
    from . import account, audit, builder, health
    app.register_blueprint(health.blueprint)
    app.register_blueprint(setup.blueprint)
    app.register_blueprint(audit.blueprint)
    app.register_blueprint(builder.blueprint)
    app.register_blueprint(account.blueprint)
    from . import report_map
    app.register_blueprint(report_map.blueprint)
    from . import notifications
    app.register_blueprint(notifications.blueprint)  # 通知: in-app notifications and the header's unread badge
    from . import ledgers
    app.register_blueprint(ledgers.blueprint)  # 台账: department ledgers, drawn on a map (Leaflet-Geoman)
    _register_plugin_blueprints(app, platform)
    from . import ratelimits
    ratelimits.init_app(app)  # after every blueprint: the limits wrap the registered views
    if app.config.get("WARM_CACHES", not app.testing):   # a test's app is made per test, its world tiny
        _warm(platform)
    return app


def _warm(platform: Platform) -> None:
    """Build what every report needs — the grids' index, the themes — when a worker starts (gunicorn makes the
    app in each worker), not on its first request, which would otherwise wait seconds at city size. A database
    not migrated yet (`minqing init` to come) is left for later; `MINQING_WARM_CACHES=0` skips this, and a test's
    app (TESTING) skips it unless it sets WARM_CACHES."""
    import logging

    from sqlalchemy.exc import SQLAlchemyError

    from minqing import themes

    try:
        with platform.db.session() as session:
            platform.locator(session)
            themes.registry(platform, session)
    except SQLAlchemyError as error:
        logging.getLogger(__name__).info("caches not built at start (%s): built on first use", type(error).__name__)


def _register_plugin_blueprints(app: Flask, platform: Platform) -> None:
    """Blueprints from plugins (`web_blueprints(platform)`). A request to a disabled plugin's blueprint answers
    404; an anonymous one is sent to sign in unless the plugin opened the blueprint with `plugin_api.public`.
    The guard is the application's, not added to the blueprint, so a plugin may return the same blueprint to
    every application it is asked for (Flask refuses new hooks on a blueprint already registered)."""
    owners = {}
    for plugin_name, blueprint in platform.plugins.collect("web_blueprints", platform=platform):
        app.register_blueprint(blueprint)
        owners[blueprint.name] = (plugin_name, blueprint)
    app.before_request(_plugin_pages_guard(platform, owners))


def _plugin_pages_guard(platform: Platform, owners: dict):
    from flask import abort, request
    from flask_login import current_user

    from .context import db
    from .extensions import login_manager
    from .plugin_api import is_public

    def guard():
        owner = owners.get(request.blueprints[-1]) if request.blueprints else None   # the outermost blueprint
        if owner is None:
            return None
        plugin_name, blueprint = owner
        if not platform.plugins.is_enabled(plugin_name, session=db()):
            abort(404)
        if request.endpoint == f"{request.blueprint}.static" or is_public(blueprint):
            return None   # a plugin's stylesheets and scripts are as public as the site's own
        if not current_user.is_authenticated:
            return login_manager.unauthorized()
        return None
    return guard


def _closing_client_class():
    from flask.testing import FlaskClient

    class ClosingClient(FlaskClient):
        """A test client that closes each answer as a WSGI server does once it has sent it, so what the app
        does after its answer (the notifications' delivery, web/context.py) has happened when a test reads on."""

        def open(self, *args, buffered: bool = True, **kwargs):
            return super().open(*args, buffered=buffered, **kwargs)
    return ClosingClient


def platform_of(app: Flask) -> Platform:
    return app.extensions["minqing"]
