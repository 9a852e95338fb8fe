"""Schemathesis against the served OpenAPI schema, in process: whatever a generated request holds, the server
answers it without a 5xx (a bounded number of examples per operation, so CI stays quick)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

schemathesis = pytest.importorskip("schemathesis")
from hypothesis import HealthCheck, settings  # noqa: E402

from communique.config import Settings  # noqa: E402
from communique.serve import create_app  # noqa: E402
from communique.service import Communique  # noqa: E402
from conftest_serve import ADMIN_KEY, copy_sample_db  # noqa: E402

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def served_schema(_sample_build, tmp_path_factory) -> Iterator[object]:
    db: Path = copy_sample_db(_sample_build, tmp_path_factory, "fuzz")
    service = Communique(Settings(db=db, admin_key=ADMIN_KEY, max_body_bytes=200_000, rate_limit_per_minute=0))
    app = create_app(service)
    yield schemathesis.openapi.from_asgi("/openapi.json", app)
    service.close()


schema = schemathesis.pytest.from_fixture("served_schema")


@schema.parametrize()
@settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))
def test_no_request_gets_a_server_error(case) -> None:
    response = case.call()
    assert response.status_code < 500, f"{case.method} {case.path}: {response.status_code} {response.text[:300]}"
