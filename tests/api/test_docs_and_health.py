"""OpenAPI document, the bundled Swagger UI, and the liveness and readiness probes."""

from __future__ import annotations

import json
import re
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from flask import Flask
from flask.testing import FlaskClient

from carbon_market.kernel import migrate
from tests.api.helpers import assert_problem


@pytest.fixture
def spec(client: FlaskClient) -> dict[str, object]:
    response = client.get("/api/openapi.json")
    assert response.status_code == 200
    assert response.mimetype == "application/json"
    parsed: dict[str, object] = json.loads(response.get_data(as_text=True))
    return parsed


def test_openapi_document_is_version_3_json(spec: dict[str, object]) -> None:
    assert isinstance(spec["openapi"], str)
    assert re.fullmatch(r"3\.\d+\.\d+", spec["openapi"])
    assert spec["info"] == {
        "title": "Carbon market and green finance platform",
        "version": "v1",
    }


def test_openapi_document_is_the_same_on_every_request(client: FlaskClient) -> None:
    # The views are documented on first use of the spec (carbon_market.kernel.http.Api.spec): a
    # second request must neither document them again nor lose any.
    first = client.get("/api/openapi.json").get_json()
    second = client.get("/api/openapi.json").get_json()
    assert first == second
    tags = [tag["name"] for tag in first["tags"]]
    assert len(tags) == len(set(tags)) > 10
    assert "/api/v1/enterprises" in first["paths"]


def test_openapi_document_is_whole_when_first_requested_by_several_threads_at_once(
    app: Flask,
) -> None:
    # gunicorn's threads may ask for the spec together; the views must be documented once.
    barrier = threading.Barrier(6)

    def fetch() -> dict[str, object]:
        client = app.test_client()
        barrier.wait()
        response = client.get("/api/openapi.json")
        assert response.status_code == 200
        return response.get_json()

    with ThreadPoolExecutor(max_workers=6) as pool:
        documents = list(pool.map(lambda _: fetch(), range(6)))
    assert all(document == documents[0] for document in documents)
    tags = [tag["name"] for tag in documents[0]["tags"]]  # type: ignore[index]
    assert len(tags) == len(set(tags))


@pytest.mark.parametrize(
    ("path", "methods"),
    [
        ("/api/v1/enterprises", {"get", "post"}),
        ("/api/v1/enterprises/{enterprise_id}", {"get", "patch"}),
        ("/api/v1/enterprises/{enterprise_id}/contacts", {"put"}),
        ("/api/v1/enterprises/{enterprise_id}/status", {"get", "post"}),
        ("/api/v1/enterprises/{enterprise_id}/facilities", {"get", "post"}),
        ("/api/v1/enterprises/{enterprise_id}/facilities/{facility_id}", {"get", "patch"}),
        ("/api/v1/imports/enterprises", {"post"}),
        ("/api/v1/audit-events", {"get"}),
        ("/api/v1/auth/login", {"post"}),
    ],
)
def test_openapi_document_describes_each_resource_and_method(
    spec: dict[str, object], path: str, methods: set[str]
) -> None:
    paths = spec["paths"]
    assert isinstance(paths, dict)
    assert path in paths
    assert methods <= set(paths[path])


def test_openapi_document_declares_bearer_auth_and_problem_schema(
    spec: dict[str, object],
) -> None:
    components = spec["components"]
    assert isinstance(components, dict)
    assert components["securitySchemes"]["bearerAuth"] == {"type": "http", "scheme": "bearer"}
    assert spec["security"] == [{"bearerAuth": []}]
    problem = components["schemas"]["Problem"]["properties"]
    assert {"type", "title", "status", "detail", "instance", "request_id", "errors"} <= set(problem)


def test_swagger_ui_page_loads_its_assets_from_this_server_not_a_cdn(
    client: FlaskClient,
) -> None:
    response = client.get("/api/docs")
    assert response.status_code == 200
    assert response.mimetype == "text/html"
    html = response.get_data(as_text=True)
    assert "/api/docs/static/swagger-ui-bundle.js" in html
    assert "/api/openapi.json" in html
    assert not re.search(r"(src|href)=\"https?://", html)


@pytest.mark.parametrize(
    "asset", ["swagger-ui-bundle.js", "swagger-ui-standalone-preset.js", "swagger-ui.css"]
)
def test_swagger_ui_assets_referenced_by_the_page_are_served(
    client: FlaskClient, asset: str
) -> None:
    assert f"/api/docs/static/{asset}" in client.get("/api/docs").get_data(as_text=True)
    with client.get(f"/api/docs/static/{asset}") as response:
        assert response.status_code == 200
        assert len(response.get_data()) > 1000


@pytest.mark.parametrize(
    "path",
    [
        pytest.param("/api/docs/static/no-such-asset.js", id="missing-asset"),
        pytest.param("/api/docs/static/../../../../etc/passwd", id="dot-dot-traversal"),
        pytest.param("/api/docs/static/..%2f..%2f__init__.py", id="encoded-traversal"),
    ],
)
def test_swagger_ui_static_route_serves_nothing_outside_its_folder(
    client: FlaskClient, path: str
) -> None:
    with client.get(path) as response:
        assert_problem(response, 404, "not-found")


def test_liveness_probe_answers_ok(client: FlaskClient) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok"}


def test_readiness_probe_reports_ready_with_migrations_at_head(
    app: Flask, client: FlaskClient
) -> None:
    heads = migrate.head_revisions(str(app.extensions["carbon_market.engine"].url))

    response = client.get("/readyz")

    assert response.status_code == 200
    body = response.get_json()
    assert body["status"] == "ready"
    assert body["database"] == "reachable"
    assert body["migrations"]["current"] == sorted(heads)
