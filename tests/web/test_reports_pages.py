"""The web UI's emission reports: the same services, tenancy and figures as the API."""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal as D
from typing import Any

import pytest
from sqlalchemy.orm import Session

from carbon_market.entrypoints.web import views
from carbon_market.kernel.access.roles import Actor
from carbon_market.mrv.reports import workflow as reports
from carbon_market.mrv.reports.output import Output
from tests.api.helpers import Tenants

YEAR = 2025
FILER = Actor.system(name="system:filer")
APPROVER = Actor.system(name="system:approver")
#: Natural gas with a supplied NCV outside its range (a ``fuel_range`` flag), and
#: electricity filed by month, one line with evidence as a user typed it.
STREAMS: list[dict[str, Any]] = [
    {"kind": "fuel", "fuel": "natural_gas", "quantity": "100", "unit": "10^4 Nm3",
     "factors": {"ncv": "450"}},
    {"kind": "electricity", "quantity": "400", "unit": "MWh", "month": 1,
     "evidence": "<script>alert(1)</script>"},
    {"kind": "electricity", "quantity": "600", "unit": "MWh", "month": 2},
]  # fmt: skip
OTHERS_STREAMS: list[dict[str, Any]] = [
    {"kind": "electricity", "quantity": "500", "unit": "MWh", "month": 3}
]


@dataclass
class Filed:
    approved: int  # own, version 1, verified and approved, with facility lines and output
    draft: int  # own, version 2 (a correction), draft
    others: int  # other's draft


@pytest.fixture
def filed(session: Session, tenants: Tenants) -> Filed:
    own = tenants.own.credit_code
    first = reports.create_report(
        session, FILER, enterprise=own, year=YEAR, streams=STREAMS,
        output=Output(D("1200"), "MWh <b>net</b>", D("5000")),
        facilities=[{"facility": tenants.facility_id, "output": D("1200"), "load_rate": D("0.82")}],
    )  # fmt: skip
    reports.submit_report(session, FILER, first.id)
    reports.assign_verifier(session, FILER, first.id, verifier="verifier")
    verified = first.co2_t - D("1.5")
    reports.verify_report(
        session, FILER, first.id, verified_co2_t=verified, opinion="数据真实",
        facilities=[{"facility": tenants.facility_id, "verified_co2_t": verified}],
    )  # fmt: skip
    reports.approve_report(session, APPROVER, first.id)
    second = reports.create_report(session, FILER, enterprise=own, year=YEAR, streams=STREAMS)
    others = reports.create_report(
        session, FILER, enterprise=tenants.other.credit_code, year=YEAR, streams=OTHERS_STREAMS
    )
    return Filed(approved=first.id, draft=second.id, others=others.id)


def _ids(page: str) -> list[int]:
    """The report ids the list links to, in order."""
    return [int(n) for n in re.findall(r'href="/reports/(\d+)"', page)]


def test_an_enterprise_user_sees_only_its_own_reports_newest_first(client, sign_in, filed):
    sign_in("alpha")

    page = client.get("/reports").get_data(as_text=True)

    assert _ids(page) == [filed.draft, filed.approved]  # version 2 was filed last
    assert "北京甲热电有限公司" in page
    assert "北京乙水泥有限公司" not in page


def test_a_regulator_sees_every_report_and_the_apis_summary_figures(
    client, sign_in, filed, headers_for
):
    sign_in("regulator")

    page = client.get("/reports").get_data(as_text=True)
    api = client.get("/api/v1/reports", headers=headers_for("regulator")).get_json()

    assert _ids(page) == [filed.others, filed.draft, filed.approved]
    approved = next(item for item in api["items"] if item["id"] == filed.approved)
    assert f"<td>{approved['co2_t']}</td>" in page
    assert f"<td>{approved['verified_co2_t']}</td>" in page
    assert f"<td>{approved['obligation_t']:,}</td>" in page
    assert "北京乙水泥有限公司" in page


def test_a_verifier_sees_only_the_reports_assigned_to_them(client, sign_in, filed):
    sign_in("verifier")

    listed = client.get("/reports").get_data(as_text=True)
    others = client.get(f"/reports/{filed.others}")

    assert _ids(listed) == [filed.approved]
    assert others.status_code == 404


def test_another_enterprises_report_is_the_same_404_page_as_a_missing_one(client, sign_in, filed):
    sign_in("alpha")

    theirs = client.get(f"/reports/{filed.others}")
    missing = client.get("/reports/987654321")

    assert theirs.status_code == missing.status_code == 404
    assert theirs.mimetype == "text/html"
    assert f"emission report {filed.others} does not exist" in theirs.get_data(as_text=True)
    assert theirs.get_data(as_text=True).replace(str(filed.others), "N") == missing.get_data(
        as_text=True
    ).replace("987654321", "N")


def test_the_report_page_shows_the_apis_figures(client, sign_in, filed, headers_for):
    sign_in("alpha")

    page = client.get(f"/reports/{filed.approved}").get_data(as_text=True)
    api = client.get(
        f"/api/v1/reports/{filed.approved}", headers=headers_for("enterprise_own")
    ).get_json()

    assert api["status"] == "approved"
    assert "<strong>approved</strong>" in page
    figures = [api["co2_t"], api["verified_co2_t"], f"{api['obligation_t']:,}"]
    figures += list(api["breakdown"]["pollutants_kg"].values())
    figures += [api["intensity"]["co2_t_per_output_unit"], api["intensity"]["co2_t_per_10k_cny"]]
    green = api["breakdown"]["green_power"]
    figures += [green["claimed_mwh"], green["deducted_mwh"], green["unused_mwh"]]
    figures += [stream["co2_t"] for stream in api["breakdown"]["streams"]]
    figures += [month["co2_t"] for month in api["monthly"]["months"]]
    (line,) = api["facilities"]
    figures += [line["output"], line["load_rate"], line["verified_co2_t"]]
    for figure in figures:
        assert f"<td>{figure}</td>" in page, figure
    assert api["intensity"]["basis"] == "verified"
    assert "1号燃煤机组" in page  # the facility line's name


def test_the_report_page_shows_flags_history_and_the_other_versions(
    client, sign_in, filed, headers_for
):
    sign_in("regulator")

    page = client.get(f"/reports/{filed.approved}").get_data(as_text=True)
    api = client.get(f"/api/v1/reports/{filed.approved}", headers=headers_for("regulator"))

    (flag,) = api.get_json()["flags"]
    assert flag["code"] == "fuel_range"
    assert f"<td>{flag['pointer']}</td>" in page
    assert "History (UTC)" in page
    assert "2026-06-01 02:00 by system:filer" in page  # the clock, shown in UTC
    assert "数据真实" in page  # the verifier's opinion
    assert f'href="/reports/{filed.draft}"' in page  # version 2 of the same year
    assert f"#{filed.approved} (this one)" in page


def test_the_list_filters_by_year_and_status_and_pages_keep_the_filters(
    client, sign_in, filed, monkeypatch
):
    monkeypatch.setattr(views, "PAGE_SIZE", 1)
    sign_in("regulator")

    drafts = client.get(f"/reports?year={YEAR}&status=draft").get_data(as_text=True)
    second = client.get(f"/reports?year={YEAR}&status=draft&page=2").get_data(as_text=True)
    approved = client.get("/reports?status=approved").get_data(as_text=True)
    none = client.get(f"/reports?year={YEAR + 1}").get_data(as_text=True)

    assert _ids(drafts) == [filed.others]
    assert f'href="?year={YEAR}&amp;status=draft&amp;page=2"' in drafts
    assert "page 1 of 2 (2 in all)" in drafts
    assert _ids(second) == [filed.draft]
    assert _ids(approved) == [filed.approved]
    assert _ids(none) == []
    assert "No reports you may see with these filters." in none


def test_a_filter_the_api_would_refuse_is_the_422_page(client, sign_in, filed):
    sign_in("regulator")

    status = client.get("/reports?status=lost")
    year = client.get("/reports?year=1066")

    assert status.status_code == year.status_code == 422
    assert status.mimetype == "text/html"
    assert "status: Must be one of" in status.get_data(as_text=True)
    assert "year: Must be greater than or equal to 2000" in year.get_data(as_text=True)


@pytest.mark.parametrize("number", [str(10**30), "9" * 5000, "²", "-1", "0", "x"])
def test_a_page_number_out_of_bounds_or_not_a_number_is_the_first_page(
    client, sign_in, filed, number
):
    sign_in("regulator")

    response = client.get(f"/reports?page={number}")

    assert response.status_code == 200
    assert "page 1 of 1" in response.get_data(as_text=True)


def test_a_role_that_may_not_read_reports_has_no_link_and_is_refused(client, sign_in, filed):
    sign_in("finance")

    start = client.get("/").get_data(as_text=True)
    listed = client.get("/reports")
    one = client.get(f"/reports/{filed.approved}")

    assert 'href="/reports"' not in start
    assert listed.status_code == one.status_code == 403
    assert "may not perform reports.read" in listed.get_data(as_text=True)


def test_a_reader_has_the_reports_link(client, sign_in, filed):
    sign_in("auditor")

    assert 'href="/reports"' in client.get("/").get_data(as_text=True)


def test_text_from_users_is_escaped(client, sign_in, filed):
    sign_in("alpha")

    page = client.get(f"/reports/{filed.approved}").get_data(as_text=True)

    assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "MWh <b>net</b>" not in page
    assert "MWh &lt;b&gt;net&lt;/b&gt;" in page
