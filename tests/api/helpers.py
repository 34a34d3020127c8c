"""Assertions and builders shared by the API tests."""

from __future__ import annotations

import io
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select
from werkzeug.datastructures import FileStorage
from werkzeug.test import TestResponse, encode_multipart

from carbon_market.emitters.models import Enterprise
from carbon_market.entrypoints.models import Base
from carbon_market.ledger.models import Account, Holding, LedgerTransaction, Posting

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


def multipart(
    form: dict[str, str] | None = None, **files: tuple[str, str | bytes]
) -> dict[str, Any]:
    """Keyword arguments for ``client.post`` that upload ``name=(filename, content)`` files,
    with the text fields ``form`` beside them.

    The body is encoded in memory: the test client would spool a large body to a temporary
    file it never closes, and the ResourceWarning fails the run under ``filterwarnings=error``.
    """
    values: dict[str, Any] = {
        field: FileStorage(
            io.BytesIO(content.encode() if isinstance(content, str) else content),
            filename=filename,
        )
        for field, (filename, content) in files.items()
    }
    values |= form or {}
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
    "exchange",
    "anonymous",
)


@dataclass
class Tenants:
    """Enterprise ``own`` and enterprise ``other`` (one facility each), a user bound to each,
    and one user for every other role (keys as in :data:`ROLES`), plus a second user of
    ``own`` (``enterprise_own_second``) and a second regulator (``regulator_second``) for the
    four-eyes workflow.

    The registry holds :data:`OWN_FUNDED` allowances of vintage :data:`VINTAGE` in ``own``'s
    compliance account, :data:`PENDING_QUANTITY` of them reserved by ``pending_tx_id`` (a
    retirement that the second ``own`` user requested), and :data:`OTHER_FUNDED` in
    ``other``'s. ``completed_tx_id`` is the last allocation into ``own``'s account
    (:data:`LAST_ALLOCATION` units) and ``trust_entry_id`` a pending entry of ``own``'s
    trusted list naming ``other``'s account, proposed by the second ``own`` user.
    """

    own: Enterprise
    other: Enterprise
    facility_id: int
    other_facility_id: int
    users: dict[str, Any]
    own_account: str
    other_account: str
    pending_tx_id: int
    completed_tx_id: int
    trust_entry_id: int

    def ids(self) -> dict[str, int | str]:
        """Values for the slots of URL templates and request bodies: ``{own}``, ``{other}``,
        ``{facility}``, ``{other_facility}``, ``{account}``, ``{other_account}``, ``{tx}``
        (the pending transaction), ``{completed_tx}`` and ``{entry}``."""
        return {
            "own": self.own.id,
            "other": self.other.id,
            "facility": self.facility_id,
            "other_facility": self.other_facility_id,
            "account": self.own_account,
            "other_account": self.other_account,
            "tx": self.pending_tx_id,
            "completed_tx": self.completed_tx_id,
            "entry": self.trust_entry_id,
        }


#: The registry state the ``tenants`` fixture sets up (see :class:`Tenants`).
VINTAGE = 2025
OWN_FUNDED = 1000
LAST_ALLOCATION = 100
OTHER_FUNDED = 500
PENDING_QUANTITY = 100
ISSUED = 5000


@contextmanager
def writes_nothing(app: Flask) -> Iterator[None]:
    """Assert that the requests made inside the block leave every table as it was."""
    before = row_counts(app)
    yield
    assert row_counts(app) == before


def ledger_state(app: Flask) -> dict[str, Any]:
    """Every holding (with its reserved units), every transaction's status and the number of
    postings, read on a connection of its own."""
    engine = app.extensions["carbon_market.engine"]
    with engine.connect() as conn:
        holdings = {
            (number, unit_kind, vintage): (quantity, reserved)
            for number, unit_kind, vintage, quantity, reserved in conn.execute(
                select(
                    Account.number,
                    Holding.unit_kind,
                    Holding.vintage,
                    Holding.quantity,
                    Holding.reserved,
                ).join(Account, Account.id == Holding.account_id)
            )
        }
        statuses = {
            tx_id: status
            for tx_id, status in conn.execute(
                select(LedgerTransaction.id, LedgerTransaction.status)
            )
        }
        postings = conn.scalar(select(func.count()).select_from(Posting))
    return {"holdings": holdings, "transactions": statuses, "postings": postings}


@contextmanager
def moves_nothing(app: Flask) -> Iterator[None]:
    """Assert that the requests made inside the block change no table's row count, no
    holding (quantity or reserved), no transaction's status and post nothing."""
    before_counts, before_ledger = row_counts(app), ledger_state(app)
    yield
    assert ledger_state(app) == before_ledger
    assert row_counts(app) == before_counts


# --- the registry over HTTP ---------------------------------------------------------------

TRANSFERS = "/api/v1/transfers"
ISSUANCES = "/api/v1/issuances"
TRANSACTIONS = "/api/v1/transactions"
ACCOUNTS = "/api/v1/accounts"


def transfer_body(
    from_account: str, to_account: str, quantity: int, **extra: Any
) -> dict[str, Any]:
    """A transfer request body of allowances of :data:`VINTAGE` unless ``extra`` says else."""
    return {
        "from_account": from_account,
        "to_account": to_account,
        "unit_kind": "allowance",
        "vintage": VINTAGE,
        "quantity": quantity,
        **extra,
    }


def post_transfer(
    client: FlaskClient, headers: dict[str, str], body: dict[str, Any], *, key: str | None = None
) -> TestResponse:
    """POST a transfer with a fresh ``Idempotency-Key`` unless ``key`` is given."""
    return client.post(
        TRANSFERS, json=body, headers={**headers, "Idempotency-Key": key or uuid.uuid4().hex}
    )


def decide(
    client: FlaskClient, headers: dict[str, str], tx_id: int, action: str = "approve"
) -> TestResponse:
    return client.post(f"{TRANSACTIONS}/{tx_id}/{action}", headers=headers)


def holdings_of(
    client: FlaskClient, headers: dict[str, str], number: str
) -> dict[tuple[str, int], dict[str, int]]:
    """GET an account's holdings as ``{(unit_kind, vintage): {quantity, reserved, available}}``."""
    response = client.get(f"{ACCOUNTS}/{number}/holdings", headers=headers)
    assert response.status_code == 200, response.get_data(as_text=True)
    return {
        (h["unit_kind"], h["vintage"]): {
            "quantity": h["quantity"],
            "reserved": h["reserved"],
            "available": h["available"],
        }
        for h in response.get_json()
    }


def allowances(client: FlaskClient, headers: dict[str, str], number: str) -> tuple[int, int]:
    """(quantity, reserved) of the account's allowances of :data:`VINTAGE`; (0, 0) if none."""
    held = holdings_of(client, headers, number).get(("allowance", VINTAGE))
    return (held["quantity"], held["reserved"]) if held else (0, 0)
