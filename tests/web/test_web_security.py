"""Web hardening: the security headers on every response of every route (pages, errors, static files, API and
Open311 answers, server errors), no inline script in any template, and autoescaping whatever a template's name."""
from __future__ import annotations

import re

import pytest
from flask import render_template
from jinja2 import ChoiceLoader, DictLoader

from minqing import forms
from minqing.web import create_app

from tests.fixtures.web import login

HEADERS = ("Content-Security-Policy", "X-Content-Type-Options", "Referrer-Policy", "X-Frame-Options")
SAMPLE_ARGUMENTS = {"int": "1", "everything": "x", "path": "x", "default": "x"}
ANY_CHOICES = re.compile(r"any\(([^)]*)\)")


def assert_secure(response, where: str) -> None:
    policy = response.headers.get("Content-Security-Policy", "")
    directives = dict((part.strip().split(" ", 1) + [""])[:2] for part in policy.split(";") if part.strip())
    assert "'self'" in directives.get("script-src", ""), where
    assert "unsafe-inline" not in directives["script-src"] and "unsafe-eval" not in directives["script-src"], where
    assert directives.get("frame-ancestors") == "'none'" and directives.get("object-src") == "'none'", where
    assert response.headers.get("X-Content-Type-Options") == "nosniff", where
    assert response.headers.get("Referrer-Policy") == "same-origin", where
    assert response.headers.get("X-Frame-Options") == "DENY", where


def sample_url(rule) -> str:
    """The rule's address with a sample value for each argument (the first choice of an `any`)."""
    values = {}
    for name, converter in rule._converters.items():
        kind = type(converter).__name__
        if kind == "AnyConverter":
            values[name] = ANY_CHOICES.search(rule.rule).group(1).split(",")[0].strip()
        else:
            values[name] = SAMPLE_ARGUMENTS["int" if "Integer" in kind or "Id" in kind else
                                            "path" if "Path" in kind or "Everything" in kind else "default"]
    url = rule.rule
    for name, value in values.items():
        url = re.sub(rf"<(?:[^<>]*:)?{name}>", value, url)
    return url


@pytest.fixture
def production_app(platform):
    """Errors are answered, not raised, as in production (CSRF off so that POSTs reach their views)."""
    app = create_app({"TESTING": False, "WTF_CSRF_ENABLED": False, "PROPAGATE_EXCEPTIONS": False},
                     platform=platform)

    def broken():
        raise RuntimeError("a bug")

    app.add_url_rule("/__broken", "broken", broken)
    return app


def test_every_route_answers_with_the_security_headers(production_app, world):
    anonymous = production_app.test_client()
    admin = production_app.test_client()
    assert login(admin, "admin").status_code == 302
    checked = set()
    rules = [rule for rule in production_app.url_map.iter_rules() if rule.endpoint != "broken"]
    assert len(rules) >= 80
    for rule in rules:
        url = sample_url(rule)
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            for who, client in (("anonymous", anonymous), ("admin", admin)):
                response = client.open(url, method=method, headers={"Accept": "text/html"})
                assert_secure(response, f"{method} {url} as {who} → {response.status_code}")
                checked.add((rule.endpoint, method, response.status_code // 100))
    assert {status for _endpoint, _method, status in checked} >= {2, 3, 4}
    assert len({endpoint for endpoint, _method, _status in checked}) == len({rule.endpoint for rule in rules})
    for response in (anonymous.get("/__broken"), anonymous.get("/static/no-such-file.css"),
                     anonymous.get("/api/v1/cases"), anonymous.get("/open311/v2/services.xml"),
                     anonymous.post("/api/v1/cases", data="{", content_type="application/json")):
        assert_secure(response, response.request.path)
    assert anonymous.get("/__broken").status_code == 500


def _all_templates(app) -> list[tuple[str, str]]:
    """(name, source) of every template of the app and its blueprints, and of the forms engine."""
    found = []
    for environment in (app.jinja_env, forms.jinja_environment()):
        for name in environment.list_templates():
            source, _filename, _uptodate = environment.loader.get_source(environment, name)
            found.append((name, source))
    return found


def test_no_template_carries_an_inline_script_or_handler(app):
    templates = _all_templates(app)
    assert len(templates) >= 30
    for name, source in templates:
        for tag in re.findall(r"<script\b[^>]*>", source, re.IGNORECASE):
            # A data block (type="application/json") is never executed; anything else must come from a file.
            assert "src=" in tag or 'type="application/json"' in tag, (name, tag)
        assert not re.search(r"<[^>]+\son[a-z]+\s*=", source, re.IGNORECASE), name
        assert not re.search(r"javascript:", source, re.IGNORECASE), name


HOSTILE = "<script>alert(1)</script>"


@pytest.mark.parametrize("name", ["notice.txt", "mail.j2", "export.csv", "page.html"])
def test_every_template_is_autoescaped_whatever_its_name(app, name):
    app.jinja_env.loader = ChoiceLoader([DictLoader({name: "值：{{ value }}"}), app.jinja_env.loader])
    with app.test_request_context("/"):
        text = render_template(name, value=HOSTILE)
    assert HOSTILE not in text and "&lt;script&gt;" in text


def test_the_forms_engine_environment_autoescapes_every_name():
    environment = forms.jinja_environment()
    environment.loader = ChoiceLoader([DictLoader({"field.txt": "{{ value }}", "row.j2": "{{ value }}"}),
                                       environment.loader])
    for name in ("field.txt", "row.j2"):
        assert environment.get_template(name).render(value=HOSTILE) == "&lt;script&gt;alert(1)&lt;/script&gt;"


def test_a_view_allows_images_from_one_more_origin_through_the_built_policy(app):
    """The policy is built in one place: a page that shows a map's tiles names their origin, nothing else changes,
    and no other directive can be slipped in through it."""
    from minqing.web import security

    @app.get("/__tiles")
    def tiles():
        security.allow_images_from("https://tiles.example.cn")
        security.allow_images_from("https://tiles.example.cn")
        return "ok"

    policy = app.test_client().get("/__tiles").headers["Content-Security-Policy"]
    assert policy == security.CONTENT_SECURITY_POLICY.replace(
        "img-src 'self' data: blob:", "img-src 'self' data: blob: https://tiles.example.cn")
    assert app.test_client().get("/login").headers["Content-Security-Policy"] == security.CONTENT_SECURITY_POLICY
    for bad in ("https://a.example; script-src *", "https://a.example/path", "javascript:x", "https://a b"):
        with app.test_request_context("/"), pytest.raises(ValueError):
            security.allow_images_from(bad)
