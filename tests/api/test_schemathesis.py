"""Bad input anywhere in the API gets a 4xx, never a 5xx: schemathesis over the OpenAPI document.

Runs in-process against the WSGI app with a bounded number of examples per operation, as an
administrator (who reaches the deepest code paths; scoping refusals are tested per module).
"""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, settings

from jigi.orgs.services import api_token_create
from jigi.wsgi import application

schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", application)


@pytest.fixture
def admin_token(world):
    _, raw = api_token_create(user=world.users["admin"], name="schemathesis")
    return raw


@pytest.fixture(autouse=True)
def _keep_test_connection():
    """The WSGI handler closes the DB connection after each request (close_old_connections),
    which would end the test's transaction on PostgreSQL; Django's own test client
    disconnects it the same way."""
    from django.core import signals
    from django.db import close_old_connections

    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    yield
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


@pytest.mark.django_db
@schema.parametrize()
@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    derandomize=True,
)
def test_no_server_error_on_any_input(case, admin_token):
    response = case.call(headers={"Authorization": f"Bearer {admin_token}"})
    assert response.status_code < 500, (
        f"{case.method} {case.formatted_path} -> {response.status_code}: {response.text[:500]}"
    )


def test_openapi_document_is_served(client):
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    assert response.json()["info"]["title"] == "Jigi API"
