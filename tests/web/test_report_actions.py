"""The emission report workflow from the report's page: the same services, statuses,
permissions and refusals as the API's workflow endpoints, and a refusal changes nothing."""

from __future__ import annotations

import re
from collections.abc import Callable
from decimal import Decimal as D
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from carbon_market.kernel.access.roles import Actor, Role
from carbon_market.kernel.auth import service as auth_service
from carbon_market.kernel.errors import PermissionDenied
from carbon_market.mrv.reports import workflow as reports
from tests.api.helpers import Tenants, moves_nothing
from tests.factories import make_user
from tests.web.conftest import csrf_token

YEAR = 2025
FILER = Actor.system(name="system:filer")
APPROVER = Actor.system(name="system:approver")
#: The API tests' worked example (cn-default): natural gas 100 × 10^4 Nm3 → 100 × 389.31 ×
#: 0.01530 × 0.99 × 44/12 = 2162.188809 t; electricity 400 + 600 MWh × 0.5366 = 214.64 +
#: 321.96 t; reported co2_t = 2698.788809 t. The 5 % threshold is 134.939440 t either way.
STREAMS: list[dict[str, Any]] = [
    {"kind": "fuel", "fuel": "natural_gas", "quantity": "100", "unit": "10^4 Nm3"},
    {"kind": "electricity", "quantity": "400", "unit": "MWh", "month": 1},
    {"kind": "electricity", "quantity": "600", "unit": "MWh", "month": 2},
]
REPORTED = "2698.788809"
#: Within the threshold (0.288809 t below), so no reason is needed; the obligation is
#: 2698.5 rounded once, half up: 2699 t.
VERIFIED = "2698.5"
#: 698.788809 t (25.9 %) below the reported figure: beyond the threshold.
FAR_OFF = "2000"

#: The steps the services take a report through to reach a status.
PATHS = {
    "draft": [],
    "submitted": ["submitted"],
    "assigned": ["submitted", "assigned"],
    "verified": ["submitted", "assigned", "verified"],
    "approved": ["submitted", "assigned", "verified", "approved"],
    "returned": ["submitted", "returned"],
}


def _report_at(session: Session, tenants: Tenants, status: str, filer: Actor = FILER) -> int:
    """A report of the own enterprise, filed by ``filer`` and taken through the services up
    to ``status`` (``assigned``: submitted with the verifier ``verifier`` assigned)."""
    report = reports.create_report(
        session, filer, enterprise=tenants.own.credit_code, year=YEAR, streams=STREAMS
    )
    moves = {
        "submitted": lambda: reports.submit_report(session, FILER, report.id),
        "assigned": lambda: reports.assign_verifier(session, FILER, report.id, verifier="verifier"),
        "verified": lambda: reports.verify_report(
            session, FILER, report.id, verified_co2_t=D(VERIFIED), opinion="符合"
        ),
        "approved": lambda: reports.approve_report(session, APPROVER, report.id),
        "returned": lambda: reports.return_report(session, APPROVER, report.id, reasons=["x"]),
    }
    for step in PATHS[status]:
        moves[step]()
    return report.id


def _api(client: FlaskClient, headers_for: Callable[[str], dict[str, str]], report_id: int) -> Any:
    response = client.get(f"/api/v1/reports/{report_id}", headers=headers_for("regulator"))
    assert response.status_code == 200
    return response.get_json()


def _post(client: FlaskClient, report_id: int, step: str, **fields: str) -> Any:
    """Send a step's form as the browser would: with the CSRF token the report page carries."""
    token = csrf_token(client, f"/reports/{report_id}")
    return client.post(f"/reports/{report_id}/{step}", data={"csrf_token": token, **fields})


def _forms(page: str) -> set[str]:
    """The workflow steps whose forms the page shows."""
    return set(re.findall(r'action="/reports/\d+/(\w+)"', page))


def test_the_whole_workflow_from_the_report_page_matches_the_api(
    client, sign_in, session, tenants, headers_for
):
    report_id = _report_at(session, tenants, "draft")
    steps = [
        ("alpha", "submit", {}, "submitted", "submitted for verification"),
        ("regulator", "assign", {"verifier": "verifier"}, "submitted", "assigned to verifier"),
        (
            "verifier",
            "verify",
            {"verified_co2_t": VERIFIED, "opinion": "数据真实"},
            "verified",
            "verified: 2698.5 t CO₂",  # the figure as given
        ),
        ("regulator-2", "approve", {}, "approved", "approved: obligation 2,699 t"),
    ]
    for user, step, fields, status, message in steps:
        sign_in(user)

        response = _post(client, report_id, step, **fields)

        assert response.status_code == 303, response.get_data(as_text=True)
        assert response.location == f"/reports/{report_id}"
        page = client.get(response.location).get_data(as_text=True)
        assert message in page  # the flashed one-line message
        assert _api(client, headers_for, report_id)["status"] == status
        assert f"<strong>{status}</strong>" in page
    api = _api(client, headers_for, report_id)
    assert api["verifier_id"] == tenants.users["verifier"].id
    assert (api["co2_t"], api["verified_co2_t"], api["obligation_t"]) == (
        REPORTED,
        "2698.500000",
        2699,
    )
    assert api["opinion"] == "数据真实"


def test_the_regulator_who_filed_a_report_may_not_approve_it(
    app, client, sign_in, session, tenants, headers_for
):
    filer = auth_service.actor_for(tenants.users["regulator"])
    report_id = _report_at(session, tenants, "verified", filer=filer)
    sign_in("regulator")

    with moves_nothing(app):
        refused = _post(client, report_id, "approve")
    sign_in("regulator-2")
    approved = _post(client, report_id, "approve")

    assert refused.status_code == 422
    page = refused.get_data(as_text=True)
    assert f"report {report_id} was filed by regulator; another regulator must approve it" in page
    assert "<strong>verified</strong>" in page  # the same report's page, unchanged
    assert approved.status_code == 303
    assert _api(client, headers_for, report_id)["status"] == "approved"


def test_a_verifier_not_assigned_to_the_report_gets_the_404_page(
    app, client, sign_in, session, tenants, headers_for
):
    report_id = _report_at(session, tenants, "submitted")  # no verifier assigned yet
    before = _api(client, headers_for, report_id)
    sign_in("verifier")
    token = csrf_token(client, "/reports")

    with moves_nothing(app):
        response = client.post(
            f"/reports/{report_id}/verify",
            data={"csrf_token": token, "verified_co2_t": VERIFIED, "opinion": "x"},
        )

    assert response.status_code == 404
    assert f"emission report {report_id} does not exist" in response.get_data(as_text=True)
    assert _api(client, headers_for, report_id) == before


WRONG_STEPS = [
    # (status reached, user, step, fields, expected status, the service's message)
    ("draft", "regulator-2", "approve", {}, 409, "is draft; only verified can be approved"),
    ("submitted", "alpha", "submit", {}, 409, "is submitted; only draft or returned can be"),
    ("draft", "regulator", "assign", {"verifier": "verifier"}, 409, "only submitted can be"),
    ("approved", "regulator", "return", {"reasons": "x"}, 409, "is approved; only submitted"),
    ("verified", "alpha", "approve", {}, 403, "role enterprise may not perform reports.decide"),
    ("submitted", "regulator", "assign", {"verifier": "auditor"}, 422, "is not an active"),
]


@pytest.mark.parametrize(("status", "user", "step", "fields", "expected", "message"), WRONG_STEPS)
def test_a_step_the_service_refuses_shows_its_message_and_changes_nothing(
    app, client, sign_in, session, tenants, headers_for, status, user, step, fields, expected,
    message,
):  # fmt: skip
    report_id = _report_at(session, tenants, status)
    before = _api(client, headers_for, report_id)
    sign_in(user)

    with moves_nothing(app):
        response = _post(client, report_id, step, **fields)

    assert response.status_code == expected
    page = response.get_data(as_text=True)
    assert 'role="alert"' in page
    assert message in page
    assert f"Emission report #{report_id}" in page  # the report's page again
    assert _api(client, headers_for, report_id) == before


def test_verifying_beyond_the_threshold_needs_a_reason(
    app, client, sign_in, session, tenants, headers_for
):
    report_id = _report_at(session, tenants, "assigned")
    sign_in("verifier")

    with moves_nothing(app):
        refused = _post(client, report_id, "verify", verified_co2_t=FAR_OFF, opinion="偏差")
    accepted = _post(
        client, report_id, "verify", verified_co2_t=FAR_OFF, opinion="偏差", reason="计量表故障"
    )

    assert refused.status_code == 422
    page = refused.get_data(as_text=True)
    assert f"the verified 2000 t differs from the reported {REPORTED} t" in page
    assert "<code>reason</code>: required above the threshold" in page  # beside the form
    assert 'name="verified_co2_t" inputmode="decimal" required value="2000"' in page  # kept
    assert accepted.status_code == 303
    api = _api(client, headers_for, report_id)
    assert (api["status"], api["verified_co2_t"], api["reason"]) == (
        "verified",
        "2000.000000",
        "计量表故障",
    )


@pytest.mark.parametrize(
    ("figure", "detail"),
    [
        ("", "Missing data for required field."),
        ("abc", "Not a valid number."),
        ("-1", "Must be greater than or equal to 0"),
        ("2698.1234567", "6"),  # more places than the API stores
        ("NaN", "Special numeric values"),
    ],
)
def test_a_figure_the_apis_schema_refuses_is_refused_the_same_way(
    app, client, sign_in, session, tenants, headers_for, figure, detail
):
    report_id = _report_at(session, tenants, "assigned")
    before = _api(client, headers_for, report_id)
    sign_in("verifier")

    with moves_nothing(app):
        response = _post(client, report_id, "verify", verified_co2_t=figure, opinion="x")

    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "<code>verified_co2_t</code>:" in page
    assert detail in page
    assert _api(client, headers_for, report_id) == before


def test_a_report_with_facility_lines_is_verified_with_its_split(
    client, sign_in, session, tenants, headers_for
):
    report = reports.create_report(
        session, FILER, enterprise=tenants.own.credit_code, year=YEAR, streams=STREAMS,
        facilities=[{"facility": tenants.facility_id, "output": D("1200")}],
    )  # fmt: skip
    reports.submit_report(session, FILER, report.id)
    reports.assign_verifier(session, FILER, report.id, verifier="verifier")
    sign_in("verifier")
    field = f"facility-{tenants.facility_id}"

    form = client.get(f"/reports/{report.id}").get_data(as_text=True)
    unsplit = _post(client, report.id, "verify", verified_co2_t=VERIFIED, opinion="x")
    split = _post(client, report.id, "verify", verified_co2_t=VERIFIED, opinion="x",
                  **{field: VERIFIED})  # fmt: skip

    assert f'name="{field}"' in form
    assert unsplit.status_code == 422
    assert "<code>facilities</code>: required: the report has facility lines" in (
        unsplit.get_data(as_text=True)
    )
    assert split.status_code == 303
    api = _api(client, headers_for, report.id)
    (line,) = api["facilities"]
    assert (api["status"], line["verified_co2_t"]) == ("verified", "2698.5")  # lines: normalized


def test_a_report_is_returned_with_one_reason_a_line(
    client, sign_in, session, tenants, headers_for
):
    report_id = _report_at(session, tenants, "verified")
    sign_in("regulator")

    response = _post(client, report_id, "return", reasons="缺少月度凭证\r\n\r\n  发票不全  \r\n")

    assert response.status_code == 303
    api = _api(client, headers_for, report_id)
    assert (api["status"], api["return_reasons"]) == ("returned", ["缺少月度凭证", "发票不全"])
    assert api["verified_co2_t"] is None  # the verification is cleared, as over the API
    sign_in("alpha")
    page = client.get(f"/reports/{report_id}").get_data(as_text=True)
    assert "<li>发票不全</li>" in page
    assert _forms(page) == {"submit"}  # a returned report goes round again


@pytest.mark.parametrize(
    ("reasons", "pointer"),
    [
        (" \n\n ", "<code>reasons</code>: Length must be between 1 and 50."),
        ("\n".join(f"理由{n}" for n in range(51)), "<code>reasons</code>: Length must be"),
        ("x" * 1001, "<code>reasons/0</code>: Length must be between 1 and 1000."),
    ],
)
def test_reasons_the_apis_schema_refuses_are_refused_the_same_way(
    app, client, sign_in, session, tenants, headers_for, reasons, pointer
):
    report_id = _report_at(session, tenants, "submitted")
    before = _api(client, headers_for, report_id)
    sign_in("regulator")

    with moves_nothing(app):
        response = _post(client, report_id, "return", reasons=reasons)

    assert response.status_code == 422
    assert pointer in response.get_data(as_text=True)
    assert _api(client, headers_for, report_id) == before


def test_a_step_posted_without_the_csrf_token_is_refused(
    app, client, sign_in, session, tenants, headers_for
):
    report_id = _report_at(session, tenants, "draft")
    sign_in("alpha")

    with moves_nothing(app):
        response = client.post(f"/reports/{report_id}/submit")

    assert response.status_code == 400
    assert "CSRF" in response.get_data(as_text=True)
    assert _api(client, headers_for, report_id)["status"] == "draft"


FORMS = [
    # (status reached, user, the forms shown)
    ("draft", "alpha", {"submit"}),
    ("draft", "regulator", set()),  # a regulator files for an enterprise but never submits
    ("submitted", "alpha", set()),
    ("submitted", "regulator", {"assign", "return"}),
    ("assigned", "verifier", {"verify"}),
    ("assigned", "auditor", set()),
    ("verified", "regulator", {"approve", "return"}),
    ("verified", "verifier", set()),
    ("verified", "alpha", set()),
    ("approved", "regulator", set()),
    ("returned", "alpha", {"submit"}),
    ("returned", "regulator", set()),
]


@pytest.mark.parametrize(("status", "user", "shown"), FORMS)
def test_a_step_is_offered_only_where_the_status_and_the_role_allow_it(
    client, sign_in, session, tenants, status, user, shown
):
    report_id = _report_at(session, tenants, status)
    sign_in(user)

    page = client.get(f"/reports/{report_id}").get_data(as_text=True)

    assert _forms(page) == shown
    assert ("Actions 操作" in page) == bool(shown)


def test_the_verifier_choice_lists_the_active_verifiers(client, sign_in, session, tenants):
    make_user(session, role=Role.VERIFIER, name="verifier-b")
    make_user(session, role=Role.VERIFIER, name="verifier-gone", is_active=False)
    report_id = _report_at(session, tenants, "submitted")
    sign_in("regulator")

    page = client.get(f"/reports/{report_id}").get_data(as_text=True)

    assert re.findall(r'<option value="([^"]*)"', page) == ["verifier", "verifier-b"]


def test_the_list_of_verifiers_is_for_those_who_assign_them(session, tenants):
    alpha = auth_service.actor_for(tenants.users["enterprise_own"])
    regulator = auth_service.actor_for(tenants.users["regulator"])

    names = [user.name for user in auth_service.list_verifiers(session, regulator)]

    assert names == ["verifier"]
    with pytest.raises(PermissionDenied):
        auth_service.list_verifiers(session, alpha)
