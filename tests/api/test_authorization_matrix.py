"""Every endpoint × every role, with the status each must get (OWASP API1 BOLA and API5).

The target is always enterprise ``own``: its user must get through where tenants may, the
user of enterprise ``other`` must get 404 (never 403: that would confirm the id exists),
read-only roles must get 403 on writes, and anonymous callers 401 on everything not public.
A refused request must also leave every table as it was, and move no unit.

The registry rows target ``own``'s compliance account (``{account}``), its pending retirement
(``{tx}``, requested by the second ``own`` user so that ``enterprise_own`` may decide on it),
its last allocation (``{completed_tx}``) and its pending trusted-list entry (``{entry}``).
The report rows target ``own``'s reports: a draft (``{report}``), a submitted one
(``{submitted_report}``), one assigned to the matrix verifier (``{assigned_report}``) and a
verified one (``{verified_report}``).
"""

from __future__ import annotations

import io
import json
import string
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal as D
from typing import Any

import openpyxl
import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from allocation import auctions as allocation_auctions
from allocation import service as allocation_service
from allocation.issuing import stages as allocation_stages
from allocation.models import (
    AllocationAdjustment,
    Auction,
    AuctionBid,
    AuctionStatus,
    RecordStatus,
    Stage,
)
from carbon_market.compliance import service as compliance_service
from carbon_market.kernel.access.roles import Actor
from carbon_market.kernel.auth import service as auth_service
from carbon_market.ledger import transactions as ledger_service
from carbon_market.ledger.accounts import service as ledger_accounts
from carbon_market.ledger.accounts.service import GOVERNMENT_ACCOUNTS
from carbon_market.ledger.enums import AccountKind
from carbon_market.ledger.models import Account
from carbon_market.mrv.factors import library as factor_library
from carbon_market.mrv.factors.models import EmissionFactorSet, FactorSetStatus
from carbon_market.mrv.factors.schemas import FactorRowSchema
from carbon_market.mrv.reports import workflow as report_service
from carbon_market.notifications import service as notifications
from carbon_market.trading import groups as trading_groups
from carbon_market.trading import service as trading_service
from carbon_market.trading.models import TradeKind
from finance.greenpower import certificates as greenpower_certificates
from finance.greenpower import registry as greenpower_registry
from finance.greenpower.models import PlantKind
from finance.projects import financing as finance_financing
from finance.projects import monitoring as finance_monitoring
from finance.projects import service as finance_service
from finance.projects.enums import Instrument, ProjectCategory
from tests.api.helpers import ROLES, Tenants, assert_problem, csv_text, moves_nothing, multipart
from tests.factories import PASSWORD, credit_code
from tests.factories.factors import small_rows, small_set

AUCTION_RESERVE = GOVERNMENT_ACCOUNTS[AccountKind.GOVERNMENT_RESERVE]
AUCTION_ACCOUNT = GOVERNMENT_ACCOUNTS[AccountKind.AUCTION]
SLUGS = {401: "not-authenticated", 403: "permission-denied", 404: "not-found"}
#: Marks the bulk import row: its body is a multipart CSV upload, built per test.
UPLOAD = object()
#: Marks the factor set import row: a multipart CSV of a small, complete factor set.
FACTOR_UPLOAD = object()
#: Mark the climate-finance import rows: a CSV of one project, and of one financing of the
#: slot project ``{project}``.
PROJECT_UPLOAD = object()
#: Mark the green-power import rows: a CSV of one trade, and of one certificate block, of
#: the slot plant.
GREEN_TRADE_UPLOAD = object()
GREEN_CERTIFICATE_UPLOAD = object()
FINANCING_UPLOAD = object()
#: Marks the plan import row: the JSON document of a 2029 plan, as exported.
PLAN_UPLOAD = object()
#: Marks the trade-file import row: a CSV of one trade ``own`` → ``other``.
TRADE_UPLOAD = object()

E = "/api/v1/enterprises"
A = "/api/v1/accounts"
T = "/api/v1/transactions"
EF = "/api/v1/emission-factors"
REP = "/api/v1/reports"
GP = "/api/v1/green-power"
SYN = "/api/v1/synergy"
FIN = "/api/v1/finance"
FP = FIN + "/projects/{project}"
AL = "/api/v1/allocation"
ALP = AL + "/plans/{plan}"


def _allocation_document(year: int) -> dict[str, Any]:
    return {
        "year": year,
        "cap": 100000,
        "reserve_share": "0.05",
        "auction_share": "0.03",
        "base_years": [year - 3, year - 2, year - 1],
        "pre_allocation_share": "0.7",
        "sectors": {
            "cement": {"method": "historical_emissions", "control_factor": "0.97"},
            "power": {"method": "benchmark", "benchmarks": {"coal_unit": "0.8"}},
        },
    }


#: An auction's terms, its window open at the matrix clock (2026-06-01 10:00 in Beijing).
AUCTION_TERMS = {
    "year": 2026,
    "volume": 100,
    "reserve_price": "50.00",
    "bidder_limit": 50,
    "opens_at": "2026-06-01T08:00:00+08:00",
    "closes_at": "2026-06-02T15:00:00+08:00",
}
MKT = "/api/v1/market"
CY = "/api/v1/compliance"
MARKET_RANGE = "unit_kind=allowance&from=2026-06-01&to=2026-06-30"
#: 500 MWh × 0.5366 tCO2/MWh = 268.3 t: one stream is enough to file a report.
REPORT_STREAMS = [{"kind": "electricity", "quantity": "500", "unit": "MWh", "month": 3}]


@dataclass(frozen=True)
class Idempotent:
    """A JSON body sent with an ``Idempotency-Key`` header (required for transfers)."""

    body: dict[str, Any]


@dataclass(frozen=True)
class WorkbookUpload:
    """A multipart upload of a report workbook (one stream, :data:`REPORT_STREAMS`) with the
    text fields ``form`` beside it."""

    form: dict[str, str]


def _statuses(ok: int, **by_role: int) -> dict[str, int]:
    return {role: by_role.get(role, ok) for role in ROLES}


def public(ok: int = 200) -> dict[str, int]:
    """Anyone, even without a token."""
    return _statuses(ok)


def any_user(ok: int = 200) -> dict[str, int]:
    """Any authenticated user; results are scoped by the service where needed."""
    return _statuses(ok, anonymous=401)


def tenant_read(ok: int = 200) -> dict[str, int]:
    """Every role may read, but an enterprise user only their own enterprise's data."""
    return _statuses(ok, enterprise_other=404, anonymous=401)


def regulator_only(ok: int) -> dict[str, int]:
    return _statuses(403, regulator=ok, anonymous=401)


def regulator_and_auditor(ok: int = 200) -> dict[str, int]:
    return _statuses(403, regulator=ok, auditor=ok, anonymous=401)


def registry_read(ok: int = 200) -> dict[str, int]:
    """Regulators, auditors and the owning enterprise read registry data; the verifier and
    the finance officer have no business with it; another enterprise finds nothing."""
    return _statuses(
        403, regulator=ok, auditor=ok, enterprise_own=ok, enterprise_other=404, anonymous=401
    )


def registry_list(ok: int = 200) -> dict[str, int]:
    """Lists a tenant sees scoped to its own enterprise (so ``other`` gets 200 too)."""
    return _statuses(
        403, regulator=ok, auditor=ok, enterprise_own=ok, enterprise_other=ok, anonymous=401
    )


def report_read(ok: int = 200) -> dict[str, int]:
    """Regulators, auditors and the owning enterprise; a verifier only the reports assigned
    to them (the draft is not); another enterprise finds nothing."""
    return _statuses(
        403,
        regulator=ok,
        auditor=ok,
        enterprise_own=ok,
        enterprise_other=404,
        verifier=404,
        anonymous=401,
    )


def finance_read(ok: int = 200) -> dict[str, int]:
    """Regulators, finance officers, auditors, and the sponsoring enterprise (``own``); the
    verifier and the exchange have no business with climate finance; another enterprise
    finds nothing."""
    return _statuses(ok, verifier=403, exchange=403, enterprise_other=404, anonymous=401)


def finance_only(ok: int) -> dict[str, int]:
    return _statuses(403, finance_officer=ok, anonymous=401)


def portfolio_read() -> dict[str, int]:
    """Figures over every sponsor: not for enterprises (nor verifiers)."""
    return _statuses(403, regulator=200, finance_officer=200, auditor=200, anonymous=401)


def owner_writes(ok: int, *, regulator: int) -> dict[str, int]:
    """Writes by the owning enterprise; ``regulator`` is what a regulator gets."""
    return _statuses(
        403, regulator=regulator, enterprise_own=ok, enterprise_other=404, anonymous=401
    )


TRANSFER = {
    "from_account": "{account}",
    "to_account": "{other_account}",
    "unit_kind": "allowance",
    "vintage": 2025,
    "quantity": 10,
    "memo": "转让给乙",
}


ENDPOINTS: list[tuple[str, str, Any, dict[str, int]]] = [
    # enterprises
    ("GET", E, None, any_user()),
    (
        "POST",
        E,
        {
            "credit_code": credit_code(900001),
            "name": "新企业",
            "sector": "power",
            "district": "bda",
        },
        regulator_only(201),
    ),
    ("GET", E + "/{own}", None, tenant_read()),
    ("PATCH", E + "/{own}", {"name_en": "Corrected Name"}, regulator_only(200)),
    (
        "PUT",
        E + "/{own}/contacts",
        {"contacts": [{"name": "周工", "phone": "010-55556666"}]},
        _statuses(403, regulator=200, enterprise_own=200, enterprise_other=404, anonymous=401),
    ),
    ("GET", E + "/{own}/status", None, tenant_read()),
    (
        "POST",
        E + "/{own}/status",
        {"status": "active", "effective_from": "2026-06-01"},
        regulator_only(200),
    ),
    # facilities
    ("GET", E + "/{own}/facilities", None, tenant_read()),
    (
        "POST",
        E + "/{own}/facilities",
        {"name": "2号燃煤机组", "facility_type": "coal_unit"},
        regulator_only(201),
    ),
    ("GET", E + "/{own}/facilities/{facility}", None, tenant_read()),
    (
        "PATCH",
        E + "/{own}/facilities/{facility}",
        {"facility_type": "gas_unit"},
        regulator_only(200),
    ),
    # another enterprise's facility reached through this enterprise's URL: nobody finds it
    ("GET", E + "/{own}/facilities/{other_facility}", None, _statuses(404, anonymous=401)),
    # catalogues and imports
    ("GET", "/api/v1/catalogues/sectors", None, public()),
    ("GET", "/api/v1/catalogues/districts", None, public()),
    (
        "POST",
        "/api/v1/catalogues/sectors",
        {"code": "steel", "label_zh": "钢铁", "label_en": "Iron and steel"},
        regulator_only(201),
    ),
    ("POST", "/api/v1/imports/enterprises", UPLOAD, regulator_only(201)),
    # audit log
    ("GET", "/api/v1/audit-events", None, regulator_and_auditor()),
    # auth and users
    ("POST", "/api/v1/auth/login", {"name": "alpha", "password": PASSWORD}, public(201)),
    ("GET", "/api/v1/auth/me", None, any_user()),
    ("GET", "/api/v1/auth/tokens", None, any_user()),
    (
        "DELETE",
        "/api/v1/auth/tokens/{token}",  # a token of the own enterprise's user
        None,
        _statuses(404, regulator=200, enterprise_own=200, anonymous=401),
    ),
    ("GET", "/api/v1/users", None, regulator_and_auditor()),
    (
        "POST",
        "/api/v1/users",
        {"name": "new.verifier", "role": "verifier", "password": "a-long-enough-password"},
        regulator_only(201),
    ),
    # registry accounts
    ("GET", A, None, registry_list()),
    ("GET", A + "/{account}", None, registry_read()),
    ("PATCH", A + "/{account}", {"transfer_limit": 500}, owner_writes(200, regulator=200)),
    ("POST", A + "/{account}/status", {"status": "blocked"}, regulator_only(200)),
    ("GET", A + "/{account}/holdings", None, registry_read()),
    ("GET", A + "/{account}/statement", None, registry_read()),
    ("GET", A + "/{account}/statement?format=csv", None, registry_read()),
    ("GET", A + "/{account}/trusted-accounts", None, registry_read()),
    (
        "POST",
        A + "/{account}/trusted-accounts",
        {"account_number": "BJ03000000000102"},  # the auction account
        owner_writes(201, regulator=201),
    ),
    (
        "POST",
        A + "/{account}/trusted-accounts/{entry}/approve",
        None,
        owner_writes(200, regulator=200),
    ),
    (
        "POST",
        A + "/{account}/trusted-accounts/{entry}/reject",
        None,
        owner_writes(200, regulator=200),
    ),
    # registry transactions: a regulator moves units only out of government accounts and
    # leaves an enterprise's transfers to its own users
    ("POST", "/api/v1/transfers", Idempotent(TRANSFER), owner_writes(201, regulator=403)),
    (
        "POST",
        "/api/v1/issuances",
        Idempotent({"unit_kind": "allowance", "vintage": 2026, "quantity": 1000}),
        regulator_only(201),
    ),
    ("GET", T, None, registry_list()),
    ("GET", T + "/{tx}", None, registry_read()),
    ("POST", T + "/{tx}/approve", None, owner_writes(200, regulator=403)),
    ("POST", T + "/{tx}/reject", None, owner_writes(200, regulator=403)),
    ("POST", T + "/{tx}/cancel", None, owner_writes(200, regulator=403)),
    ("POST", T + "/{completed_tx}/reverse", {"memo": "错误分配"}, regulator_only(201)),
    ("GET", "/api/v1/catalogues/unit-kinds", None, public()),
    (
        "POST",
        "/api/v1/catalogues/unit-kinds",
        {"code": "forest_offset", "label_zh": "林业碳汇", "label_en": "Forestry offset"},
        regulator_only(201),
    ),
    ("POST", A, {"kind": "trading", "holder_name": "某投资公司"}, regulator_only(201)),
    # emission factor library: every role reads it, regulators maintain it. {factor_set} is
    # the seeded cn-default set, {draft_set} a draft made for the test.
    ("GET", EF, None, any_user()),
    ("POST", EF, small_set(), regulator_only(201)),
    ("POST", EF + "/import", FACTOR_UPLOAD, regulator_only(201)),
    ("GET", EF + "/{factor_set}", None, any_user()),
    ("GET", EF + "/{factor_set}/export?format=csv", None, any_user()),
    ("GET", EF + "/{factor_set}/export?format=xlsx", None, any_user()),
    ("POST", EF + "/{factor_set}/freeze", None, regulator_only(200)),
    ("POST", EF + "/{draft_set}/publish", None, regulator_only(200)),
    # emission reports: enterprises file their own, regulators decide, the assigned verifier
    # verifies; a report for 2026 is new, the slots' reports cover 2022-2025.
    (
        "GET",
        REP,
        None,
        _statuses(200, finance_officer=403, exchange=403, anonymous=401),  # scoped per role
    ),
    (
        "POST",
        REP,
        {"enterprise": "{own_credit_code}", "year": 2026, "streams": REPORT_STREAMS},
        owner_writes(201, regulator=201),
    ),
    ("GET", REP + "/{report}", None, report_read()),
    ("PUT", REP + "/{report}", {"streams": REPORT_STREAMS}, owner_writes(200, regulator=200)),
    (
        "PATCH",
        REP + "/{report}",
        {"output": {"value_10k_cny": "1200"}},
        owner_writes(200, regulator=200),
    ),
    ("POST", REP + "/{report}/submit", None, owner_writes(200, regulator=403)),
    ("POST", REP + "/{submitted_report}/assign", {"verifier": "verifier"}, regulator_only(200)),
    (
        "POST",
        REP + "/{assigned_report}/verify",
        {"verified_co2_t": "268.3", "opinion": "符合"},
        _statuses(403, verifier=200, anonymous=401),
    ),
    ("POST", REP + "/{verified_report}/approve", None, regulator_only(200)),
    ("POST", REP + "/{submitted_report}/return", {"reasons": ["缺少凭证"]}, regulator_only(200)),
    # green power: own holds certificates 1-100 of {green_trade} (bought from {plant})
    ("GET", GP + "/plants", None, any_user()),
    (
        "POST",
        GP + "/plants",
        {
            "name": "矩阵光伏",
            "kind": "solar",
            "capacity_mw": "10",
            "province": "beijing",
            "grid_region": "north_china",
        },
        regulator_only(201),
    ),
    ("GET", GP + "/plants/{plant}", None, any_user()),
    ("GET", GP + "/trades", None, any_user()),
    (
        "POST",
        GP + "/trades",
        {
            "reference": "MATRIX-2",
            "plant": "{plant}",
            "buyer": "{own_credit_code}",
            "period_start": "2025-01-01",
            "period_end": "2025-01-31",
            "mwh": "10",
            "price_cny_per_mwh": "350",
            "green_premium_cny_per_mwh": "5",
        },
        regulator_only(201),
    ),
    (
        "GET",
        GP + "/trades/{green_trade}",
        None,
        _statuses(200, enterprise_other=404, anonymous=401),
    ),
    ("GET", GP + "/certificates", None, any_user()),
    (
        "POST",
        GP + "/certificates",
        {"plant": "{plant}", "generation_year": 2025, "serial_start": 9001, "serial_end": 9010},
        regulator_only(201),
    ),
    (
        "POST",
        GP + "/certificates/transfers",
        {
            "serial_start": 1,
            "serial_end": 10,
            "to": "{other_credit_code}",
            "sender": "{own_credit_code}",
        },
        owner_writes(200, regulator=200),
    ),
    ("POST", GP + "/trades/import", GREEN_TRADE_UPLOAD, regulator_only(201)),
    ("POST", GP + "/certificates/import", GREEN_CERTIFICATE_UPLOAD, regulator_only(201)),
    ("GET", GP + "/claims", None, any_user()),
    (
        "POST",
        GP + "/claims",
        {
            "enterprise": "{own_credit_code}",
            "year": 2025,
            "serial_start": 11,
            "serial_end": 20,
            "purpose": "矩阵",
        },
        owner_writes(201, regulator=201),
    ),
    ("GET", GP + "/targets", None, any_user()),
    (
        "POST",
        GP + "/targets",
        {
            "name": "2025 外调绿电",
            "metric": "green_power_imported_mwh",
            "year": 2025,
            "target_value": "1000",
        },
        regulator_only(201),
    ),
    # the synergy view compares enterprises: regulators and auditors only, JSON or CSV
    ("GET", SYN + "?year=2025", None, regulator_and_auditor()),
    ("GET", SYN + "?year=2025&group_by=sector,district&format=csv", None, regulator_and_auditor()),
    # the Excel round trip: as filing reports (verifiers, auditors and finance officers have
    # no template to fill)
    (
        "GET",
        REP + "/template?enterprise={own_credit_code}&year=2026",
        None,
        owner_writes(200, regulator=200),
    ),
    (
        "GET",
        REP + "/template?enterprise={own_credit_code}&year=2025&report={report}",
        None,
        owner_writes(200, regulator=200),
    ),
    (
        "POST",
        REP + "/upload",
        WorkbookUpload({"enterprise": "{own_credit_code}", "year": "2026"}),
        owner_writes(201, regulator=201),
    ),
    ("PUT", REP + "/{report}/upload", WorkbookUpload({}), owner_writes(200, regulator=200)),
    # climate finance: finance officers keep the library; {project} is sponsored by ``own``
    ("GET", FIN + "/subsectors", None, public()),
    (
        "POST",
        FIN + "/subsectors",
        {"code": "hydrogen", "label_zh": "氢能", "label_en": "Hydrogen"},
        _statuses(403, regulator=201, finance_officer=201, anonymous=401),
    ),
    ("GET", FIN + "/projects", None, _statuses(200, verifier=403, exchange=403, anonymous=401)),
    (
        "POST",
        FIN + "/projects",
        {
            "name": "新项目",
            "sponsor_name": "甲",
            "sponsor_credit_code": "{own_credit_code}",
            "locality": "miyun",
            "category": "mitigation",
            "subsector": "renewable_energy",
            "start_date": "2026-01-01",
            "total_investment": "1000000",
            "expected_annual_reduction_t": "100",
        },
        finance_only(201),
    ),
    ("GET", FP, None, finance_read()),
    ("PATCH", FP, {"reduction_method": "实测"}, finance_only(200)),
    ("POST", FP + "/status", {"status": "admitted", "note": "入库"}, finance_only(200)),
    ("GET", FP + "/history", None, finance_read()),
    ("GET", FP + "/financings", None, finance_read()),
    (
        "POST",
        FP + "/financings",
        {
            "instrument": "grant",
            "institution": "密云区财政局",
            "committed": "200000",
            "start_date": "2026-02-01",
        },
        finance_only(201),
    ),
    ("GET", FP + "/financings/{financing}", None, finance_read()),
    ("GET", FP + "/financings/{financing}/disbursements", None, finance_read()),
    (
        "POST",
        FP + "/financings/{financing}/disbursements",
        {"date": "2026-03-01", "amount": "1000"},
        finance_only(201),
    ),
    ("GET", FP + "/reductions", None, finance_read()),
    (
        "POST",
        FP + "/reductions",
        {"period_start": "2026-01-01", "period_end": "2026-03-31", "achieved_t": "10"},
        finance_only(201),
    ),
    ("GET", FP + "/milestones", None, finance_read()),
    ("POST", FP + "/milestones", {"name": "并网", "due_date": "2026-12-31"}, finance_only(201)),
    ("POST", FP + "/milestones/{milestone}/done", {"done_on": "2026-05-01"}, finance_only(200)),
    ("GET", FIN + "/portfolio", None, portfolio_read()),
    ("GET", FIN + "/portfolio?format=csv", None, portfolio_read()),
    ("POST", FIN + "/projects/import", PROJECT_UPLOAD, finance_only(201)),
    ("POST", FIN + "/financings/import", FINANCING_UPLOAD, finance_only(201)),
    # allocation: regulators draft, approve (a second one) and issue; auditors read plans;
    # an enterprise reads its own facilities' results. {plan} is a 2026 draft by the system,
    # {approved_plan} the approved 2025 plan.
    ("GET", AL + "/plans", None, regulator_and_auditor()),
    ("POST", AL + "/plans", _allocation_document(2027), regulator_only(201)),
    ("GET", ALP, None, regulator_and_auditor()),
    ("PUT", ALP, _allocation_document(2026), regulator_only(200)),
    ("POST", ALP + "/copy", {"year": 2028}, regulator_only(201)),
    ("GET", ALP + "/document", None, regulator_and_auditor()),
    ("POST", AL + "/plans/import", PLAN_UPLOAD, regulator_only(201)),
    ("POST", ALP + "/approve", None, regulator_only(200)),
    ("POST", ALP + "/compute", None, regulator_and_auditor()),
    ("GET", AL + "/plans/{approved_plan}/results", None, registry_list()),
    ("POST", AL + "/plans/{approved_plan}/issue", None, regulator_only(200)),
    ("GET", AL + "/compare?a={plan}&b={approved_plan}", None, regulator_and_auditor()),
    ("POST", AL + "/plans/{approved_plan}/pre-allocate", None, regulator_only(200)),
    ("POST", AL + "/plans/{pre_allocated_plan}/true-up", None, regulator_only(200)),
    ("GET", AL + "/plans/{pre_allocated_plan}/adjustments", None, registry_list()),
    (
        "POST",
        AL + "/plans/{approved_plan}/new-entrants",
        {
            "facility_id": "{facility}",
            "kind": "capacity_change",
            "output": "100",
            "start_date": "2025-07-01",
        },
        regulator_only(201),
    ),
    # reserve records: {entrant} and {reduction} are pending records of {approved_plan} by
    # the system (so any regulator is a second one); own's unit got 100 from the reserve.
    (
        "POST",
        AL + "/plans/{approved_plan}/capacity-reductions",
        {"facility_id": "{facility}", "output": "100", "effective_date": "2025-10-01"},
        regulator_only(201),
    ),
    (
        "POST",
        AL + "/plans/{approved_plan}/new-entrants/{entrant}/approve",
        None,
        regulator_only(200),
    ),
    ("POST", AL + "/plans/{approved_plan}/new-entrants/{entrant}/reject", {}, regulator_only(200)),
    (
        "POST",
        AL + "/plans/{approved_plan}/capacity-reductions/{reduction}/approve",
        None,
        regulator_only(200),
    ),
    (
        "POST",
        AL + "/plans/{approved_plan}/capacity-reductions/{reduction}/reject",
        {"reason": "not closed"},
        regulator_only(200),
    ),
    # auctions: regulators open, clear and settle; covered enterprises bid for themselves
    # and read their own bids; {auction} is open now, {closed_auction} closed with one bid
    # of own's, {cleared_auction} cleared (own won 10 units held by the auction account).
    ("GET", AL + "/auctions", None, registry_list()),
    ("POST", AL + "/auctions", AUCTION_TERMS, regulator_only(201)),
    ("GET", AL + "/auctions/{auction}", None, registry_list()),
    (
        "POST",
        AL + "/auctions/{auction}/bids",
        {"price": "60.00", "quantity": 10},
        _statuses(403, enterprise_own=201, enterprise_other=201, anonymous=401),
    ),
    ("GET", AL + "/auctions/{closed_auction}/bids", None, registry_list()),
    # {bid}: own's bid in the open {bid_auction}; another enterprise's bid is 404.
    (
        "POST",
        AL + "/auctions/{bid_auction}/bids/{bid}/withdraw",
        None,
        _statuses(403, enterprise_own=200, enterprise_other=404, anonymous=401),
    ),
    ("POST", AL + "/auctions/{closed_auction}/clear", None, regulator_only(200)),
    ("POST", AL + "/auctions/{cleared_auction}/settle", None, regulator_only(200)),
    # trading: the exchange (and regulators) record; {trade} is own → a trading account
    (
        "GET",
        "/api/v1/trades",
        None,
        _statuses(
            403,
            regulator=200,
            auditor=200,
            exchange=200,
            enterprise_own=200,
            enterprise_other=200,
            anonymous=401,
        ),
    ),
    (
        "POST",
        "/api/v1/trades",
        {
            "kind": "listed",
            "seller_account": "{account}",
            "buyer_account": "{other_account}",
            "unit_kind": "allowance",
            "vintage": 2025,
            "quantity": 10,
            "price": "100.00",
            "traded_at": "2026-06-01T10:30:00+08:00",
            "external_ref": "MATRIX-T2",
        },
        _statuses(403, regulator=201, exchange=201, anonymous=401),
    ),
    (
        "GET",
        "/api/v1/trades/{trade}",
        None,
        _statuses(
            403,
            regulator=200,
            auditor=200,
            exchange=200,
            enterprise_own=200,
            enterprise_other=404,
            anonymous=401,
        ),
    ),
    (
        "POST",
        "/api/v1/trades/import",
        TRADE_UPLOAD,
        _statuses(403, regulator=201, exchange=201, anonymous=401),
    ),
    (
        "POST",
        MKT + "/reference-prices",
        {"unit_kind": "allowance", "date": "2026-06-02", "price": "101.00"},
        regulator_only(201),
    ),
    ("GET", MKT + "/stats?" + MARKET_RANGE, None, any_user()),
    ("GET", MKT + "/stats?format=csv&" + MARKET_RANGE, None, any_user()),
    ("GET", MKT + "/surveillance?" + MARKET_RANGE, None, regulator_and_auditor()),
    # scheduled jobs: run records for those who oversee; notifications: an enterprise its
    # own ({notification} is addressed to ``own``), regulators and auditors all
    ("GET", "/api/v1/jobs/runs", None, regulator_and_auditor()),
    ("GET", "/api/v1/jobs/runs?job=ledger_verify&outcome=ok", None, regulator_and_auditor()),
    ("GET", "/api/v1/notifications", None, registry_list()),
    ("GET", "/api/v1/notifications?kind=approval_needed&status=pending", None, registry_list()),
    ("GET", "/api/v1/notifications/{notification}", None, registry_read()),
    # compliance: {cy} is national 2026 (deadlines in 2027; ``own`` has an approved report
    # and allowances of 2025, banked), {closed_year} national 2020 (its deadline long
    # passed, so its results are published)
    ("GET", CY + "/years", None, any_user()),
    ("POST", CY + "/years", {"year": 2019, "rulebook": "beijing"}, regulator_only(201)),
    ("GET", CY + "/years/{cy}", None, any_user()),
    ("PATCH", CY + "/years/{cy}", {"banking": False}, regulator_only(200)),
    ("PUT", CY + "/{cy}/penalty-multiple", {"multiple": "6"}, regulator_only(200)),
    (
        "POST",
        CY + "/{cy}/extensions",
        {"enterprise": "{own_credit_code}", "until": "2028-01-31", "reason": "系统故障"},
        regulator_only(201),
    ),
    (
        "POST",
        CY + "/{cy}/exemptions",
        {"enterprise": "{other_credit_code}", "reason": "停产"},
        regulator_only(201),
    ),
    ("GET", CY + "/{cy}/surrenders", None, registry_list()),
    (
        "POST",
        CY + "/{cy}/surrenders",
        {"unit_kind": "allowance", "vintage": 2025, "quantity": 10, "account": "{account}"},
        owner_writes(201, regulator=403),
    ),
    ("POST", CY + "/{cy}/sweep", None, regulator_only(200)),
    ("GET", CY + "/{cy}/status", None, registry_list()),
    ("GET", CY + "/{cy}/status?format=csv", None, registry_list()),
    ("GET", CY + "/{closed_year}/results", None, any_user()),
    ("GET", CY + "/{closed_year}/results?format=csv", None, any_user()),
    ("GET", CY + "/{cy}/penalties", None, registry_list()),
    ("GET", CY + "/{cy}/penalties?format=csv", None, registry_list()),
    ("GET", CY + "/{cy}/forecast", None, registry_list()),
    ("GET", CY + "/{cy}/forecast?warnings=true&format=csv", None, registry_list()),
    ("GET", MKT + "/large-holders?unit_kind=allowance", None, regulator_and_auditor()),
    ("GET", MKT + "/groups", None, regulator_and_auditor()),
    ("POST", MKT + "/groups", {"code": "MATRIX-G2", "name": "另一集团"}, regulator_only(201)),
    ("PUT", MKT + "/groups/{group}/members/{own}", None, regulator_only(204)),
    ("DELETE", MKT + "/groups/{group}/members/{own}", None, regulator_only(204)),
    ("GET", MKT + "/large-holders?unit_kind=allowance&format=csv", None, regulator_and_auditor()),
    ("GET", CY + "/{cy}/penalties?include=superseded", None, registry_list()),
    ("GET", CY + "/{cy}/corrections", None, registry_list()),
    # documentation
    ("GET", "/api/openapi.json", None, public()),
    ("GET", "/api/problems/not-found", None, public()),
]

#: The table the test runs: (method, url template, body, role, expected status).
MATRIX = [
    pytest.param(method, url, body, role, expected[role], id=f"{method} {url} as {role}")
    for method, url, body, expected in ENDPOINTS
    for role in ROLES
]


def _fill(value: Any, slots: dict[str, Any]) -> Any:
    """``value`` with the ``{slot}`` placeholders of its strings filled in."""
    if isinstance(value, str):
        return value.format(**slots)
    if isinstance(value, dict):
        return {key: _fill(item, slots) for key, item in value.items()}
    if isinstance(value, list):
        return [_fill(item, slots) for item in value]
    return value


def _request_kwargs(body: Any, slots: dict[str, Any]) -> dict[str, Any]:
    if isinstance(body, Idempotent):
        return {"json": _fill(body.body, slots), "headers": {"Idempotency-Key": "matrix-1"}}
    if body is PLAN_UPLOAD:
        return multipart(file=("plan.json", json.dumps(_allocation_document(2029))))
    if body is UPLOAD:
        upload = csv_text(
            ["credit_code", "name", "sector", "district"],
            [[credit_code(900002), "导入企业", "heat", "daxing"]],
        )
        return multipart(file=("enterprises.csv", upload))
    if body is FACTOR_UPLOAD:
        header = "set,jurisdiction,first_year,last_year,category,code,parameter,value,unit,source"
        lines = [
            f"bj-import,CN-BJ,2025,2026,{r['category']},{r['code']},{r['parameter']},"
            f"{r['value']},{r['unit']},{r['source']}"
            for r in small_rows()
        ]
        return multipart(file=("factors.csv", "\n".join([header, *lines]) + "\n"))
    if isinstance(body, WorkbookUpload):
        return multipart(_fill(body.form, slots), file=("report.xlsx", _report_workbook()))
    if body is GREEN_TRADE_UPLOAD:
        upload = csv_text(
            ["reference", "plant", "buyer", "period_start", "period_end", "mwh",
             "price_cny_per_mwh", "green_premium_cny_per_mwh"],
            [["MATRIX-IMPORT", "矩阵风电", slots["own_credit_code"], "2025-02-01",
              "2025-02-28", "20", "350", "5"]],
        )  # fmt: skip
        return multipart(file=("trades.csv", upload))
    if body is GREEN_CERTIFICATE_UPLOAD:
        upload = csv_text(
            ["plant", "generation_year", "serial_start", "serial_end"],
            [["矩阵风电", "2025", "5001", "5010"]],
        )
        return multipart(file=("certificates.csv", upload))
    if body is PROJECT_UPLOAD:
        upload = csv_text(
            [
                "name",
                "sponsor_name",
                "sponsor_credit_code",
                "locality",
                "category",
                "subsector",
                "start_date",
                "total_investment",
                "expected_annual_reduction_t",
            ],
            [
                [
                    "导入项目",
                    "甲",
                    slots["own_credit_code"],
                    "tongzhou",
                    "both",
                    "green_building",
                    "2026-01-01",
                    "500000",
                    "20",
                ]
            ],
        )
        return multipart(file=("projects.csv", upload))
    if body is FINANCING_UPLOAD:
        upload = csv_text(
            [
                "sponsor_credit_code",
                "project",
                "instrument",
                "institution",
                "committed",
                "start_date",
            ],
            [
                [
                    slots["own_credit_code"],
                    MATRIX_PROJECT,
                    "equity",
                    "某绿色基金",
                    "300000",
                    "2026-02-01",
                ]
            ],
        )
        return multipart(file=("financings.csv", upload))
    if body is TRADE_UPLOAD:
        upload = csv_text(
            ["external_ref", "kind", "seller_account", "buyer_account", "unit_kind", "vintage",
             "quantity", "price", "traded_at"],
            [["MATRIX-T3", "listed", slots["account"], slots["other_account"], "allowance",
              "2025", "10", "100.00", "2026-06-01T11:00:00+08:00"]],
        )  # fmt: skip
        return multipart(file=("trades.csv", upload))
    if body is None:
        return {}
    return {"json": _fill(body, slots)}


def _report_workbook() -> bytes:
    """A workbook holding :data:`REPORT_STREAMS` (500 MWh in March), as a user would type it."""
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.title = "streams"
    sheet.append(["kind", "code", "quantity", "unit", "month"])
    sheet.append(["electricity", None, "500", "MWh", 3])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


#: Upload bodies that name slots in the file they build rather than in a template.
UPLOAD_SLOTS: dict[int, set[str]] = {
    id(GREEN_TRADE_UPLOAD): {"plant"},
    id(GREEN_CERTIFICATE_UPLOAD): {"plant"},
    id(FINANCING_UPLOAD): {"project"},
    id(TRADE_UPLOAD): {"account", "other_account", "trade"},
}


#: Rows whose requests need data they do not name: green-power writes act on the slot plant's
#: certificates, trades need the reference price the trading slots set, compliance rows the
#: opened years, new reserve records the facility's earlier record.
IMPLIED_SLOTS = [
    (GP, "plant"),
    (MKT, "trade"),
    ("/api/v1/trades", "trade"),
    (CY, "cy"),
    ("/new-entrants", "entrant"),
    ("/capacity-reductions", "entrant"),
]


def _placeholders(value: Any) -> set[str]:
    """The ``{slot}`` names in ``value``'s strings, however deeply nested."""
    if isinstance(value, str):
        return {name for _, name, _, _ in string.Formatter().parse(value) if name}
    if isinstance(value, dict):
        return set().union(*map(_placeholders, value.values()))
    if isinstance(value, list):
        return set().union(*map(_placeholders, value))
    if isinstance(value, Idempotent):
        return _placeholders(value.body)
    if isinstance(value, WorkbookUpload):
        return _placeholders(value.form)
    return set(UPLOAD_SLOTS.get(id(value), set()))


def _build_slots(session: Session, tenants: Tenants, url: str, body: Any) -> dict[str, Any]:
    """The slot values a row names, building only the data behind them.

    Building every slot for every case cost 1–2 s of setup each (1,368 cases); a row needs
    one or two groups at most. A builder runs when any of the slots it provides is named;
    the rest of the database stays as the ``tenants`` fixture left it.
    """
    slots: dict[str, Any] = {
        **tenants.ids(),
        "own_credit_code": tenants.own.credit_code,
        "other_credit_code": tenants.other.credit_code,
    }
    wanted = _placeholders(url) | _placeholders(body)
    wanted |= {slot for part, slot in IMPLIED_SLOTS if part in url}
    if "token" in wanted:
        token, _ = auth_service.issue_token(
            session, Actor.system(), user_name=tenants.users["enterprise_own"].name
        )
        slots["token"] = token.id
    for provides, requires, _build in SLOT_BUILDERS:
        if wanted & provides:
            wanted |= requires
    for provides, _requires, build in SLOT_BUILDERS:
        if wanted & provides:
            slots.update(build(session, tenants, slots))
    missing = wanted - slots.keys()
    assert not missing, f"no builder provides the slots {sorted(missing)}"
    return slots


@pytest.mark.parametrize(("method", "url", "body", "role", "expected"), MATRIX)
def test_endpoint_answers_each_role_with_the_expected_status(
    app: Flask,
    client: FlaskClient,
    session: Session,
    tenants: Tenants,
    headers_for: Callable[[str], dict[str, str]],
    method: str,
    url: str,
    body: Any,
    role: str,
    expected: int,
) -> None:
    slots = _build_slots(session, tenants, url, body)
    path = url.format(**slots)
    kwargs = _request_kwargs(body, slots)
    headers = {**headers_for(role), **kwargs.pop("headers", {})}

    if expected >= 400:
        with moves_nothing(app):
            response = client.open(path, method=method, headers=headers, **kwargs)
        assert_problem(response, expected, SLUGS[expected])
    else:
        response = client.open(path, method=method, headers=headers, **kwargs)
        assert response.status_code == expected, response.get_data(as_text=True)


def _notification_slots(session: Session, tenants: Tenants) -> dict[str, int]:
    """``{notification}``: a message to ``own``."""
    message = notifications.enqueue(
        session,
        kind="deadline_reminder",
        subject="Surrender due in 7 days",
        body="...",
        dedupe_key="matrix:reminder",
        enterprise_id=tenants.own.id,
    )
    assert message is not None
    return {"notification": message.id}


def _factor_slots(session: Session) -> dict[str, int]:
    """``{factor_set}``: the seeded cn-default set; ``{draft_set}``: a fresh draft."""
    seeded = session.scalar(
        select(EmissionFactorSet.id).where(EmissionFactorSet.name == "cn-default")
    )
    assert seeded is not None
    body = small_set("bj-draft", status=FactorSetStatus.DRAFT)
    body["rows"] = [FactorRowSchema().load(row) for row in body["rows"]]
    draft = factor_library.create_factor_set(session, Actor.system(), **body)
    return {"factor_set": seeded, "draft_set": draft.id}


def _report_slots(session: Session, tenants: Tenants) -> dict[str, int | str]:
    """``own``'s reports, one per year and status, and ``{own_credit_code}`` for bodies."""
    system = Actor.system()
    code = tenants.own.credit_code

    def filed(year: int) -> int:
        report = report_service.create_report(
            session, system, enterprise=code, year=year, streams=REPORT_STREAMS
        )
        return report.id

    draft, submitted, assigned, verified = filed(2025), filed(2024), filed(2023), filed(2022)
    for report_id in (submitted, assigned, verified):
        report_service.submit_report(session, system, report_id)
    for report_id in (assigned, verified):
        report_service.assign_verifier(session, system, report_id, verifier="verifier")
    report_service.verify_report(
        session, system, verified, verified_co2_t=D("268.3"), opinion="符合"
    )
    return {
        "own_credit_code": code,
        "report": draft,
        "submitted_report": submitted,
        "assigned_report": assigned,
        "verified_report": verified,
    }


def _green_slots(session: Session, tenants: Tenants) -> dict[str, int | str]:
    """A plant, a trade of it bought by ``own`` and certificates 1-100 that ``own`` holds."""
    system = Actor.system()
    plant = greenpower_registry.create_plant(
        session, system, name="矩阵风电", kind=PlantKind.WIND, capacity_mw=D("50"),
        province="hebei", grid_region="north_china",
    )  # fmt: skip
    trade, _ = greenpower_registry.record_trade(
        session, system, reference="MATRIX-1", plant=plant.id, buyer=tenants.own.credit_code,
        period_start=date(2025, 1, 1), period_end=date(2025, 3, 31), mwh=D("500"),
        price_cny_per_mwh=D("350"), green_premium_cny_per_mwh=D("5"),
    )  # fmt: skip
    greenpower_certificates.issue_certificates(
        session, system, plant=plant.id, generation_year=2025, serial_start=1,
        serial_end=100, trade=trade.id,
    )  # fmt: skip
    return {
        "plant": plant.id,
        "green_trade": trade.id,
        "other_credit_code": tenants.other.credit_code,
    }


def _trading_slots(session: Session, tenants: Tenants) -> dict[str, int]:
    """A reference price of 100.00 for allowances from 2026-06-01 and ``{trade}``: 10
    allowances from ``own`` to a trading account (``other`` is no party to it); ``{group}``
    an enterprise group with ``own`` in it."""
    system = Actor.system()
    trading_service.set_reference_price(
        session, system, unit_kind="allowance", day=date(2026, 6, 1), price=D("100.00")
    )
    buyer = ledger_accounts.open_trading_account(session, system, holder_name="矩阵投资")
    trade, _ = trading_service.record_trade(
        session, system, kind=TradeKind.LISTED, seller_account=tenants.own_account,
        buyer_account=buyer.number, unit_kind="allowance", vintage=2025, quantity=10,
        price=D("100.00"), traded_at=datetime(2026, 6, 1, 1, 0, tzinfo=UTC),
        external_ref="MATRIX-T1",
    )  # fmt: skip
    group = trading_groups.create_group(session, system, code="MATRIX-G", name="矩阵集团")
    trading_groups.add_member(session, system, group.id, tenants.own.id)
    return {"trade": trade.id, "group": group.id}


def _compliance_slots(session: Session, tenants: Tenants) -> dict[str, int]:
    """``{cy}``: national 2026 with its default deadlines (2027), ``own``'s 2026 report
    approved (268 t); ``{closed_year}``: national 2020, every deadline long passed."""
    filer, approver = Actor.system(name="system:filer"), Actor.system(name="system:approver")
    compliance_service.open_year(session, filer, year=2026, rulebook="national")
    compliance_service.open_year(session, filer, year=2020, rulebook="national")
    report = report_service.create_report(
        session, filer, enterprise=tenants.own.credit_code, year=2026, streams=REPORT_STREAMS
    )
    report_service.submit_report(session, filer, report.id)
    report_service.assign_verifier(session, filer, report.id, verifier="verifier")
    report_service.verify_report(
        session, filer, report.id, verified_co2_t=D("268.3"), opinion="符合"
    )
    report_service.approve_report(session, approver, report.id)
    return {"cy": 2026, "closed_year": 2020}


MATRIX_PROJECT = "矩阵项目"


def _finance_slots(session: Session, tenants: Tenants) -> dict[str, int]:
    """``{project}`` sponsored by ``own``, its support-tool ``{financing}`` (1,000,000
    committed, nothing paid) and its ``{milestone}``."""
    system = Actor.system()
    project = finance_service.create_project(
        session,
        system,
        name=MATRIX_PROJECT,
        sponsor_name=tenants.own.name,
        sponsor_credit_code=tenants.own.credit_code,
        locality="miyun",
        category=ProjectCategory.MITIGATION,
        subsector="renewable_energy",
        start_date=date(2025, 1, 1),
        total_investment=D("5000000"),
        expected_annual_reduction_t=D("1000"),
    )
    loan = finance_financing.add_financing(
        session,
        system,
        project.id,
        instrument=Instrument.CARBON_REDUCTION_SUPPORT_TOOL,
        institution="北京银行",
        committed=D("1000000"),
        rate=D("0.0345"),
        start_date=date(2026, 1, 1),
        end_date=date(2027, 1, 1),
        disclosure={"annual_reduction_t": D("1000"), "method": "测算", "date": date(2026, 1, 5)},
    )
    milestone = finance_monitoring.add_milestone(
        session, system, project.id, name="开工", due_date=date(2026, 4, 30)
    )
    return {"project": project.id, "financing": loan.financing.id, "milestone": milestone.id}


def _allocation_slots(session: Session) -> dict[str, int]:
    """``{plan}``: a 2026 draft by the system; ``{approved_plan}``: 2025, approved;
    ``{pre_allocated_plan}``: 2024, approved and pre-allocated (nothing to move: no facility
    has verified data)."""
    system = Actor.system()
    approver = Actor.system(name="system:approver")
    draft = allocation_service.create_plan(session, system, document=_allocation_document(2026))
    adopted = allocation_service.create_plan(session, system, document=_allocation_document(2025))
    allocation_service.approve_plan(session, approver, adopted.id)
    staged = allocation_service.create_plan(session, system, document=_allocation_document(2024))
    allocation_service.approve_plan(session, approver, staged.id)
    allocation_stages.pre_allocate(session, system, staged.id)
    return {"plan": draft.id, "approved_plan": adopted.id, "pre_allocated_plan": staged.id}


def _reserve_record_slots(
    session: Session, tenants: Tenants, plans: dict[str, Any]
) -> dict[str, Any]:
    """``{entrant}``: a pending new entrant (own's unit, 100 MWh from July: 40 × 6/12 = 20)
    and ``{reduction}``: a pending reduction of 10 allowances, both recorded by the system
    under ``{approved_plan}``, after an approved record gave own's unit 100 from the reserve
    (written as a row: the slots need no ledger movement). The reserve gets 100 units."""
    plan = plans["approved_plan"]
    system = Actor.system()
    ledger_service.issue(session, system, unit_kind="allowance", vintage=2025, quantity=100)
    at = datetime(2026, 6, 1, 2, 0, tzinfo=UTC)

    def row(stage: Stage, quantity: int, status: RecordStatus) -> int:
        record = AllocationAdjustment(
            plan_id=plan, stage=stage, facility_id=tenants.facility_id,
            enterprise_id=tenants.own.id, basis=abs(quantity), quantity=quantity,
            note=stage.value, breakdown={}, status=status, created_at=at, created_by="system",
            decided_at=None if status is RecordStatus.PENDING else at,
        )  # fmt: skip
        session.add(record)
        session.flush()
        return record.id

    row(Stage.NEW_ENTRANT, 100, RecordStatus.APPROVED)
    entrant = row(Stage.NEW_ENTRANT, 20, RecordStatus.PENDING)
    reduction = row(Stage.CAPACITY_REDUCTION, -10, RecordStatus.PENDING)
    session.commit()
    return {"entrant": entrant, "reduction": reduction}


def _bid_slots(session: Session, tenants: Tenants) -> dict[str, int]:
    """``{bid_auction}`` open now with ``{bid}``, own's bid of 10 at 60.00 in it."""
    terms = {k: v for k, v in AUCTION_TERMS.items() if k not in ("opens_at", "closes_at")}
    auction = allocation_auctions.open_auction(
        session, Actor.system(), **{**terms, "reserve_price": D("50.00")},
        opens_at=datetime(2026, 6, 1, 0, 0, tzinfo=UTC),
        closes_at=datetime(2026, 6, 2, 0, 0, tzinfo=UTC),
    )  # fmt: skip
    bidder = tenants.users["enterprise_own"]
    bid = allocation_auctions.submit_bid(
        session, auth_service.actor_for(bidder), auction.id, price=D("60.00"), quantity=10
    )
    return {"bid_auction": auction.id, "bid": bid.id}


def _auction_slots(session: Session, tenants: Tenants) -> dict[str, int]:
    """``{auction}`` open now; ``{closed_auction}``, whose window closed an hour ago, with a
    bid of ``own`` for 10 units at 60.00; ``{cleared_auction}``, the same again, cleared, with
    10 units of vintage 2025 in the auction account to settle it. The closed ones are written
    as rows: the service opens no auction whose window is past."""
    system = Actor.system()
    terms = {k: v for k, v in AUCTION_TERMS.items() if k not in ("opens_at", "closes_at")}
    now = datetime(2026, 6, 1, 2, 0, tzinfo=UTC)
    opened = allocation_auctions.open_auction(
        session, system, **{**terms, "reserve_price": D("50.00")},
        opens_at=datetime(2026, 6, 1, 0, 0, tzinfo=UTC),
        closes_at=datetime(2026, 6, 2, 0, 0, tzinfo=UTC),
    )  # fmt: skip
    account_id = session.scalar(select(Account.id).where(Account.number == tenants.own_account))
    assert account_id is not None
    closed = []
    for _ in range(2):
        auction = Auction(
            year=2025, unit_kind="allowance", vintage=2025, volume=100,
            reserve_price=D("50.00"), bidder_limit=50, status=AuctionStatus.OPEN,
            opens_at=datetime(2026, 5, 31, 0, 0, tzinfo=UTC), closes_at=now - timedelta(hours=1),
            created_at=now, created_by="system",
        )  # fmt: skip
        session.add(auction)
        session.flush()
        session.add(
            AuctionBid(
                auction_id=auction.id, enterprise_id=tenants.own.id, account_id=account_id,
                price=D("60.00"), quantity=10, submitted_at=now - timedelta(hours=2),
                submitted_by="alpha",
            )
        )  # fmt: skip
        closed.append(auction.id)
    session.commit()
    allocation_auctions.clear(session, system, closed[1])
    ledger_service.request_transfer(
        session, system, from_account=AUCTION_RESERVE, to_account=AUCTION_ACCOUNT,
        unit_kind="allowance", vintage=2025, quantity=10,
    )  # fmt: skip
    return {"auction": opened.id, "closed_auction": closed[0], "cleared_auction": closed[1]}


#: A builder of slot values from the session, the tenants and the slots built so far.
SlotBuilder = Callable[[Session, Tenants, dict[str, Any]], dict[str, Any]]
#: (slots it provides, slots it needs built first, builder), in the order they run;
#: :func:`_build_slots` runs the ones a row names.
SLOT_BUILDERS: list[tuple[set[str], set[str], SlotBuilder]] = [
    ({"factor_set", "draft_set"}, set(), lambda session, _t, _s: _factor_slots(session)),
    (
        {"report", "submitted_report", "assigned_report", "verified_report"},
        set(),
        lambda session, tenants, _s: _report_slots(session, tenants),
    ),
    ({"plant", "green_trade"}, set(), lambda session, tenants, _s: _green_slots(session, tenants)),
    (
        {"project", "financing", "milestone"},
        set(),
        lambda session, tenants, _s: _finance_slots(session, tenants),
    ),
    (
        {"plan", "approved_plan", "pre_allocated_plan"},
        set(),
        lambda session, _t, _s: _allocation_slots(session),
    ),
    (
        {"auction", "closed_auction", "cleared_auction"},
        set(),
        lambda session, tenants, _s: _auction_slots(session, tenants),
    ),
    ({"entrant", "reduction"}, {"approved_plan"}, _reserve_record_slots),
    ({"bid_auction", "bid"}, set(), lambda session, tenants, _s: _bid_slots(session, tenants)),
    ({"trade", "group"}, set(), lambda session, tenants, _s: _trading_slots(session, tenants)),
    (
        {"notification"},
        set(),
        lambda session, tenants, _s: _notification_slots(session, tenants),
    ),
    (
        {"cy", "closed_year"},
        set(),
        lambda session, tenants, _s: _compliance_slots(session, tenants),
    ),
]


def test_every_registered_api_route_and_method_appears_in_the_matrix(app: Flask) -> None:
    # A new endpoint must join the matrix, or it could ship without a tenancy check.
    def template(rule: str) -> str:
        for converter, slot in (
            ("<int:enterprise_id>", "{own}"),
            ("<int:facility_id>", "{facility}"),
            ("<int:token_id>", "{token}"),
            ("<slug>", "not-found"),
            ("<number>", "{account}"),
            ("<int:tx_id>", "{tx}"),
            ("<int:entry_id>", "{entry}"),
            ("<int:set_id>", "{factor_set}"),
            ("<int:report_id>", "{report}"),
            ("<int:plant_id>", "{plant}"),
            ("<int:trade_id>", "{green_trade}"),
            ("<int:market_trade_id>", "{trade}"),
            ("<int:project_id>", "{project}"),
            ("<int:financing_id>", "{financing}"),
            ("<int:milestone_id>", "{milestone}"),
            ("<int:plan_id>", "{plan}"),
            ("<int:notification_id>", "{notification}"),
            ("<int:year>", "{cy}"),
            ("<int:auction_id>", "{auction}"),
            ("<int:bid_id>", "{bid}"),
            ("new-entrants/<int:record_id>", "new-entrants/{entrant}"),
            ("capacity-reductions/<int:record_id>", "capacity-reductions/{reduction}"),
            ("<int:group_id>", "{group}"),
        ):
            rule = rule.replace(converter, slot)
        return rule

    def route_of(url: str) -> str:
        # The reversal targets a completed transaction, the same route parameter as {tx};
        # a query string selects a representation of the same route.
        # A draft set is a set: publishing one has the same route parameter as {factor_set}.
        url = url.replace("{draft_set}", "{factor_set}")
        # An approved plan is a plan: the same route parameter as {plan}.
        url = url.replace("{approved_plan}", "{plan}").replace("{pre_allocated_plan}", "{plan}")
        # A closed compliance year is a year: the same route parameter as {cy}.
        url = url.replace("{closed_year}", "{cy}")
        # Auctions in every state are auctions: the same route parameter as {auction}.
        for slot in ("{closed_auction}", "{cleared_auction}", "{bid_auction}"):
            url = url.replace(slot, "{auction}")
        # Every report slot is a report in some status: the same route parameter.
        for slot in ("{submitted_report}", "{assigned_report}", "{verified_report}"):
            url = url.replace(slot, "{report}")
        return url.replace("{completed_tx}", "{tx}").partition("?")[0]

    covered = {(method, route_of(url)) for method, url, _, _ in ENDPOINTS}
    routed = {
        (method, template(rule.rule))
        for rule in app.url_map.iter_rules()
        if rule.rule.startswith("/api/") and "/docs" not in rule.rule
        for method in rule.methods or ()
        if method not in {"HEAD", "OPTIONS"}
    }
    assert ("PATCH", E + "/{own}/facilities/{facility}") in routed  # templates line up
    assert ("POST", A + "/{account}/trusted-accounts/{entry}/approve") in routed
    assert ("POST", T + "/{tx}/reverse") in routed
    assert routed <= covered, sorted(routed - covered)


def test_enterprise_user_gets_the_same_404_for_another_tenants_id_as_for_a_missing_id(
    client: FlaskClient, tenants: Tenants, headers_for: Callable[[str], dict[str, str]]
) -> None:
    headers = headers_for("enterprise_other")
    theirs = client.get(f"{E}/{tenants.own.id}", headers=headers)
    missing = client.get(f"{E}/987654", headers=headers)

    first = assert_problem(theirs, 404, "not-found")
    second = assert_problem(missing, 404, "not-found")
    # Nothing but the path and the request id may tell the two apart.
    for body in (first, second):
        del body["instance"], body["request_id"]
    assert first == second


@pytest.mark.parametrize(
    ("role", "visible"),
    [
        ("enterprise_own", {"own"}),
        ("enterprise_other", {"other"}),
        ("regulator", {"own", "other"}),
        ("verifier", {"own", "other"}),
        ("finance_officer", {"own", "other"}),
        ("auditor", {"own", "other"}),
    ],
)
def test_enterprise_list_shows_each_role_exactly_the_enterprises_it_may_see(
    client: FlaskClient,
    tenants: Tenants,
    headers_for: Callable[[str], dict[str, str]],
    role: str,
    visible: set[str],
) -> None:
    response = client.get(E, headers=headers_for(role))
    assert response.status_code == 200
    body = response.get_json()
    ids = tenants.ids()
    assert {item["id"] for item in body["items"]} == {ids[name] for name in visible}
    assert body["page"]["total"] == len(visible)
