"""The web application (Flask): blueprints only; the rules live in core, forms, workflows and themes."""
from __future__ import annotations

import datetime as dt
from pathlib import Path

from flask import Flask

from minqing.core.platform import Platform


def create_app(config: dict | None = None, platform: Platform | None = None) -> Flask:
    """App factory. `config` may set DATABASE_URL (default: $MINQING_DATABASE_URL or sqlite:///minqing.db)."""
    # Explicit paths: Flask cannot locate a package inside a namespace that an editable install maps.
    here = Path(__file__).parent
    app = Flask(__name__, root_path=str(here), instance_path=str(Path.cwd() / "instance"))
    app.config.from_mapping(
        DATABASE_URL=None, SECRET_KEY=None,
        BABEL_DEFAULT_LOCALE="zh_CN", BABEL_DEFAULT_TIMEZONE="Asia/Shanghai",
        WTF_CSRF_TIME_LIMIT=None,
        SESSION_COOKIE_HTTPONLY=True, SESSION_COOKIE_SAMESITE="Lax",
        PERMANENT_SESSION_LIFETIME=dt.timedelta(minutes=30),
        MAX_CONTENT_LENGTH=20 * 1024 * 1024,
    )
    app.config.from_prefixed_env("MINQING")
    if config:
        app.config.from_mapping(config)
    platform = platform or Platform(app.config["DATABASE_URL"])
    app.extensions["minqing"] = platform

    from . import context, converters, errors, extensions, security
    converters.init_app(app)
    extensions.init_app(app)
    context.init_app(app)
    errors.init_app(app)
    security.init_app(app)
    from . import auth as auth_module
    auth_module.init_app(app)  # server-side sessions checked before every view; TOTP and password settings

    from . import admin, api, auth, citizen, home, manage, map_view, open311, vendor, work
    for blueprint in (home.blueprint, auth.blueprint, map_view.blueprint, admin.blueprint, vendor.blueprint,
                      work.blueprint, manage.blueprint, citizen.blueprint, open311.blueprint, api.blueprint):
        app.register_blueprint(blueprint)
    from . import account, audit, builder
    app.register_blueprint(audit.blueprint)
    app.register_blueprint(builder.blueprint)
    app.register_blueprint(account.blueprint)
    _register_plugin_blueprints(app, platform)
    from . import ratelimits
    ratelimits.init_app(app)  # after every blueprint: the limits wrap the registered views
    return app


def _register_plugin_blueprints(app: Flask, platform: Platform) -> None:
    """Blueprints from plugins; a request to the blueprint of a disabled plugin answers 404."""
    from flask import abort

    for plugin_name, blueprint in platform.plugins.collect("web_blueprints"):
        def only_when_enabled(name=plugin_name):
            if not platform.plugins.is_enabled(name):
                abort(404)
        blueprint.before_request(only_when_enabled)
        app.register_blueprint(blueprint)


def platform_of(app: Flask) -> Platform:
    return app.extensions["minqing"]
