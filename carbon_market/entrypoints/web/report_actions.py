"""The emission report workflow from the report's page: submit, assign a verifier, verify,
approve and return, each a small POST form.

Each step calls the very service function the API's endpoint calls, with the signed-in user,
and reads its form with the API's own body schema: the same permissions, statuses, limits and
messages hold. Success goes back to the report's page (303) with a one-line message; a
refusal shows the page again with the service's message beside the form, with the status the
API would answer, and changes nothing (the service's unit of work rolled back).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from flask import flash, redirect, request, url_for
from flask.typing import ResponseReturnValue

from carbon_market.entrypoints.web.actor import web_actor
from carbon_market.entrypoints.web.reports_pages import Refusal, report_page
from carbon_market.entrypoints.web.views import bp, load_form
from carbon_market.kernel.errors import DomainError
from carbon_market.kernel.http import db_session
from carbon_market.mrv.reports import workflow as reports
from carbon_market.mrv.reports.schemas import (
    ReportAssignSchema,
    ReportReturnSchema,
    ReportVerifySchema,
)

#: A verifier's figure for one facility line: ``facility-<facility id>``.
#: ASCII digits, few enough for any id (and for int()).
FACILITY_FIELD = re.compile(r"facility-([0-9]{1,18})")


def _step(report_id: int, step: str, act: Callable[[], str]) -> ResponseReturnValue:
    """Run ``act`` (one service call; it returns the message for the user) and go back to
    the report's page; a refusal is the page again with the message beside ``step``'s form.

    A report the user may not see is the 404 page (``report_page`` asks the service again,
    which answers as it did for the step)."""
    web_actor()  # signed in first: an expired sign-in is the sign-in page, not a refusal
    try:
        message = act()
    except DomainError as exc:
        return report_page(report_id, Refusal(step, exc)), exc.status
    flash(message)
    return redirect(url_for("web.report", report_id=report_id), code=303)


def _given(*names: str) -> dict[str, str]:
    """The form's fields ``names`` that were filled in: a blank field counts as left out, so
    the schema says a required one is missing (as the API does for a missing member)."""
    return {name: request.form[name] for name in names if request.form.get(name, "").strip()}


@bp.post("/reports/<int:report_id>/submit", endpoint="report_submit")
def submit(report_id: int) -> ResponseReturnValue:
    """Submit for verification (``POST /api/v1/reports/<id>/submit``)."""

    def act() -> str:
        reports.submit_report(db_session(), web_actor(), report_id)
        return f"Report #{report_id} submitted for verification."

    return _step(report_id, "submit", act)


@bp.post("/reports/<int:report_id>/assign", endpoint="report_assign")
def assign(report_id: int) -> ResponseReturnValue:
    """Assign a verifier, by user name (``POST /api/v1/reports/<id>/assign``)."""

    def act() -> str:
        data = load_form(ReportAssignSchema(), _given("verifier"))
        reports.assign_verifier(db_session(), web_actor(), report_id, **data)
        return f"Report #{report_id} assigned to verifier {data['verifier']}."

    return _step(report_id, "assign", act)


def verify_form() -> dict[str, Any]:
    """The verify form as the API's body: the figure (a decimal string, never a float),
    the opinion, the reason, and the split over facility lines when the form has them."""
    body: dict[str, Any] = _given("verified_co2_t", "opinion", "reason")
    split = [
        {"facility": int(match.group(1))} | _renamed(name)
        for name in request.form
        if (match := FACILITY_FIELD.fullmatch(name))
    ]
    if split:
        body["facilities"] = split
    return body


def _renamed(name: str) -> dict[str, str]:
    """A facility line's figure as the API names it, when it was filled in."""
    value = _given(name).get(name)
    return {} if value is None else {"verified_co2_t": value}


@bp.post("/reports/<int:report_id>/verify", endpoint="report_verify")
def verify(report_id: int) -> ResponseReturnValue:
    """State the verified emissions (``POST /api/v1/reports/<id>/verify``)."""

    def act() -> str:
        data = load_form(ReportVerifySchema(), verify_form())
        report = reports.verify_report(db_session(), web_actor(), report_id, **data)
        return f"Report #{report_id} verified: {report.verified_co2_t} t CO₂."

    return _step(report_id, "verify", act)


@bp.post("/reports/<int:report_id>/approve", endpoint="report_approve")
def approve(report_id: int) -> ResponseReturnValue:
    """Approve, applying a correction in the same unit of work, as the API's approve does
    (``POST /api/v1/reports/<id>/approve``)."""

    def act() -> str:
        report = reports.approve_and_publish(db_session(), web_actor(), report_id)
        return f"Report #{report_id} approved: obligation {report.obligation_t:,} t."

    return _step(report_id, "approve", act)


@bp.post("/reports/<int:report_id>/return", endpoint="report_return")
def return_(report_id: int) -> ResponseReturnValue:
    """Return to the enterprise with reasons, one a line (``POST
    /api/v1/reports/<id>/return``); blank lines are no reasons."""

    def act() -> str:
        lines = request.form.get("reasons", "").splitlines()
        data = load_form(ReportReturnSchema(), {"reasons": [r.strip() for r in lines if r.strip()]})
        reports.return_report(db_session(), web_actor(), report_id, **data)
        return f"Report #{report_id} returned to the enterprise ({len(data['reasons'])} reason(s))."

    return _step(report_id, "return", act)
