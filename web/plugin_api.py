"""What a plugin's pages may use of the web application: the one module of `minqing.web` a plugin imports.

A plugin adds pages with the ``web_blueprints(platform)`` hook (docs/plugins.md, "Pages"). Its routes are for
signed-in users unless the plugin calls `public(blueprint)`: an anonymous request is sent to sign in, so a page
cannot be left open by forgetting a decorator. Within a request:

- `viewer()`           who is looking: the `Actor` every rule of core takes (an anonymous actor sees nothing);
- `db()`               this request's database session, rolled back at the end unless the view commits;
- `platform()`         the platform (its plugins, its database);
- `login_required`     a view decorator: sign in first (the default for plugin routes; for public blueprints);
- `roles_required(*r)` a view decorator: sign in, then one of these roles, or the 403 page in Chinese;
- `scoped(s, Model)`   the statement limited to what the viewer may see (`minqing.core.scope.restrict`);
- `mask(text, kind)`   personal data as the viewer may see it (`minqing.core.privacy.masking`);
- `render_page(t, **)` a page in the site's layout; `LAYOUT` is the template to extend (`{% extends layout %}`);
- `public(blueprint)`  marks a blueprint as open to anonymous visitors.

In templates the filters ``|personal`` (free text) and ``|address`` mask personal data and ``|localtime`` shows a
stored time in the city's time; ``viewer`` is always defined. The site's Content-Security-Policy allows no inline
script or style: bring them as files from the blueprint's static folder (``url_for("<name>.static", ...)``).
"""
from __future__ import annotations

from flask import Blueprint, render_template, render_template_string
from flask_login import login_required
from sqlalchemy import Select

from minqing.core.privacy import masking
from minqing.core import scope

from .context import db, platform, viewer
from .permissions import roles_required

__all__ = ["LAYOUT", "db", "login_required", "mask", "platform", "public", "render_page", "roles_required",
           "scoped", "viewer"]

LAYOUT = "base.html"    # blocks: title, head (stylesheets), main, scripts (script files only)
PUBLIC_MARK = "minqing_public"
KINDS = (masking.ID_NUMBER, masking.PHONE, masking.ADDRESS)


def public(blueprint: Blueprint) -> Blueprint:
    """Open `blueprint` (and the blueprints nested in it) to anonymous visitors; returns it."""
    setattr(blueprint, PUBLIC_MARK, True)
    return blueprint


def is_public(blueprint: Blueprint) -> bool:
    """Whether a plugin said so with `public`; every other plugin blueprint is for signed-in users."""
    return getattr(blueprint, PUBLIC_MARK, False) is True


def scoped(statement: Select, model) -> Select:
    """`statement` limited to the rows of `model` the viewer may see: the one scope rule of the platform."""
    return scope.restrict(statement, model, viewer())


def mask(text: str | None, kind: str | None = None) -> str:
    """A value as the viewer may see it: free text by default (ID numbers always masked, phone and house numbers
    unless the role needs them), or one value of a known `kind` ("id_number", "phone", "address")."""
    if kind is None:
        return masking.text_for(viewer(), text)
    if kind not in KINDS:
        raise ValueError(f"mask kind must be one of {KINDS}, not {kind!r}")
    return masking.show(viewer(), kind, text)


def render_page(template: str, **context) -> str:
    """Render a page: `template` is a template name from the plugin's template folder ("snow/roads.html") or,
    when it contains a Jinja tag, the template's source. Either extends the site's layout with
    ``{% extends layout %}`` (or ``{% extends "base.html" %}``): header, navigation, the site's stylesheet."""
    context.setdefault("layout", LAYOUT)
    if "{%" in template or "{{" in template:
        return render_template_string(template, **context)
    return render_template(template, **context)
