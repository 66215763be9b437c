"""Schemathesis over the live app's OpenAPI schema: every documented operation, generated input.

It fails on any 5xx, and on any response that the schema does not document (status code, content
type, body shape). Routes added later are fuzzed too, with no new test code.
"""

from __future__ import annotations

import os
import uuid

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.specs.openapi.checks import positive_data_acceptance

PASSWORD = "fuzz-long-secret-pass-42"


@pytest.fixture(scope="session")
def fuzz_user(daphne_server) -> dict[str, str]:
    username = f"fuzz{uuid.uuid4().hex[:8]}"
    response = requests.post(
        f"{daphne_server.url}/api/auth/register/",
        json={"username": username, "email": f"{username}@example.com", "password": PASSWORD},
        timeout=10,
    )
    response.raise_for_status()
    return {"username": username, "password": PASSWORD}


@pytest.fixture(scope="session")
def api_schema(daphne_server, fuzz_user):
    schema = schemathesis.openapi.from_url(f"{daphne_server.url}/api/schema/")

    @schema.auth()
    class TokenAuth:
        # Logged in afresh whenever a 401 says the token is gone (the fuzzer calls logout too).
        def get(self, case, context):
            response = requests.post(
                f"{daphne_server.url}/api/auth/login/", json=fuzz_user, timeout=10
            )
            return response.json()["token"]

        def set(self, case, data, context):
            case.headers = {**(case.headers or {}), "Authorization": f"Token {data}"}

    return schema


schema = schemathesis.pytest.from_fixture("api_schema")


@schema.parametrize()
@pytest.mark.timeout(1500)  # every operation of the API in one test: minutes, not seconds
@settings(
    max_examples=int(os.environ.get("FUZZ_EXAMPLES", "50")),
    # CI replays the same examples every run, so a red run is a regression, not a new draw;
    # FUZZ_RANDOM=1 explores new input (run it when you change the API).
    derandomize=os.environ.get("FUZZ_RANDOM") != "1",
    deadline=None,
    suppress_health_check=list(HealthCheck),
)
def test_api_conforms_to_its_schema(case):
    # Every check but one: schema-valid input may still be refused with a documented 400 (a wrong
    # password, a taken username, a weak password), which no JSON schema can express.
    case.call_and_validate(excluded_checks=[positive_data_acceptance])
