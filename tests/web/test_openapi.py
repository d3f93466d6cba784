"""The OpenAPI document of /api/v1: served without a key, valid OpenAPI 3.1, and covering every route of the API
that Flask knows (so a new route without its documentation fails here)."""
import re

from openapi_spec_validator import validate

from minqing.web.api.openapi import UNDOCUMENTED, openapi_path


def _routes(app) -> set[tuple[str, str]]:
    found = set()
    for rule in app.url_map.iter_rules():
        if rule.endpoint.startswith("api.") and rule.endpoint not in UNDOCUMENTED:
            path, _params = openapi_path(rule.rule)
            found |= {(path, method.lower()) for method in rule.methods - {"HEAD", "OPTIONS"}}
    return found


def test_the_document_is_served_without_a_key_and_validates(client):
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200 and response.mimetype == "application/json"
    document = response.get_json()
    validate(document)  # raises on any violation of the OpenAPI 3.1 schema
    assert document["openapi"].startswith("3.1") and document["servers"] == [{"url": "/api/v1"}]
    assert {"bearer", "apiKey"} <= set(document["components"]["securitySchemes"])


def test_every_api_route_in_the_url_map_is_documented(app, client):
    document = client.get("/api/v1/openapi.json").get_json()
    documented = {(path, method) for path, item in document["paths"].items() for method in item}
    routes = _routes(app)
    assert len(routes) >= 25
    assert routes - documented == set()
    assert documented - routes == set()  # and nothing documented that does not exist
    # No catch-all route: werkzeug answers unknown addresses and methods (as problem details, see test_api_http)
    assert UNDOCUMENTED == set()


def test_operations_name_their_parameters_answers_and_refs(client):
    document = client.get("/api/v1/openapi.json").get_json()
    schemas = document["components"]["schemas"]
    operation_ids = []
    for path, item in document["paths"].items():
        for method, operation in item.items():
            operation_ids.append(operation["operationId"])
            names = {param["name"] for param in operation["parameters"] if param["in"] == "path"}
            assert names == {part[1:-1] for part in path.split("/") if part.startswith("{")}, path
            assert operation["responses"], (path, method)
            if path != "/openapi.json":
                assert "401" in operation["responses"], (path, method)
            text = str(operation)
            for name in schemas:
                text = text.replace(f"#/components/schemas/{name}'", "")
            assert "#/components/schemas/" not in text, (path, method)  # every $ref resolves
    assert len(operation_ids) == len(set(operation_ids))
    cases = document["paths"]["/cases"]
    assert {"get", "post"} <= set(cases)
    assert {param["name"] for param in cases["get"]["parameters"]} >= {
        "status", "theme", "urgency", "overdue", "bbox", "created_from", "created_to", "page", "per_page"}
    assert any(param["name"] == "Idempotency-Key" for param in cases["post"]["parameters"])
    grids = document["paths"]["/grids"]["get"]["responses"]["200"]["content"]
    assert "application/geo+json" in grids


def test_errors_are_documented_as_problem_details_and_http_answers_where_they_happen(client):
    document = client.get("/api/v1/openapi.json").get_json()
    problem = document["components"]["schemas"]["Problem"]
    assert {"type", "title", "status", "detail", "code"} <= set(problem["required"])
    assert {"errors", "error"} <= set(problem["properties"])
    for path, item in document["paths"].items():
        for method, operation in item.items():
            for status, answer in operation["responses"].items():
                if int(status) >= 400:
                    assert list(answer["content"]) == ["application/problem+json"], (path, method, status)
            if method == "get":
                assert "304" in operation["responses"], path
            if any(param["in"] == "query" for param in operation["parameters"]):
                assert "400" in operation["responses"], (path, method)
    for path in ("/cases/{case_id}/transitions/{name}", "/cases/{case_id}/urge", "/cases/{case_id}/merge"):
        operation = document["paths"][path]["post"]
        assert "412" in operation["responses"], path
        assert any(param["name"] == "If-Match" for param in operation["parameters"]), path
    listing = {param["name"]: param["schema"] for param in document["paths"]["/cases"]["get"]["parameters"]}
    assert listing["status"]["pattern"] and listing["created_from"]["pattern"] and listing["bbox"]["pattern"]
    period = document["paths"]["/appeals"]["get"]["parameters"][0]["schema"]
    assert period["pattern"] == "^[0-9]{4}-(0[1-9]|1[0-2])$"
    created = document["components"]["schemas"]["Case"]["properties"]["created_at"]
    assert created["format"] == "date-time" and re.match(created["pattern"], "2026-03-01T08:00:00+08:00")
    assert not re.match(created["pattern"], "2026-03-01T08:00:00")   # the city's offset is always written
