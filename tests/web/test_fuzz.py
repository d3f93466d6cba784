"""Fuzzing the machine interfaces from their own OpenAPI documents with schemathesis, in-process (WSGI):
the REST API (/api/v1) and Open311 (/open311/v2), with a real key of a real account, valid and invalid input for
every operation. No answer may be a server error (5xx), and every answer must match the documented schemas.
The REST API is held to the letter (STRICT_CHECKS): every status it answers is documented for the operation,
input the document calls invalid is refused (4xx), and the `Allow` of a 405 is true.

The number of examples is bounded (FUZZ_EXAMPLES per operation and generation mode) and the seed fixed
(FUZZ_SEED), so a run is the same every time and stays well under two minutes per backend; the number of requests
made is printed (docs/security.md, "Fuzzing"). Every failure of the run is collected and shown, not just the
first."""
from __future__ import annotations

import collections
import os

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, seed, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (allow_header_conformance, content_type_conformance,
                                               negative_data_rejection, response_schema_conformance,
                                               status_code_conformance)

from minqing.core.accounts import apikeys
from minqing.core.actors import system_actor

from tests.fixtures.api import hotline, report, street_vending

FUZZ_EXAMPLES = int(os.environ.get("MINQING_FUZZ_EXAMPLES", "10"))  # raise it for a deeper run
FUZZ_SEED = int(os.environ.get("MINQING_FUZZ_SEED", "20260301"))
CHECKS = [not_a_server_error, response_schema_conformance, content_type_conformance]
STRICT_CHECKS = [*CHECKS, status_code_conformance, negative_data_rejection, allow_header_conformance]


@pytest.fixture
def admin_key(platform, world, base_data, api, tmp_path, monkeypatch) -> str:  # noqa: F811
    """A real key of the real administrator account, on a world with base data and two cases."""
    monkeypatch.setenv("MINQING_UPLOAD_DIR", str(tmp_path / "uploads"))
    report(api, "worker", street_vending(**{"details.photos": [api("worker").upload()]}))
    report(api, "other_worker", hotline(title="酒泉路井盖缺失"))
    with platform.db.session() as session:
        _row, key = apikeys.create(session, system_actor("test"), "admin", "fuzzing")
    return key


def fuzz(app, document: dict, headers: dict[str, str], checks=CHECKS) -> collections.Counter:
    """Every operation of `document`, FUZZ_EXAMPLES valid and FUZZ_EXAMPLES invalid requests each, checked with
    `checks`; every failure (schemathesis names the request that broke a check) is collected and the test
    fails listing them all. Returns the requests made per status class."""
    schema = schemathesis.openapi.from_dict(document)
    made: collections.Counter = collections.Counter()
    failures: list[str] = []
    for result in schema.get_all_operations():
        operation = result.ok()
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            @seed(FUZZ_SEED)
            @settings(max_examples=FUZZ_EXAMPLES, deadline=None, database=None, derandomize=False,
                      phases=[Phase.explicit, Phase.generate], suppress_health_check=list(HealthCheck),
                      report_multiple_bugs=False)
            @given(case=operation.as_strategy(mode))
            def one(case):
                response = case.call_and_validate(app=app, headers=headers, checks=checks)
                made[f"{response.status_code // 100}xx"] += 1
            try:
                one()
            except Unsatisfiable:  # nothing to make invalid (an operation without parameters or body)
                assert mode == GenerationMode.NEGATIVE, operation.label
            except (Exception, BaseExceptionGroup) as failure:  # noqa: BLE001  (recorded; the run goes on)
                failures.append(f"{operation.label} [{mode.value}]: {str(failure)[:1500]}")
    if failures:
        pytest.fail(f"{len(failures)} operations failed:\n\n" + "\n\n".join(failures), pytrace=False)
    return made


def _report(capsys, interface: str, made: collections.Counter) -> None:
    with capsys.disabled():
        print(f"\n[fuzz] {interface}: {sum(made.values())} requests, {dict(sorted(made.items()))}")


def test_the_rest_api_survives_fuzzing(app, client, admin_key, capsys):
    document = client.get("/api/v1/openapi.json").get_json()
    made = fuzz(app, document, {"Authorization": f"Bearer {admin_key}"}, STRICT_CHECKS)
    _report(capsys, "REST /api/v1", made)
    assert made["5xx"] == 0 and made["2xx"] > 0 and made["4xx"] > 0
    assert sum(made.values()) >= len(document["paths"]) * FUZZ_EXAMPLES


def test_open311_survives_fuzzing(app, client, admin_key, capsys):
    document = client.get("/open311/v2/openapi.json").get_json()
    made = fuzz(app, document, {"X-API-Key": admin_key})
    _report(capsys, "Open311 /open311/v2", made)
    assert made["5xx"] == 0 and made["2xx"] > 0 and made["4xx"] > 0
    assert sum(made.values()) >= len(document["paths"]) * FUZZ_EXAMPLES
