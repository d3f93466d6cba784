"""The plugin's page, 道路结冰: the open icy-road events the viewer may see, in the site's layout.

Everything a page needs comes from `minqing.web.plugin_api`: the route is for signed-in users without saying so,
`roles_required` keeps it to the staff who dispatch and follow the events, `scoped` applies the platform's scope
rule to the query, and the template extends the site's layout and masks people's text with ``|personal``.
"""
from flask import Blueprint
from sqlalchemy import select

from minqing.core.models import Case
from minqing.web import plugin_api

THEME_KEY = "winter_service.icy_roads"

# One blueprint for every application the platform builds: the host guards it without changing it.
pages = Blueprint("snow", __name__, url_prefix="/snow", template_folder="templates")


@pages.get("/roads")
@plugin_api.roles_required("admin", "operator", "leader", "department_staff")
def roads():
    statement = select(Case).where(Case.theme_key == THEME_KEY, Case.closed_at.is_(None)).order_by(Case.id.desc())
    cases = plugin_api.db().scalars(plugin_api.scoped(statement, Case)).all()
    return plugin_api.render_page("snow/roads.html", cases=cases)
