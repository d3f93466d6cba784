"""The web application (Flask): blueprints only; the rules live in core, forms, workflows and themes."""
from __future__ import annotations

from pathlib import Path

from flask import Flask

from minqing.core.platform import Platform


def create_app(config: dict | None = None, platform: Platform | None = None) -> Flask:
    """App factory. `config` may set DATABASE_URL (default: $MINQING_DATABASE_URL or sqlite:///minqing.db)."""
    # Explicit paths: Flask cannot locate a package inside a namespace that an editable install maps.
    here = Path(__file__).parent
    app = Flask(__name__, root_path=str(here), instance_path=str(Path.cwd() / "instance"))
    app.config.from_mapping(DATABASE_URL=None, SECRET_KEY=None)
    app.config.from_prefixed_env("MINQING")
    if config:
        app.config.from_mapping(config)
    app.extensions["minqing"] = platform or Platform(app.config["DATABASE_URL"])

    from . import home
    app.register_blueprint(home.blueprint)
    return app


def platform_of(app: Flask) -> Platform:
    return app.extensions["minqing"]
