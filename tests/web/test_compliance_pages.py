"""The web UI's compliance pages: years, the status table and penalties, with the API's
figures and tenancy."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal as D

import pytest
from sqlalchemy.orm import Session

from carbon_market.compliance import penalties, service
from carbon_market.entrypoints.web import views
from carbon_market.kernel.access.roles import Actor
from carbon_market.kernel.auth.service import actor_for
from carbon_market.kernel.clock import FixedClock
from carbon_market.ledger.accounts import service as accounts
from carbon_market.mrv.reports import workflow as reports
from carbon_market.trading import service as trading
from carbon_market.trading.models import TradeKind
from tests.api.helpers import Tenants
from tests.factories import make_enterprise

YEAR = 2025
FILER = Actor.system(name="system:filer")
APPROVER = Actor.system(name="system:approver")
#: 500 MWh × 0.5366 = 268.3 t reported.
STREAMS = [{"kind": "electricity", "quantity": "500", "unit": "MWh", "month": 3}]
#: A covered enterprise whose name a user typed with markup; it files nothing.
MARKUP_NAME = "<i>丙数据中心</i>"


def _approve(session: Session, credit_code: str, verified: str) -> None:
    report = reports.create_report(
        session, FILER, enterprise=credit_code, year=YEAR, streams=STREAMS
    )
    reports.submit_report(session, FILER, report.id)
    reports.assign_verifier(session, FILER, report.id, verifier="verifier")
    reports.verify_report(session, FILER, report.id, verified_co2_t=D(verified),
                          opinion="符合", reason="核查调整")  # fmt: skip
    reports.approve_report(session, APPROVER, report.id)


@pytest.fixture
def assessed(session: Session, tenants: Tenants, clock: FixedClock) -> None:
    """Beijing 2025: ``own`` owes 268 t and ``other`` 800 t, neither surrenders; a third
    enterprise files nothing. One trade sets the window's price at 100.00 CNY/t; the
    deadline (2026-06-30) passes and the penalties are assessed: 268 and 800 t × 3 × 100."""
    regulator = actor_for(tenants.users["regulator"])
    service.open_year(session, regulator, year=YEAR, rulebook="beijing")
    make_enterprise(session, name=MARKUP_NAME, name_en="Gamma Data")
    _approve(session, tenants.own.credit_code, "268.3")
    _approve(session, tenants.other.credit_code, "800")
    trading.set_reference_price(session, regulator, unit_kind="allowance",
                                day=date(2026, 6, 1), price=D("100.00"))  # fmt: skip
    buyer = accounts.open_trading_account(session, regulator, holder_name="某投资").number
    trading.record_trade(
        session, actor_for(tenants.users["exchange"]), kind=TradeKind.LISTED,
        seller_account=tenants.other_account, buyer_account=buyer, unit_kind="allowance",
        vintage=YEAR, quantity=100, price=D("100.00"),
        traded_at=datetime(2026, 6, 1, 2, 0, tzinfo=UTC), external_ref="W1",
    )  # fmt: skip
    clock.advance(timedelta(days=30))
    summary = penalties.penalty_assessment(session, regulator, YEAR, date(2026, 7, 1))
    assert summary["assessed"] == 2, summary


def _codes(page: str) -> list[str]:
    """The credit codes in the page's status table and penalties, in order."""
    return re.findall(r"<td>(9111\w{14})</td>", page)


def test_every_role_sees_the_years_and_their_deadlines(client, sign_in, tenants, assessed):
    sign_in("finance")

    start = client.get("/").get_data(as_text=True)
    page = client.get("/compliance").get_data(as_text=True)

    assert 'href="/compliance"' in start
    assert "<td>2026-06-30</td>" in page  # the Beijing surrender deadline
    assert "Asia/Shanghai" in page
    assert "<td>3.00</td>" in page  # the multiple as the API gives it


def test_a_role_that_may_not_read_the_status_table_is_not_linked_to_it_and_is_refused(
    client, sign_in, tenants, assessed
):
    sign_in("verifier")

    years = client.get("/compliance").get_data(as_text=True)
    refused = client.get(f"/compliance/{YEAR}")

    assert f'href="/compliance/{YEAR}"' not in years
    assert refused.status_code == 403
    assert refused.mimetype == "text/html"
    assert "may not perform compliance.read" in refused.get_data(as_text=True)


def test_a_regulator_sees_every_row_and_penalty_as_the_api_gives_them(
    client, sign_in, tenants, assessed, headers_for
):
    sign_in("regulator")

    page = client.get(f"/compliance/{YEAR}").get_data(as_text=True)
    rows = client.get(f"/api/v1/compliance/{YEAR}/status", headers=headers_for("regulator"))
    fines = client.get(f"/api/v1/compliance/{YEAR}/penalties", headers=headers_for("regulator"))

    status = {row["enterprise"]: row for row in rows.get_json()}
    assert len(status) == 3
    for row in status.values():
        cells = [f"{row[k]:,}" for k in ("obligation_t", "surrendered_t", "shortfall_t")]
        cells += [row["status"], row["as_of"]]
        for cell in cells:
            assert f"<td>{cell}</td>" in page, cell
    assert status[tenants.other.credit_code]["shortfall_t"] == 800
    assert [fine["amount"] for fine in fines.get_json()] == ["80400.00", "240000.00"]
    for fine in fines.get_json():
        for key in ("multiple", "average_price", "amount"):
            assert f"<td>{fine[key]}</td>" in page, key
    assert f"<td>{800:,}</td>" in page


def test_an_enterprise_user_sees_only_its_own_row_and_penalty(client, sign_in, tenants, assessed):
    sign_in("alpha")

    page = client.get(f"/compliance/{YEAR}").get_data(as_text=True)

    assert _codes(page) == [tenants.own.credit_code] * 2  # its status row, its penalty
    assert "<td>80400.00</td>" in page
    assert "240000.00" not in page
    assert "北京乙水泥有限公司" not in page


def test_the_status_filter_and_pages_keep_the_filter(
    client, sign_in, tenants, assessed, monkeypatch
):
    monkeypatch.setattr(views, "PAGE_SIZE", 1)
    sign_in("regulator")

    first = client.get(f"/compliance/{YEAR}?status=shortfall").get_data(as_text=True)
    second = client.get(f"/compliance/{YEAR}?status=shortfall&page=2").get_data(as_text=True)
    late = client.get(f"/compliance/{YEAR}?status=late").get_data(as_text=True)
    bad = client.get(f"/compliance/{YEAR}?status=forgiven")

    assert "page 1 of 2 (2 in all)" in first
    assert 'href="?status=shortfall&amp;page=2"' in first
    status_rows = [_codes(p)[0] for p in (first, second)]
    assert sorted(status_rows) == sorted([tenants.own.credit_code, tenants.other.credit_code])
    assert "No status rows with this status" in late
    assert bad.status_code == 422
    assert "status: Must be one of" in bad.get_data(as_text=True)


def test_a_year_not_opened_is_the_404_page(client, sign_in, tenants, assessed):
    sign_in("regulator")

    response = client.get("/compliance/2031")

    assert response.status_code == 404
    assert response.mimetype == "text/html"


def test_text_from_users_is_escaped(client, sign_in, tenants, assessed):
    sign_in("auditor")

    page = client.get(f"/compliance/{YEAR}").get_data(as_text=True)

    assert MARKUP_NAME not in page
    assert "&lt;i&gt;丙数据中心&lt;/i&gt;" in page
