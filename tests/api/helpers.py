"""Assertions and builders shared by the API tests."""

from __future__ import annotations

import io
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from flask import Flask
from sqlalchemy import func, select
from werkzeug.datastructures import FileStorage
from werkzeug.test import TestResponse, encode_multipart

from carbon_market.emitters.models import Enterprise
from carbon_market.models import Base  # importing it registers every table on the metadata

PROBLEM_JSON = "application/problem+json"
#: Catalogues and the migration marker: seeded by the migration, not written by requests
#: (except ``sector``, which is counted on purpose).
UNCOUNTED_TABLES = {"alembic_version", "district"}


def assert_problem(
    response: TestResponse,
    status: int,
    slug: str,
    *,
    pointers: set[str] | None = None,
) -> dict[str, Any]:
    """Check an RFC 9457 body: content type, every member, the request id, the pointers.

    ``pointers`` must equal the set of ``errors[].pointer`` exactly (so an extra complaint
    fails the test too). Returns the body for further checks.
    """
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == PROBLEM_JSON
    body = response.get_json()
    assert body["type"] == f"/api/problems/{slug}"
    assert body["status"] == status
    assert isinstance(body["title"], str)
    assert body["title"]
    assert isinstance(body["detail"], str)
    assert body["detail"]
    assert body["instance"] == response.request.path
    assert body["request_id"] == response.headers["X-Request-ID"]
    if pointers is not None:
        assert {e["pointer"] for e in body.get("errors", [])} == pointers, body
    return body


def row_counts(app: Flask) -> dict[str, int]:
    """Rows per table, read on a connection of its own (no session snapshot can hide writes)."""
    engine = app.extensions["carbon_market.engine"]
    with engine.connect() as conn:
        return {
            table.name: conn.scalar(select(func.count()).select_from(table)) or 0
            for table in Base.metadata.sorted_tables
            if table.name not in UNCOUNTED_TABLES
        }


def multipart(**files: tuple[str, str | bytes]) -> dict[str, Any]:
    """Keyword arguments for ``client.post`` that upload ``name=(filename, content)`` files.

    The body is encoded in memory: the test client would spool a large body to a temporary
    file it never closes, and the ResourceWarning fails the run under ``filterwarnings=error``.
    """
    values = {
        field: FileStorage(
            io.BytesIO(content.encode() if isinstance(content, str) else content),
            filename=filename,
        )
        for field, (filename, content) in files.items()
    }
    boundary, body = encode_multipart(values)
    return {"data": body, "content_type": f"multipart/form-data; boundary={boundary}"}


def csv_text(header: list[str], rows: list[list[str]]) -> str:
    return "\n".join(",".join(line) for line in [header, *rows]) + "\n"


#: Every way a caller can present itself, as the authorization matrix names them.
ROLES = (
    "regulator",
    "enterprise_own",
    "enterprise_other",
    "verifier",
    "finance_officer",
    "auditor",
    "anonymous",
)


@dataclass
class Tenants:
    """Enterprise ``own`` and enterprise ``other`` (one facility each), a user bound to each,
    and one user for every other role (keys as in :data:`ROLES`)."""

    own: Enterprise
    other: Enterprise
    facility_id: int
    other_facility_id: int
    users: dict[str, Any]

    def ids(self) -> dict[str, int]:
        """Values for the ``{own}``, ``{other}``, ``{facility}`` and ``{other_facility}`` slots
        of URL templates."""
        return {
            "own": self.own.id,
            "other": self.other.id,
            "facility": self.facility_id,
            "other_facility": self.other_facility_id,
        }


@contextmanager
def writes_nothing(app: Flask) -> Iterator[None]:
    """Assert that the requests made inside the block leave every table as it was."""
    before = row_counts(app)
    yield
    assert row_counts(app) == before
