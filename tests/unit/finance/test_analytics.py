"""Portfolio figures (pure): exact Decimal sums, chart-ready sections, long-form CSV rows."""

from __future__ import annotations

from decimal import Decimal as D

from finance.projects.rules import analytics as a


def _frames(**rows):
    return {
        "projects": a.frame(rows.get("projects", []), a.PROJECT_COLUMNS),
        "financings": a.frame(rows.get("financings", []), a.FINANCING_COLUMNS),
        "disbursements": a.frame(rows.get("disbursements", []), a.DISBURSEMENT_COLUMNS),
        "reductions": a.frame(rows.get("reductions", []), a.REDUCTION_COLUMNS),
    }


def _project(pid, locality, investment, **extra):
    return {
        "id": pid,
        "locality": locality,
        "category": "mitigation",
        "subsector": "renewable_energy",
        "status": "operating",
        "start_year": 2025,
        "total_investment": D(investment),
        "expected_annual_reduction_t": D("10.000"),
        **extra,
    }


def test_sums_are_exact_where_floats_would_drift():
    # 0.10 + 0.20 is 0.30000000000000004 in float64; three such projects make 0.60 exactly.
    figures = a.portfolio_figures(
        **_frames(
            projects=[
                _project(1, "miyun", "0.10"),
                _project(2, "miyun", "0.20"),
                _project(3, "tongzhou", "0.30"),
            ]
        )
    )
    assert figures["totals"]["total_investment"] == D("0.60")
    assert figures["by_locality"]["series"]["total_investment"] == [D("0.30"), D("0.30")]
    assert figures["by_locality"]["series"]["projects"] == [2, 1]


def test_a_project_without_financing_counts_zero_committed():
    figures = a.portfolio_figures(
        **_frames(
            projects=[_project(1, "miyun", "100.00"), _project(2, "yanqing", "50.00")],
            financings=[
                {
                    "id": 7,
                    "project_id": 1,
                    "instrument": "grant",
                    "start_year": 2025,
                    "committed": D("40.00"),
                }
            ],
        )
    )
    assert figures["by_locality"]["series"]["committed"] == [D("40.00"), D("0.00")]
    # leverage = 150.00 ÷ 40.00 grant = 3.75; coverage = 40 ÷ 150 = 0.2667
    assert figures["totals"]["leverage"] == D("3.7500")
    assert figures["totals"]["finance_coverage"] == D("0.2667")


def test_csv_rows_are_long_form_with_exact_strings_and_empty_for_none():
    figures = a.portfolio_figures(**_frames(projects=[_project(1, "miyun", "100.00")]))
    rows = a.csv_rows(figures)

    assert {"section": "totals", "label": "", "metric": "leverage", "value": ""} in rows
    assert {
        "section": "by_locality",
        "label": "miyun",
        "metric": "total_investment",
        "value": "100.00",
    } in rows
