"""The allocation plan's document form and its checks (pure: no database, no web).

One document shape serves the API, the CLI and export/import (``docs/allocation.md``)::

    {"year": 2025, "cap": 45000000, "reserve_share": "0.05", "auction_share": "0.03",
     "base_years": [2022, 2023, 2024], "pre_allocation_share": "0.7",
     "sectors": {"cement": {"method": "historical_emissions", "control_factor": "0.97"}}}

Decimals are JSON strings (a JSON float such as 0.05 is refused: it is not exact), the cap is
a whole number of allowances. :func:`parse_plan` reports every problem at once, each with a
JSON pointer into the document; whether a sector exists in the catalogue needs the database
and is the service's check.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from allocation.rules.rulebook import PowerCorrections, corrections_document, parse_corrections
from carbon_market.kernel.errors import FieldError, ValidationFailed

HISTORICAL_EMISSIONS = "historical_emissions"
HISTORICAL_INTENSITY = "historical_intensity"
BENCHMARK = "benchmark"
METHODS = (HISTORICAL_EMISSIONS, HISTORICAL_INTENSITY, BENCHMARK)
#: Members each method needs, and the ones it may have besides ``method``.
REQUIRED = {
    HISTORICAL_EMISSIONS: ("control_factor",),
    HISTORICAL_INTENSITY: ("control_factor",),
    BENCHMARK: ("benchmarks",),
}
OPTIONAL = {
    HISTORICAL_EMISSIONS: (),
    HISTORICAL_INTENSITY: (),
    BENCHMARK: ("heat_benchmark", "control_factor", "corrections"),
}
TOP_LEVEL = (
    "year",
    "cap",
    "reserve_share",
    "auction_share",
    "base_years",
    "pre_allocation_share",
    "sectors",
)
MIN_YEAR, MAX_YEAR = 2000, 2100
#: Places a plan's decimals may have (shares, factors, benchmarks); more are refused.
PLACES = 6
MAX_CAP = 10**12
CODE = re.compile(r"^[a-z][a-z0-9_]{1,31}$")


@dataclass(frozen=True)
class SectorRule:
    method: str
    control_factor: Decimal | None = None
    benchmarks: dict[str, Decimal] = field(default_factory=dict)
    heat_benchmark: Decimal | None = None
    #: None: the packaged rulebook's corrections apply.
    corrections: PowerCorrections | None = None


@dataclass(frozen=True)
class Plan:
    year: int
    cap: int
    reserve_share: Decimal
    auction_share: Decimal
    base_years: tuple[int, ...]
    sectors: dict[str, SectorRule]
    pre_allocation_share: Decimal | None = None

    @property
    def free_budget(self) -> Decimal:
        """cap × (1 − reserve_share − auction_share), exact (the shares have ≤ 6 places)."""
        return self.cap * (1 - self.reserve_share - self.auction_share)


class _Reader:
    """Collects errors while reading typed members out of the raw document."""

    def __init__(self) -> None:
        self.errors: list[FieldError] = []

    def fail(self, pointer: str, detail: str) -> None:
        self.errors.append(FieldError(pointer, detail))

    def decimal(self, value: Any, pointer: str, *, low: Decimal, high: Decimal) -> Decimal:
        if isinstance(value, bool) or not isinstance(value, str | int):
            self.fail(pointer, 'must be a decimal written as a string, e.g. "0.97"')
            return Decimal(0)
        try:
            parsed = Decimal(value)
        except ArithmeticError:
            parsed = Decimal("NaN")
        if not parsed.is_finite():
            self.fail(pointer, "not a decimal number")
            return Decimal(0)
        if -parsed.as_tuple().exponent > PLACES:  # type: ignore[operator]
            self.fail(pointer, f"at most {PLACES} decimal places")
            return Decimal(0)
        if not low <= parsed <= high:
            self.fail(pointer, f"must be between {low} and {high}")
            # Not the value itself: the checks that combine values (the shares' sum) would
            # do arithmetic on it, which overflows the Decimal context for "1e999999999".
            return Decimal(0)
        return parsed

    def integer(self, value: Any, pointer: str, *, low: int, high: int) -> int:
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            self.fail(pointer, f"must be a whole number from {low} to {high}")
            return low
        return value

    def unknown(self, doc: dict[str, Any], allowed: tuple[str, ...], pointer: str) -> None:
        for key in doc:
            if key not in allowed:
                self.fail(f"{pointer}/{key}", "Unknown field.")


def _sector(reader: _Reader, code: str, doc: Any, pointer: str) -> SectorRule | None:
    if not CODE.match(code):
        reader.fail(pointer, "sector codes are lower-case letters, digits and _")
    if not isinstance(doc, dict):
        reader.fail(pointer, "must be an object with a method and its parameters")
        return None
    method = doc.get("method")
    if method not in METHODS:
        reader.fail(f"{pointer}/method", f"unknown method; one of {', '.join(METHODS)}")
        return None
    reader.unknown(doc, ("method", *REQUIRED[method], *OPTIONAL[method]), pointer)
    for name in REQUIRED[method]:
        if name not in doc:
            reader.fail(f"{pointer}/{name}", f"required by the {method} method")
    factor = None
    if "control_factor" in doc:
        factor = reader.decimal(
            doc["control_factor"], f"{pointer}/control_factor", low=Decimal(0), high=Decimal(2)
        )
    benchmarks: dict[str, Decimal] = {}
    if method == BENCHMARK and "benchmarks" in doc:
        raw = doc["benchmarks"]
        if not isinstance(raw, dict) or not raw:
            reader.fail(f"{pointer}/benchmarks", "must name at least one category")
        else:
            for category, value in raw.items():
                at = f"{pointer}/benchmarks/{category}"
                if not CODE.match(str(category)):
                    reader.fail(at, "category codes are lower-case letters, digits and _")
                benchmarks[str(category)] = reader.decimal(
                    value, at, low=Decimal(0), high=Decimal(1000)
                )
    heat = None
    if "heat_benchmark" in doc:
        heat = reader.decimal(
            doc["heat_benchmark"], f"{pointer}/heat_benchmark", low=Decimal(0), high=Decimal(10)
        )
    corrections = None
    if "corrections" in doc:
        corrections, errors = parse_corrections(doc["corrections"], f"{pointer}/corrections")
        reader.errors.extend(errors)
    return SectorRule(method, factor, benchmarks, heat, corrections)


def _base_years(reader: _Reader, value: Any, year: int) -> tuple[int, ...]:
    if not isinstance(value, list) or not value:
        reader.fail("#/base_years", "must be a non-empty list of years")
        return ()
    years = [
        reader.integer(v, f"#/base_years/{i}", low=MIN_YEAR, high=year - 1)
        for i, v in enumerate(value)
    ]
    if len(set(years)) != len(years):
        reader.fail("#/base_years", "each base year once")
    return tuple(sorted(set(years)))


def parse_plan(doc: Any) -> Plan:
    """The :class:`Plan` a document describes; ValidationFailed lists every problem at once."""
    reader = _Reader()
    if not isinstance(doc, dict):
        raise ValidationFailed("a plan is a JSON object", errors=[FieldError("#", "not an object")])
    reader.unknown(doc, TOP_LEVEL, "#")
    for name in ("year", "cap", "reserve_share", "auction_share", "base_years", "sectors"):
        if name not in doc:
            reader.fail(f"#/{name}", "Missing data for required field.")
    year = reader.integer(doc.get("year", MIN_YEAR + 1), "#/year", low=MIN_YEAR + 1, high=MAX_YEAR)
    cap = reader.integer(doc.get("cap", 1), "#/cap", low=1, high=MAX_CAP)
    one = Decimal(1)
    reserve = reader.decimal(
        doc.get("reserve_share", "0"), "#/reserve_share", low=Decimal(0), high=one
    )
    auction = reader.decimal(
        doc.get("auction_share", "0"), "#/auction_share", low=Decimal(0), high=one
    )
    if reserve + auction > one:
        reader.fail("#/auction_share", "reserve_share + auction_share add to more than 100%")
    pre = None
    if doc.get("pre_allocation_share") is not None:
        pre = reader.decimal(
            doc["pre_allocation_share"], "#/pre_allocation_share", low=Decimal(0), high=one
        )
    base_years = _base_years(reader, doc.get("base_years", [MIN_YEAR]), year)
    sectors: dict[str, SectorRule] = {}
    raw_sectors = doc.get("sectors", {})
    if not isinstance(raw_sectors, dict) or ("sectors" in doc and not raw_sectors):
        reader.fail("#/sectors", "must map at least one sector code to its method")
    elif isinstance(raw_sectors, dict):
        for code, sector_doc in raw_sectors.items():
            rule = _sector(reader, str(code), sector_doc, f"#/sectors/{code}")
            if rule is not None:
                sectors[str(code)] = rule
    if reader.errors:
        raise ValidationFailed(
            f"the plan has {len(reader.errors)} problem(s)", errors=reader.errors
        )
    return Plan(year, cap, reserve, auction, base_years, sectors, pre)


def plan_document(plan: Plan) -> dict[str, Any]:
    """The document form of ``plan``: ``parse_plan(plan_document(p)) == p``."""
    sectors: dict[str, Any] = {}
    for code, rule in plan.sectors.items():
        out: dict[str, Any] = {"method": rule.method}
        if rule.benchmarks:
            out["benchmarks"] = {k: str(v) for k, v in rule.benchmarks.items()}
        if rule.heat_benchmark is not None:
            out["heat_benchmark"] = str(rule.heat_benchmark)
        if rule.control_factor is not None:
            out["control_factor"] = str(rule.control_factor)
        if rule.corrections is not None:
            out["corrections"] = corrections_document(rule.corrections)
        sectors[code] = out
    doc: dict[str, Any] = {
        "year": plan.year,
        "cap": plan.cap,
        "reserve_share": str(plan.reserve_share),
        "auction_share": str(plan.auction_share),
        "base_years": list(plan.base_years),
        "sectors": sectors,
    }
    if plan.pre_allocation_share is not None:
        doc["pre_allocation_share"] = str(plan.pre_allocation_share)
    return doc


def copy_document(doc: dict[str, Any], year: int) -> dict[str, Any]:
    """Last year's document moved to ``year``: the base years shift by the same span."""
    shift = year - int(doc["year"])
    return {**doc, "year": year, "base_years": [int(y) + shift for y in doc["base_years"]]}
