"""Portfolio figures over the project library (pure: DataFrames in, dicts out).

Amounts and tonnes stay ``Decimal`` in object columns and are summed with Python's exact
addition (``sum(values, zero)``): a float64 column would lose fen on large portfolios.

Definitions (``docs/finance.md``):

* committed and disbursed finance come from the financing records and their disbursements;
* **leverage** = total investment ÷ grant money committed (how many yuan of investment each
  yuan of public grant accompanies); None without grants;
* **finance coverage** = committed finance ÷ total investment;
* **expected versus achieved**: achieved reductions against the expected annual reduction
  pro-rated to the same reported periods (``figures.expected_for_period``);
* years: a project counts in the year it starts, a financing in the year it starts, a
  disbursement in its year, a reduction report in the year its period ends.
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal
from typing import Any, cast

import pandas as pd

from finance.projects.rules.figures import cost_per_tonne, ratio

MONEY_ZERO = Decimal("0.00")
TONNE_ZERO = Decimal("0.000")

PROJECT_COLUMNS = [
    "id",
    "locality",
    "category",
    "subsector",
    "status",
    "start_year",
    "total_investment",
    "expected_annual_reduction_t",
]
FINANCING_COLUMNS = ["id", "project_id", "instrument", "start_year", "committed"]
DISBURSEMENT_COLUMNS = ["financing_id", "project_id", "instrument", "year", "amount"]
REDUCTION_COLUMNS = ["project_id", "year", "achieved_t", "expected_t"]
PROJECT_DIMENSIONS = ("locality", "category", "subsector", "status")
GRANT = "grant"


def frame(rows: Iterable[dict[str, Any]], columns: list[str]) -> pd.DataFrame:
    """Rows as a DataFrame with exactly ``columns`` (also when there are no rows), with
    every value kept as the Python object it is."""
    return pd.DataFrame(list(rows), columns=columns, dtype=object)


def _total(values: Iterable[Any], zero: Decimal) -> Decimal:
    return sum(values, zero)


def _per_project(data: pd.DataFrame, column: str, zero: Decimal) -> dict[Any, Decimal]:
    return {key: _total(group[column], zero) for key, group in data.groupby("project_id")}


def _section(
    data: pd.DataFrame, key: str, metrics: dict[str, tuple[str, Decimal | None]]
) -> dict[str, Any]:
    """``{"labels": [...], "series": {metric: [...]}}``: one value per label and metric.

    ``metrics`` maps a series name to (column, zero); a zero of None counts rows instead.
    """
    groups = list(data.groupby(key))  # sorted by label
    series: dict[str, list[Any]] = {}
    for name, (column, zero) in metrics.items():
        series[name] = [
            len(group) if zero is None else _total(group[column], zero) for _, group in groups
        ]
    return {"labels": [label for label, _ in groups], "series": series}


def _with_project_totals(
    projects: pd.DataFrame,
    financings: pd.DataFrame,
    disbursements: pd.DataFrame,
    reductions: pd.DataFrame,
) -> pd.DataFrame:
    out = projects.copy()
    for column, source, value, zero in (
        ("committed", financings, "committed", MONEY_ZERO),
        ("disbursed", disbursements, "amount", MONEY_ZERO),
        ("achieved_t", reductions, "achieved_t", TONNE_ZERO),
        ("expected_t", reductions, "expected_t", TONNE_ZERO),
    ):
        per_project = _per_project(source, value, zero)
        out[column] = pd.Series(
            [per_project.get(pid, zero) for pid in out["id"]], index=out.index, dtype=object
        )
    return out


PROJECT_METRICS: dict[str, tuple[str, Decimal | None]] = {
    "projects": ("id", None),
    "total_investment": ("total_investment", MONEY_ZERO),
    "committed": ("committed", MONEY_ZERO),
    "disbursed": ("disbursed", MONEY_ZERO),
    "expected_annual_reduction_t": ("expected_annual_reduction_t", TONNE_ZERO),
    "expected_reduction_t": ("expected_t", TONNE_ZERO),
    "achieved_reduction_t": ("achieved_t", TONNE_ZERO),
}


def _totals(projects: pd.DataFrame, financings: pd.DataFrame) -> dict[str, Any]:
    investment = _total(projects["total_investment"], MONEY_ZERO)
    committed = _total(projects["committed"], MONEY_ZERO)
    grants = _total(financings.loc[financings["instrument"] == GRANT, "committed"], MONEY_ZERO)
    achieved = _total(projects["achieved_t"], TONNE_ZERO)
    expected = _total(projects["expected_t"], TONNE_ZERO)
    return {
        "projects": len(projects),
        "total_investment": investment,
        "committed": committed,
        "disbursed": _total(projects["disbursed"], MONEY_ZERO),
        "grant_committed": grants,
        "expected_annual_reduction_t": _total(projects["expected_annual_reduction_t"], TONNE_ZERO),
        "expected_reduction_t": expected,
        "achieved_reduction_t": achieved,
        "achieved_vs_expected": ratio(achieved, expected),
        "leverage": ratio(investment, grants),
        "finance_coverage": ratio(committed, investment),
        "cost_per_tonne": cost_per_tonne(investment, achieved),
    }


def _by_year(
    projects: pd.DataFrame,
    financings: pd.DataFrame,
    disbursements: pd.DataFrame,
    reductions: pd.DataFrame,
) -> dict[str, Any]:
    sources: list[tuple[str, pd.DataFrame, str, str, Decimal | None]] = [
        ("projects_started", projects, "start_year", "id", None),
        ("total_investment", projects, "start_year", "total_investment", MONEY_ZERO),
        ("committed", financings, "start_year", "committed", MONEY_ZERO),
        ("disbursed", disbursements, "year", "amount", MONEY_ZERO),
        ("expected_reduction_t", reductions, "year", "expected_t", TONNE_ZERO),
        ("achieved_reduction_t", reductions, "year", "achieved_t", TONNE_ZERO),
    ]
    years: list[int] = sorted(
        {year for _, data, key, _, _ in sources for year in data[key].tolist()}
    )
    series: dict[str, list[Any]] = {}
    for name, data, key, column, zero in sources:
        groups = {cast(int, year): group for year, group in data.groupby(key)}
        series[name] = [
            (len(groups[y]) if y in groups else 0)
            if zero is None
            else (_total(groups[y][column], zero) if y in groups else zero)
            for y in years
        ]
    return {"labels": years, "series": series}


def portfolio_figures(
    projects: pd.DataFrame,
    financings: pd.DataFrame,
    disbursements: pd.DataFrame,
    reductions: pd.DataFrame,
) -> dict[str, Any]:
    """Totals, then one chart-ready section per dimension (Decimal values)."""
    merged = _with_project_totals(projects, financings, disbursements, reductions)
    figures: dict[str, Any] = {"totals": _totals(merged, financings)}
    for dimension in PROJECT_DIMENSIONS:
        figures[f"by_{dimension}"] = _section(merged, dimension, PROJECT_METRICS)
    instruments = _section(
        financings,
        "instrument",
        {"financings": ("id", None), "committed": ("committed", MONEY_ZERO)},
    )
    paid = {
        label: _total(group["amount"], MONEY_ZERO)
        for label, group in disbursements.groupby("instrument")
    }
    instruments["series"]["disbursed"] = [
        paid.get(label, MONEY_ZERO) for label in instruments["labels"]
    ]
    figures["by_instrument"] = instruments
    figures["by_year"] = _by_year(merged, financings, disbursements, reductions)
    return figures


def as_json(value: Any) -> Any:
    """Decimals as exact strings, everything else as it is (recursively)."""
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, dict):
        return {str(k): as_json(v) for k, v in value.items()}
    if isinstance(value, list):
        return [as_json(v) for v in value]
    return value


def csv_rows(figures: dict[str, Any]) -> list[dict[str, Any]]:
    """The figures in long form, one row per (section, label, metric): a spreadsheet pivots
    it any way it likes. Totals have an empty label."""
    rows: list[dict[str, Any]] = [
        {"section": "totals", "label": "", "metric": metric, "value": value}
        for metric, value in figures["totals"].items()
    ]
    for section, content in figures.items():
        if section == "totals":
            continue
        for metric, values in content["series"].items():
            for label, value in zip(content["labels"], values, strict=True):
                rows.append({"section": section, "label": label, "metric": metric, "value": value})
    return [{k: ("" if v is None else as_json(v)) for k, v in row.items()} for row in rows]
