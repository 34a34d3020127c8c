"""Monitoring over HTTP: achieved reductions against the pro-rated expected figure, cost
per tonne, milestones and the overdue check."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from finance.projects.models import Milestone
from finance.projects.monitoring import flag_overdue_milestones
from tests.api.finance.conftest import PROJECTS
from tests.api.helpers import assert_problem, writes_nothing


def url(project: dict[str, Any], tail: str) -> str:
    return f"{PROJECTS}/{project['id']}/{tail}"


def report(client: FlaskClient, headers: dict[str, str], project: dict[str, Any], **body: str):
    return client.post(url(project, "reductions"), json=body, headers=headers)


def test_reductions_are_compared_with_the_expected_figure_pro_rated_to_the_period(
    client: FlaskClient, headers: dict[str, str], project: dict[str, Any]
) -> None:
    # The project expects 7,300 t a year (20 t a day over 365 days).
    first = report(
        client,
        headers,
        project,
        period_start="2025-01-01",
        period_end="2025-12-31",
        achieved_t="6570",
    )
    second = report(
        client,
        headers,
        project,
        period_start="2026-01-01",
        period_end="2026-03-31",
        achieved_t="1980.5",
        note="一季度",
    )
    assert first.status_code == 201, first.get_data(as_text=True)
    assert second.status_code == 201

    body = client.get(url(project, "reductions"), headers=headers).get_json()

    # 2025: 365 days → expected 7,300.000; achieved 6,570 → 0.9000 of it.
    # Q1 2026: 90 days → 7,300 × 90/365 = 1,800.000; achieved 1,980.5 → 1.1003 (1.100277…).
    assert [(i["expected_t"], i["achieved_vs_expected"]) for i in body["items"]] == [
        ("7300.000", "0.9000"),
        ("1800.000", "1.1003"),
    ]
    summary = body["summary"]
    assert summary["reported_periods"] == 2
    # 6,570 + 1,980.5 = 8,550.5 achieved against 7,300 + 1,800 = 9,100 expected: 0.9396…
    assert summary["achieved_to_date_t"] == "8550.500"
    assert summary["expected_to_date_t"] == "9100.000"
    assert summary["achieved_vs_expected"] == "0.9396"
    # 36,500,000 CNY ÷ 8,550.5 t = 4,268.7562… → 4,268.76 CNY/t to date;
    # 36,500,000 ÷ 7,300 t a year = 5,000.00 CNY per annual tonne.
    assert summary["cost_per_tonne"] == "4268.76"
    assert summary["expected_cost_per_annual_tonne"] == "5000.00"


def test_before_any_report_there_is_no_cost_per_tonne(
    client: FlaskClient, headers: dict[str, str], project: dict[str, Any]
) -> None:
    summary = client.get(url(project, "reductions"), headers=headers).get_json()["summary"]
    assert summary["cost_per_tonne"] is None
    assert summary["achieved_vs_expected"] is None


@pytest.mark.parametrize(
    ("body", "status", "slug", "pointers"),
    [
        # overlaps the reported 2025-01-01..2025-06-30
        (
            {"period_start": "2025-06-30", "period_end": "2025-09-30", "achieved_t": "1"},
            409,
            "conflict",
            {"#/period_start"},
        ),
        (
            {"period_start": "2024-12-01", "period_end": "2024-12-31", "achieved_t": "1"},
            422,
            "validation-failed",
            {"#/period_start"},
        ),
        (
            {"period_start": "2026-05-01", "period_end": "2026-06-30", "achieved_t": "1"},
            422,
            "validation-failed",
            {"#/period_end"},
        ),
        (
            {"period_start": "2025-09-01", "period_end": "2025-08-01", "achieved_t": "1"},
            422,
            "validation-failed",
            {"#/period_end"},
        ),
        (
            {"period_start": "2025-07-01", "period_end": "2025-09-30", "achieved_t": "-1"},
            422,
            "validation-failed",
            {"#/achieved_t"},
        ),
    ],
)
def test_bad_reduction_reports_are_refused_and_write_nothing(
    app: Flask,
    client: FlaskClient,
    headers: dict[str, str],
    project: dict[str, Any],
    body: dict[str, str],
    status: int,
    slug: str,
    pointers: set[str],
) -> None:
    assert (
        report(
            client,
            headers,
            project,
            period_start="2025-01-01",
            period_end="2025-06-30",
            achieved_t="3000",
        ).status_code
        == 201
    )
    with writes_nothing(app):
        response = report(client, headers, project, **body)
    assert_problem(response, status, slug, pointers=pointers)


def test_a_milestone_before_the_project_starts_is_refused(
    app: Flask, client: FlaskClient, headers: dict[str, str], project: dict[str, Any]
) -> None:
    with writes_nothing(app):
        response = client.post(
            url(project, "milestones"),
            json={"name": "可研批复", "due_date": "2024-12-31"},
            headers=headers,
        )
    assert_problem(response, 422, "validation-failed", pointers={"#/due_date"})


def test_milestones_are_listed_by_due_date_and_marked_done(
    client: FlaskClient, headers: dict[str, str], project: dict[str, Any]
) -> None:
    for name, due in (("并网发电", "2026-09-30"), ("开工", "2026-03-31")):
        response = client.post(
            url(project, "milestones"), json={"name": name, "due_date": due}, headers=headers
        )
        assert response.status_code == 201
    listed = client.get(url(project, "milestones"), headers=headers).get_json()
    assert [m["name"] for m in listed] == ["开工", "并网发电"]

    done = client.post(
        url(project, f"milestones/{listed[0]['id']}/done"),
        json={"done_on": "2026-03-28"},
        headers=headers,
    )
    again = client.post(
        url(project, f"milestones/{listed[0]['id']}/done"), json={}, headers=headers
    )
    future = client.post(
        url(project, f"milestones/{listed[1]['id']}/done"),
        json={"done_on": "2026-06-02"},
        headers=headers,
    )

    assert done.status_code == 200
    assert done.get_json()["done_on"] == "2026-03-28"
    assert_problem(again, 422, "rule-violation")
    assert_problem(future, 422, "validation-failed", pointers={"#/done_on"})


def test_the_overdue_check_flags_late_milestones_once_and_leaves_the_rest(
    client: FlaskClient, session: Session, headers: dict[str, str], project: dict[str, Any]
) -> None:
    for name, due in (
        ("开工", "2026-03-31"),
        ("并网", "2026-05-31"),
        ("验收", "2026-06-01"),
        ("已完成", "2026-02-28"),
    ):
        client.post(
            url(project, "milestones"), json={"name": name, "due_date": due}, headers=headers
        )
    finished = session.scalar(select(Milestone).where(Milestone.name == "已完成"))
    assert finished is not None
    client.post(
        url(project, f"milestones/{finished.id}/done"),
        json={"done_on": "2026-02-27"},
        headers=headers,
    )
    # 2026-06-01 00:30 in Beijing is 2026-05-31 16:30 UTC: 并网 (due 05-31) is now late,
    # 验收 (due today) is not yet, 已完成 is done.
    now = datetime(2026, 5, 31, 16, 30, tzinfo=UTC)

    first = flag_overdue_milestones(session, now)
    second = flag_overdue_milestones(session, now)

    assert [m.name for m in first] == ["开工", "并网"]
    assert second == []
    listed = client.get(url(project, "milestones"), headers=headers).get_json()
    assert {m["name"]: m["is_overdue"] for m in listed} == {
        "已完成": False,
        "开工": True,
        "并网": True,
        "验收": False,
    }
