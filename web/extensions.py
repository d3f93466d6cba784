"""Flask extensions: sessions and login (Flask-Login), CSRF on every form (Flask-WTF), Chinese UI (Flask-Babel)."""
from __future__ import annotations

from flask import Flask
from flask_babel import Babel
from flask_login import LoginManager
from flask_wtf.csrf import CSRFProtect

from minqing.core import city
from minqing.core.settings import secret_key

login_manager = LoginManager()
login_manager.login_view = "auth.login"
login_manager.login_message = "请先登录"
login_manager.login_message_category = "warning"
csrf = CSRFProtect()
babel = Babel()


def init_app(app: Flask) -> None:
    if not app.config.get("SECRET_KEY"):
        # Shared by every web process of this installation: kept in the database unless the environment sets it.
        with app.extensions["minqing"].db.session() as session:
            app.config["SECRET_KEY"] = secret_key(session).decode()
    login_manager.init_app(app)
    csrf.init_app(app)
    babel.init_app(app, locale_selector=lambda: app.config["BABEL_DEFAULT_LOCALE"],
                   timezone_selector=lambda: city.settings().timezone)  # as read for this request (web/setup.py)
