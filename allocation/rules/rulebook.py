"""The power-sector correction factors as rulebook data (pure: no database, no web).

The national allocation plans for the power sector (2019–2020 and 2021–2022) correct a unit's
benchmark allocation for its cooling mode, its heat supply and, for pure-condensing coal
units, its load rate. The numbers are policy, so they are data: the packaged default
``data/power-corrections.json`` (``cn-power-2019-2022``), which a plan may replace per sector
with its own ``corrections`` member of the same shape. Only the shape of the load-rate curve
(a flat part, linear pieces, a power law below the last piece) is code.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from decimal import Decimal
from importlib import resources
from typing import Any

from carbon_market.kernel.errors import FieldError


@dataclass(frozen=True)
class LinearPiece:
    """``base + slope × (pivot − 100F)`` for ``from_rate ≤ F`` (below the previous piece)."""

    from_rate: Decimal
    base: Decimal
    slope: Decimal
    pivot: Decimal


@dataclass(frozen=True)
class PowerLaw:
    """``base ^ (constant − coefficient × F)`` below the last linear piece."""

    base: Decimal
    constant: Decimal
    coefficient: Decimal


@dataclass(frozen=True)
class PowerCorrections:
    name: str
    #: Category → fuel (``coal`` or ``gas``); a category not listed gets no correction.
    fuel_of_category: dict[str, str]
    #: Cooling mode → factor (coal units only).
    cooling: dict[str, Decimal]
    #: Fuel → coefficient c of ``1 − c × r`` for a heat-supply ratio r.
    heat_supply: dict[str, Decimal]
    full_load: Decimal
    linear: tuple[LinearPiece, ...]
    below: PowerLaw


def _decimal(value: Any, pointer: str, errors: list[FieldError]) -> Decimal:
    if isinstance(value, str):
        try:
            parsed = Decimal(value)
        except ArithmeticError:
            parsed = Decimal("NaN")
        if parsed.is_finite():
            return parsed
    errors.append(FieldError(pointer, "must be a decimal number written as a string"))
    return Decimal(0)


def _mapping(value: Any, pointer: str, errors: list[FieldError]) -> dict[str, Any]:
    if isinstance(value, dict) and value:
        return value
    errors.append(FieldError(pointer, "must be a non-empty object"))
    return {}


def parse_corrections(doc: Any, pointer: str = "#") -> tuple[PowerCorrections, list[FieldError]]:
    """A corrections document (the packaged file's shape) and every error in it at once."""
    errors: list[FieldError] = []
    doc = _mapping(doc, pointer, errors)
    fuels = {
        str(k): str(v)
        for k, v in _mapping(
            doc.get("fuel_of_category"), f"{pointer}/fuel_of_category", errors
        ).items()
    }
    for category, fuel in fuels.items():
        if fuel not in ("coal", "gas"):
            errors.append(FieldError(f"{pointer}/fuel_of_category/{category}", "coal or gas"))
    cooling = {
        str(k): _decimal(v, f"{pointer}/cooling/{k}", errors)
        for k, v in _mapping(doc.get("cooling"), f"{pointer}/cooling", errors).items()
    }
    heat = {
        str(k): _decimal(v, f"{pointer}/heat_supply/{k}", errors)
        for k, v in _mapping(doc.get("heat_supply"), f"{pointer}/heat_supply", errors).items()
    }
    load = _mapping(doc.get("load_rate"), f"{pointer}/load_rate", errors)
    at = f"{pointer}/load_rate"
    pieces = []
    for i, piece in enumerate(load.get("linear") or []):
        p = _mapping(piece, f"{at}/linear/{i}", errors)
        pieces.append(
            LinearPiece(
                *(
                    _decimal(p.get(key), f"{at}/linear/{i}/{key}", errors)
                    for key in ("from", "base", "slope", "pivot")
                )
            )
        )
    below = _mapping(load.get("below"), f"{at}/below", errors)
    law = PowerLaw(
        *(
            _decimal(below.get(k), f"{at}/below/{k}", errors)
            for k in ("base", "constant", "coefficient")
        )
    )
    corrections = PowerCorrections(
        name=str(doc.get("name", "plan")),
        fuel_of_category=fuels,
        cooling=cooling,
        heat_supply=heat,
        full_load=_decimal(load.get("full_load"), f"{at}/full_load", errors),
        linear=tuple(pieces),
        below=law,
    )
    return corrections, errors


def corrections_document(corrections: PowerCorrections) -> dict[str, Any]:
    """The document form of ``corrections`` (decimals as strings): what a plan stores."""
    return {
        "name": corrections.name,
        "fuel_of_category": dict(corrections.fuel_of_category),
        "cooling": {k: str(v) for k, v in corrections.cooling.items()},
        "heat_supply": {k: str(v) for k, v in corrections.heat_supply.items()},
        "load_rate": {
            "full_load": str(corrections.full_load),
            "linear": [
                {
                    "from": str(p.from_rate),
                    "base": str(p.base),
                    "slope": str(p.slope),
                    "pivot": str(p.pivot),
                }
                for p in corrections.linear
            ],
            "below": {
                "base": str(corrections.below.base),
                "constant": str(corrections.below.constant),
                "coefficient": str(corrections.below.coefficient),
            },
        },
    }


def default_corrections() -> PowerCorrections:
    """The packaged national corrections (``cn-power-2019-2022``)."""
    text = resources.files("allocation").joinpath("data/power-corrections.json").read_text("utf-8")
    corrections, errors = parse_corrections(json.loads(text))
    if errors:  # pragma: no cover - the packaged file is checked by a test
        raise ValueError(f"packaged corrections are invalid: {errors}")
    return corrections
