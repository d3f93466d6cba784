"""The OpenAPI document of Open311: served without a key, valid OpenAPI 3.1, and covering every route of the
open311 blueprint that Flask knows (a new route without documentation fails here), JSON and XML answers."""
from openapi_spec_validator import validate

from minqing.web.api.openapi import openapi_path
from minqing.web.open311.openapi import UNDOCUMENTED

PREFIX = "/open311/v2"


def _routes(app) -> set[tuple[str, str]]:
    found = set()
    for rule in app.url_map.iter_rules():
        if rule.endpoint.startswith("open311.") and rule.endpoint not in UNDOCUMENTED:
            path, _params = openapi_path(rule.rule, PREFIX)
            found |= {(path, method.lower()) for method in rule.methods - {"HEAD", "OPTIONS"}}
    return found


def test_the_document_is_served_without_a_key_and_validates(client):
    response = client.get(f"{PREFIX}/openapi.json")
    assert response.status_code == 200 and response.mimetype == "application/json"
    document = response.get_json()
    validate(document)
    assert document["openapi"].startswith("3.1") and document["servers"] == [{"url": PREFIX}]


def test_every_open311_route_in_the_url_map_is_documented(app, client):
    document = client.get(f"{PREFIX}/openapi.json").get_json()
    documented = {(path, method) for path, item in document["paths"].items() for method in item}
    routes = _routes(app)
    assert len(routes) == 7
    assert routes - documented == set() and documented - routes == set()
    assert UNDOCUMENTED == {"open311.unknown"}
    assert "open311.unknown" in {rule.endpoint for rule in app.url_map.iter_rules()}


def test_operations_name_their_formats_answers_and_refs(client):
    document = client.get(f"{PREFIX}/openapi.json").get_json()
    schemas = document["components"]["schemas"]
    for path, item in document["paths"].items():
        for method, operation in item.items():
            names = {param["name"] for param in operation["parameters"] if param["in"] == "path"}
            assert names == {part[1:-1] for part in path.replace(".", "/").split("/") if part.startswith("{")}
            if "{fmt}" in path:
                fmt = next(param for param in operation["parameters"] if param["name"] == "fmt")
                assert fmt["schema"]["enum"] == ["json", "xml"]
                assert all({"application/json", "text/xml"} <= set(answer["content"])
                           for answer in operation["responses"].values()), (path, method)
            text = str(operation)
            for name in schemas:
                text = text.replace(f"#/components/schemas/{name}'", "")
            assert "#/components/schemas/" not in text, (path, method)
    assert "service_code" in document["paths"]["/requests.{fmt}"]["post"]["requestBody"]["content"][
        "application/x-www-form-urlencoded"]["schema"]["required"]
