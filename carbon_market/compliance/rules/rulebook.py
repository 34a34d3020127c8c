"""Compliance rulebooks as data: the national market's and the Beijing pilot's defaults.

Pure: no database, no web: values in, values out.

A rulebook says when reports, verification and surrender are due, which unit kinds count
and whether as allowances or offsets, whether banked vintages may be surrendered (borrowing
from a later year never may), the offset caps, the penalty range and price window, and the
obligation adjustments of the national power-sector plans. The shipped files cite their
sources; a regulator opening a year starts from one and may edit it.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from enum import StrEnum
from functools import cache
from importlib import resources
from types import MappingProxyType
from typing import Any

RULEBOOKS = ("national", "beijing")


class PriceWindow(StrEnum):
    #: The calendar month before the surrender deadline (national, art. 24).
    MONTH_BEFORE_DEADLINE = "month_before_deadline"
    #: The six months before the surrender deadline (Beijing).
    SIX_MONTHS_BEFORE_DEADLINE = "six_months_before_deadline"


@dataclass(frozen=True)
class OffsetRules:
    #: What the share cap applies to: ``obligation`` (units due) or ``allocation``.
    basis: str
    share_cap: Decimal
    #: Cap on offsets from outside the jurisdiction, same basis; None when there is none.
    outside_share_cap: Decimal | None


@dataclass(frozen=True)
class PenaltyRules:
    multiple_min: Decimal
    multiple_max: Decimal
    price_window: PriceWindow
    #: A shortfall left uncorrected is deducted from next year's allocation.
    deduct_uncorrected: bool


@dataclass(frozen=True)
class ObligationCaps:
    gas_capped_at_allocation: bool
    #: Obligation ≤ allocation + this share × verified emissions, in ``years``; None: no cap.
    shortfall_share_cap: Decimal | None
    shortfall_cap_years: frozenset[int]


@dataclass(frozen=True)
class Rulebook:
    name: str
    title: str
    #: Month-day of each deadline in the year after the compliance year (Asia/Shanghai).
    deadlines: Mapping[str, str]
    #: Unit kind → ``allowance`` or ``offset``; kinds not listed cannot be surrendered.
    surrenderable: Mapping[str, str]
    banking: bool
    offsets: OffsetRules
    penalty: PenaltyRules
    obligation_caps: ObligationCaps
    sources: Mapping[str, str]
    #: Offset unit kinds whose projects lie outside the jurisdiction (the ledger keeps a
    #: CCER from outside Beijing as its own unit kind, ``ccer_outside``; docs/compliance.md).
    outside_kinds: frozenset[str] = frozenset()

    def deadline(self, which: str, year: int) -> date:
        """The ``which`` deadline (reporting, verification, surrender) for ``year``."""
        month, day = (int(part) for part in self.deadlines[which].split("-"))
        return date(year + 1, month, day)


def _decimal(value: Any) -> Decimal | None:
    return None if value is None else Decimal(str(value))


def parse_rulebook(document: Mapping[str, Any]) -> Rulebook:
    """A rulebook from its JSON form; ValueError naming the first bad member."""
    try:
        offsets, penalty, caps = (
            document["offsets"],
            document["penalty"],
            document["obligation_caps"],
        )
        book = Rulebook(
            name=str(document["name"]),
            title=str(document["title"]),
            deadlines=MappingProxyType(dict(document["deadlines"])),
            surrenderable=MappingProxyType(dict(document["surrenderable"])),
            banking=bool(document["banking"]),
            offsets=OffsetRules(
                str(offsets["basis"]),
                Decimal(str(offsets["share_cap"])),
                _decimal(offsets["outside_share_cap"]),
            ),
            penalty=PenaltyRules(
                Decimal(str(penalty["multiple_min"])),
                Decimal(str(penalty["multiple_max"])),
                PriceWindow(penalty["price_window"]),
                bool(penalty["deduct_uncorrected"]),
            ),
            obligation_caps=ObligationCaps(
                bool(caps["gas_capped_at_allocation"]),
                _decimal(caps["shortfall_share_cap"]),
                frozenset(int(y) for y in caps["shortfall_cap_years"]),
            ),
            sources=MappingProxyType(dict(document.get("sources", {}))),
            outside_kinds=frozenset(str(k) for k in document.get("outside_kinds", [])),
        )
    except (KeyError, TypeError, ValueError, ArithmeticError) as exc:
        raise ValueError(f"malformed rulebook: {exc!r}") from exc
    _check(book)
    return book


def _check(book: Rulebook) -> None:
    if set(book.deadlines) != {"reporting", "verification", "surrender"}:
        raise ValueError("malformed rulebook: deadlines are reporting, verification, surrender")
    for which in book.deadlines:
        try:
            book.deadline(which, 2023)  # 2024 is a leap year: 02-29 passes, 02-30 does not
        except ValueError as exc:
            raise ValueError(f"malformed rulebook: deadline {which}: {exc}") from exc
    if not set(book.surrenderable.values()) <= {"allowance", "offset"}:
        raise ValueError("malformed rulebook: a unit kind counts as allowance or offset")
    if not book.outside_kinds <= {k for k, v in book.surrenderable.items() if v == "offset"}:
        raise ValueError("malformed rulebook: outside_kinds are surrenderable offset kinds")
    if book.offsets.basis not in {"obligation", "allocation"}:
        raise ValueError("malformed rulebook: offsets.basis is obligation or allocation")
    if not 0 < book.penalty.multiple_min <= book.penalty.multiple_max:
        raise ValueError("malformed rulebook: 0 < multiple_min <= multiple_max")


def shipped_document(name: str) -> dict[str, Any]:
    """The JSON form of a shipped rulebook: what a compliance year stores and edits."""
    if name not in RULEBOOKS:
        raise KeyError(f"no rulebook {name!r}; shipped: {', '.join(RULEBOOKS)}")
    text = resources.files("carbon_market.compliance").joinpath(f"data/{name}.json")
    document: dict[str, Any] = json.loads(text.read_text(encoding="utf-8"))
    return document


@cache
def shipped(name: str) -> Rulebook:
    """One of the shipped rulebooks (``national``, ``beijing``)."""
    return parse_rulebook(shipped_document(name))
