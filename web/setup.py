"""The first admin's set-up of the city (the same four things as `minqing init`), and the request hook that keeps
this process's clock on the stored city.

While the database has no city, an admin who signs in lands here instead of the work end. The page stays open to
admins afterwards for changing the values ("修改" ticked, as `--update`). The rules are `core.city.initialise`'s;
this module only reads the form and shows the answer.
"""
from __future__ import annotations

from flask import Blueprint, Flask, flash, redirect, render_template, request, url_for
from flask_login import current_user
from flask_wtf import FlaskForm
from sqlalchemy import select

from minqing.core import city
from minqing.core.models import Region

from .context import db, viewer
from .permissions import roles_required

blueprint = Blueprint("setup", __name__, url_prefix="/setup")
FIELDS = ("city_code", "name", "timezone", "centre", "zoom")


class SetupForm(FlaskForm):
    """Carries only the CSRF token: the fields are read from the request, their rules are core's."""


@blueprint.route("/city", methods=["GET", "POST"])
@roles_required("admin")
def city_page():
    stored = city.settings(db())
    if request.method == "GET":
        return _page(stored, _values_of(stored), {})
    if not SetupForm().validate_on_submit():
        return _page(stored, request.form, {"form": "请求已过期，请刷新页面后重试"}, 400)
    values = {field: request.form.get(field, "").strip() for field in FIELDS}
    try:
        outcome = city.initialise(db(), viewer(), code=values["city_code"], name=values["name"],
                                  timezone=values["timezone"] or None, centre=values["centre"] or None,
                                  zoom=values["zoom"] or None, update=request.form.get("update") == "yes")
        db().commit()
    except city.CityInvalid as error:
        db().rollback()
        return _page(stored, request.form, error.problems, 400)
    settled = outcome.city
    flash(f"城市设置{'已保存' if outcome.changed else '未变化'}：{settled.name}（{settled.code}），"
          f"时区 {settled.timezone}（{city.utc_text(settled.offset)}）", "info")
    return redirect(url_for("home.index"))


@blueprint.post("/map-tiles")
@roles_required("admin")
def map_tiles():
    """The optional base map's tile URL template (empty: no tiles, the outlines only)."""
    stored = city.settings(db())
    if not SetupForm().validate_on_submit():
        return _page(stored, _values_of(stored), {"form": "请求已过期，请刷新页面后重试"}, 400)
    wanted = request.form.get("tile_url", "")
    try:
        changed = city.set_tile_url(db(), viewer(), wanted)
        db().commit()
    except city.CityInvalid as error:
        db().rollback()
        return _page(stored, {**_values_of(stored), "tile_url": wanted}, error.problems, 400)
    settled = city.tile_url(db())
    flash(("底图瓦片地址已保存：" + settled if settled else "已清除底图瓦片地址，地图只显示区划与网格轮廓")
          if changed else "底图瓦片地址未变化", "info")
    return redirect(url_for("setup.city_page"))


def _values_of(stored: city.City) -> dict[str, str]:
    """What the form starts with: the stored city, else the database's top region and the default zone."""
    if stored.configured:
        centre = f"{stored.centre[0]},{stored.centre[1]}" if stored.centre else ""
        return {"city_code": stored.code, "name": stored.name, "timezone": stored.timezone, "centre": centre,
                "zoom": str(stored.zoom)}
    root = db().scalar(select(Region).where(Region.parent_id.is_(None), Region.level == "city").order_by(Region.code)
                       .limit(1))
    return {"city_code": root.code if root else "", "name": root.name if root else "",
            "timezone": stored.timezone, "centre": "", "zoom": str(stored.zoom)}


def _page(stored: city.City, values, errors: dict[str, str], status: int = 200):
    tiles = values["tile_url"] if "tile_url" in errors else (city.tile_url(db()) or "")   # a refused URL is shown back
    return render_template("setup/city.html", stored=stored, values=values, errors=errors, form=SetupForm(),
                           zooms=city.ZOOMS, tile_url=tiles), status


def init_app(app: Flask) -> None:
    @app.before_request
    def _city_first():
        """Read the city for this request (what template filters and forms without a session use), and send an
        admin who signs in to a database without a city to the set-up page."""
        endpoint = request.endpoint or ""
        if endpoint in ("", "static", "health.healthz") or endpoint.startswith("vendor."):
            return None  # files, and the health check that must answer when the database does not: no look-up
        stored = city.settings(db())
        if (endpoint == "home.index" and not stored.configured and current_user.is_authenticated
                and viewer().has_role("admin")):
            return redirect(url_for("setup.city_page"))
        return None
