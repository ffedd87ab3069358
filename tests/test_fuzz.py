"""Fuzz every endpoint from the OpenAPI schema with schemathesis: no 5xx, and every response
(status, body) as the schema declares it."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis import checks
from schemathesis.core.result import Ok

from app.db import migrate
from app.main import create_app
from app.runtime import Runtime
from tests.support.factories import Customer, make_account, settings_for
from tests.support.fake_openai import fake_openai
from tests.support.fake_stripe import fake_stripe

# A request the schema allows may still be refused for a business reason (an amount that is not on
# sale, an upload that is not audio): what must hold is no 5xx and answers that match the schema.
CHECKS = [
    checks.not_a_server_error,
    checks.status_code_conformance,
    checks.content_type_conformance,
    checks.response_schema_conformance,
    checks.response_headers_conformance,
]
MAX_SECONDS = 10.0
# The full-size run: VOXPARSE_FUZZ_EXAMPLES=500 .venv/bin/pytest tests/test_fuzz.py
EXAMPLES = int(os.environ.get("VOXPARSE_FUZZ_EXAMPLES", "25"))


@pytest.fixture(scope="module")
def fuzz_target(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[object, Customer]]:
    """The app with every backend configured (scripted LLM and Stripe stand-ins), so that a 5xx can
    only mean a bug."""
    url = f"sqlite:///{tmp_path_factory.mktemp('fuzz') / 'fuzz.db'}"
    migrate(url)
    with fake_openai() as upstream, fake_stripe() as stripe_api:
        settings = settings_for(
            url,
            apex_base_url=upstream.base_url,
            apex_model="upstream-model",
            stripe_secret_key="sk_test_" + "f" * 24,
            stripe_webhook_secret="whsec_" + "f" * 24,
            stripe_api_base=stripe_api.api_base,
        )
        runtime = Runtime.create(settings)
        customer = make_account(runtime, credit_cents=100_000)
        app = create_app(runtime=runtime)
        app.state.runtime = runtime  # what the lifespan would do
        yield app, customer
        runtime.close()


@pytest.mark.parametrize("key", ["valid", "unknown", "malformed"])
def test_every_endpoint_against_its_schema(fuzz_target: tuple[object, Customer], key: str) -> None:
    app, customer = fuzz_target
    api_key = {"valid": customer.key, "unknown": "vxp_live_" + "u" * 43, "malformed": "not a key"}[key]
    api = schemathesis.openapi.from_asgi("/openapi.json", app)
    operations = []
    for result in api.get_all_operations():
        assert isinstance(result, Ok), result  # the schema itself must be valid
        operations.append(result.ok())
    assert len(operations) >= 12
    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck), database=None)
        def fuzz(case: Any) -> None:
            started = time.monotonic()
            case.call_and_validate(headers={"X-API-Key": api_key}, checks=CHECKS)
            assert time.monotonic() - started < MAX_SECONDS, f"{case.method} {case.path} took too long"

        fuzz()
