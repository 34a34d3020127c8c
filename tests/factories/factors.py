"""A small, complete factor set (one fuel, grid, heat, one process) for library tests."""

from __future__ import annotations

from typing import Any

SOURCE = "test source"


def small_rows(*, ncv: str = "42.652") -> list[dict[str, Any]]:
    """The rows of a valid set, as the JSON API takes them (values as decimal strings)."""
    rows = [
        ("fuel", "diesel", "ncv", ncv, "GJ/t"),
        ("fuel", "diesel", "carbon_content", "0.0202", "tC/GJ"),
        ("fuel", "diesel", "oxidation_rate", "0.98", "fraction"),
        ("pollutant", "diesel", "so2", "0.02", "kg/t"),
        ("pollutant", "diesel", "nox", "3.2", "kg/t"),
        ("pollutant", "diesel", "pm", "0.3", "kg/t"),
        ("pollutant", "diesel", "vocs", "0.1", "kg/t"),
        ("electricity", "grid", "grid", "0.5366", "tCO2/MWh"),
        ("heat", "purchased_heat", "heat", "0.11", "tCO2/GJ"),
        ("process", "limestone", "factor", "0.44", "tCO2/t"),
    ]
    keys = ("category", "code", "parameter", "value", "unit")
    return [dict(zip(keys, row, strict=True)) | {"source": SOURCE} for row in rows]


def small_set(name: str = "bj-test", **extra: Any) -> dict[str, Any]:
    """A POST /api/v1/emission-factors body."""
    return {
        "name": name,
        "jurisdiction": "CN-BJ",
        "first_year": 2025,
        "last_year": 2026,
        "rows": small_rows(),
        **extra,
    }
