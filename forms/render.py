"""HTML rendering with Jinja2 (templates/forms/macros.html), usable from Flask or plain Jinja2."""
from __future__ import annotations

import functools

import jinja2
from markupsafe import Markup


def template_loader() -> jinja2.BaseLoader:
    """Add to a Flask app's loader (e.g. a ChoiceLoader) to use the macros in page templates."""
    return jinja2.PackageLoader("minqing.forms", "templates")


@functools.cache
def jinja_environment() -> jinja2.Environment:
    # autoescape is not optional: every value in the form came from a phone.
    return jinja2.Environment(loader=template_loader(), autoescape=True, trim_blocks=True,
                              lstrip_blocks=True, undefined=jinja2.StrictUndefined)


def render(form, *, action: str = "", method: str = "post", submit_label: str = "提交",
           csrf_token: str | None = None, attachment_url: str | None = None,
           tile_url: str | None = None, fields: dict[str, Markup] | None = None) -> Markup:
    """The whole <form> element for a built form instance.

    attachment_url: link for kept attachments, with "{id}" where the id goes.
    tile_url: Leaflet tile URL template for the map picker (offline tiles), e.g. "/tiles/{z}/{x}/{y}.png".
    fields: top-level field name → the HTML to show in its place (a page's own control for that field, such as
    the department picker); it must post the same name. The form's checks are unchanged.
    """
    template = jinja_environment().get_template("forms/form.html")
    return Markup(template.render(form=form, action=action, method=method, submit_label=submit_label,
                                  csrf_token=csrf_token, attachment_url=attachment_url, tile_url=tile_url,
                                  fields=fields or {}))
