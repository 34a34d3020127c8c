"""The web UI's climate-finance pages: the same services, tenancy and figures as the API."""

from __future__ import annotations

import html as html_lib
import re

import pytest

from tests.api.finance.conftest import PROJECTS, project_body

LOAN = {
    "instrument": "green_loan",
    "institution": "北京银行密云支行",
    "committed": "10000000.00",
    "rate": "0.0345",
    "start_date": "2026-01-01",
    "end_date": "2027-01-01",
}


@pytest.fixture
def projects(client, headers_for, tenants):
    """Two projects registered by the finance officer through the API: alpha's, with a
    loan, two disbursements, a reduction report and a milestone; and beta's."""
    officer = headers_for("finance_officer")

    def post(path, body):
        response = client.post(path, json=body, headers=officer)
        assert response.status_code == 201, response.get_data(as_text=True)
        return response.get_json()

    own = post(PROJECTS, project_body(tenants.own.credit_code, name="甲厂余热发电"))
    other = post(PROJECTS, project_body(tenants.other.credit_code, name="乙厂窑炉改造"))
    loan = post(f"{PROJECTS}/{own['id']}/financings", LOAN)
    for on, amount in (("2026-02-01", "4000000.00"), ("2026-03-15", "2500000.50")):
        post(f"{PROJECTS}/{own['id']}/financings/{loan['id']}/disbursements",
             {"date": on, "amount": amount})  # fmt: skip
    year = {"period_start": "2025-01-01", "period_end": "2025-12-31", "achieved_t": "6570.5"}
    post(f"{PROJECTS}/{own['id']}/reductions", year)
    post(f"{PROJECTS}/{own['id']}/milestones", {"name": "并网发电", "due_date": "2026-09-30"})
    return {"own": own, "other": other, "loan": loan}


def _api(client, headers_for, role, path):
    response = client.get(f"{PROJECTS}/{path}", headers=headers_for(role))
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.get_json()


def test_an_enterprise_user_sees_only_the_projects_it_sponsors(client, sign_in, projects):
    sign_in("alpha")

    page = client.get("/projects")

    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert "甲厂余热发电" in text
    assert "乙厂窑炉改造" not in text
    assert "Portfolio" not in text  # finance.portfolio is not the enterprise's


def test_another_sponsor_s_project_is_the_same_404_page_as_a_missing_one(client, sign_in, projects):
    sign_in("alpha")

    theirs = client.get(f"/projects/{projects['other']['id']}")
    missing = client.get("/projects/987654321")

    assert theirs.status_code == missing.status_code == 404
    assert theirs.mimetype == missing.mimetype == "text/html"
    assert f"project {projects['other']['id']} does not exist" in theirs.get_data(as_text=True)
    assert "乙厂窑炉改造" not in theirs.get_data(as_text=True)


def test_the_project_page_shows_the_api_s_figures(client, sign_in, projects, headers_for):
    sign_in("alpha")
    own, loan = projects["own"], projects["loan"]

    text = html_lib.unescape(client.get(f"/projects/{own['id']}").get_data(as_text=True))

    project = _api(client, headers_for, "enterprise_own", f"{own['id']}")
    (financing,) = _api(client, headers_for, "enterprise_own", f"{own['id']}/financings")
    paid = _api(client, headers_for, "enterprise_own",
                f"{own['id']}/financings/{loan['id']}/disbursements")  # fmt: skip
    reductions = _api(client, headers_for, "enterprise_own", f"{own['id']}/reductions")
    (milestone,) = _api(client, headers_for, "enterprise_own", f"{own['id']}/milestones")
    assert project["total_investment"] in text
    assert project["expected_annual_reduction_t"] in text
    for name in ("committed", "disbursed", "undisbursed", "rate", "interest"):
        assert financing[name] is not None
        assert f"<td>{financing[name]}</td>" in text, name
    assert financing["disbursed"] == "6500000.50"
    assert [d["amount"] for d in paid] == ["4000000.00", "2500000.50"]
    for item in paid:
        assert f"disbursed 发放 {item['date']}</td><td></td><td>{item['amount']}</td>" in text
    (report,) = reductions["items"]
    assert f"<td>{report['expected_t']}</td><td>{report['achieved_t']}</td>" in text
    assert report["achieved_t"] == "6570.500"
    assert f"<dd>{reductions['summary']['achieved_vs_expected']}</dd>" in text
    assert f"<td>{milestone['name']}</td><td>{milestone['due_date']}</td>" in text


def test_the_portfolio_totals_are_the_api_s(client, sign_in, projects, headers_for):
    sign_in("finance")

    text = client.get("/projects").get_data(as_text=True)
    api = client.get("/api/v1/finance/portfolio", headers=headers_for("finance_officer"))

    shown = dict(re.findall(r'<dd data-total="([a-z_]+)">([^<]*)</dd>', text))
    totals = api.get_json()["totals"]
    assert shown == {key: "—" if value is None else str(value) for key, value in totals.items()}
    assert shown["projects"] == "2"
    assert shown["disbursed"] == "6500000.50"
    assert "甲厂余热发电" in text
    assert "乙厂窑炉改造" in text


def test_filters_narrow_the_list_and_the_totals_and_survive_the_pager(
    client, sign_in, projects, headers_for, monkeypatch
):
    client.post(f"{PROJECTS}/{projects['other']['id']}/status", json={"status": "admitted"},
                headers=headers_for("finance_officer"))  # fmt: skip
    monkeypatch.setattr("carbon_market.entrypoints.web.views.PAGE_SIZE", 1)
    sign_in("regulator")

    admitted = client.get("/projects?status=admitted").get_data(as_text=True)
    first = client.get("/projects?category=mitigation").get_data(as_text=True)

    assert "乙厂窑炉改造" in admitted
    assert "甲厂余热发电" not in admitted
    assert '<dd data-total="projects">1</dd>' in admitted
    assert '<option value="admitted" selected>' in admitted
    assert "甲厂余热发电" in first
    assert 'href="?category=mitigation&amp;page=2"' in first
    second = client.get("/projects?category=mitigation&page=2").get_data(as_text=True)
    assert "乙厂窑炉改造" in second
    assert "甲厂余热发电" not in second


def test_a_bad_filter_is_an_error_page_with_the_api_s_message(
    client, sign_in, projects, headers_for
):
    sign_in("finance")

    page = client.get("/projects?status=dreaming")
    api = client.get(f"{PROJECTS}?status=dreaming", headers=headers_for("finance_officer"))

    assert page.status_code == api.status_code == 422
    assert page.mimetype == "text/html"
    (error,) = api.get_json()["errors"]
    assert error["pointer"] == "#/query/status"
    assert html_lib.escape(error["detail"]) in page.get_data(as_text=True)


@pytest.mark.parametrize("user", ["verifier", "exchange"])
def test_a_role_without_finance_access_has_no_link_and_is_refused(client, sign_in, projects, user):
    sign_in(user)

    start = client.get("/").get_data(as_text=True)
    listing = client.get("/projects")
    one = client.get(f"/projects/{projects['own']['id']}")

    assert 'href="/projects"' not in start
    assert listing.status_code == one.status_code == 403
    assert listing.mimetype == "text/html"
    assert "may not perform finance.read" in listing.get_data(as_text=True)
    assert "甲厂余热发电" not in one.get_data(as_text=True)


def test_roles_with_finance_access_have_the_link(client, sign_in, tenants):
    sign_in("alpha")

    assert 'href="/projects"' in client.get("/").get_data(as_text=True)
