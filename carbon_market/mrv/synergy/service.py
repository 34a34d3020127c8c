"""The synergy (协同) view over approved emission reports (issue 5, item 7).

Loads, per enterprise and year (Y and Y−1), the latest approved version of its report, with
the enterprise's current sector and district, and hands them to the pure
:func:`carbon_market.mrv.synergy.tables.synergy_table`. Definitions, the like-for-like rule and the
rounding are that module's.

* CO2 is the approved figure, ``verified_co2_t``: the figure the obligation comes from, not
  the enterprise's own. The pollutants are the report's ``breakdown["pollutants_kg"]``; the
  verifier does not restate them.
* Only the latest approved version counts: an approved version is corrected by approving
  the next one, and counting both would count the year twice. A later version still open
  (draft, submitted, verified, returned) does not count until it is approved.
* Groups use the enterprise's current sector and district, the same for both years.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace
from decimal import Decimal

import pandas as pd
from sqlalchemy import Select, and_, func, select
from sqlalchemy.orm import Session

from carbon_market.emitters.models import District, Enterprise, Sector
from carbon_market.kernel.access.policy import authorize
from carbon_market.kernel.access.roles import Actor
from carbon_market.kernel.errors import FieldError, ValidationFailed
from carbon_market.mrv.calculator.factor_sets import POLLUTANTS
from carbon_market.mrv.reports.enums import ReportStatus
from carbon_market.mrv.reports.models import EmissionReport
from carbon_market.mrv.synergy import tables as synergy

#: The catalogue whose labels follow each group key in a row (``sector_label_zh`` ...).
CATALOGUES = {"sector": Sector, "district": District}
LABELS = ("label_zh", "label_en")


def get_synergy_view(
    session: Session,
    actor: Actor,
    *,
    year: int,
    group_by: Iterable[str] = ("sector",),
    sector: str | None = None,
    district: str | None = None,
) -> synergy.SynergyTable:
    """The synergy view for ``year`` grouped by ``group_by`` (``sector``, ``district`` or
    both), optionally restricted to one sector and/or district; each row also carries the
    catalogue labels of its keys (``<key>_label_zh``, ``<key>_label_en``).

    Regulators and auditors only: the view compares enterprises with each other, so no
    enterprise user sees it, and it is not scoped. A year without approved reports is an
    empty table, not an error. Raises PermissionDenied, ValidationFailed (``#/group_by``).
    """
    authorize(actor, "synergy.read")
    try:
        keys = synergy.group_keys(group_by)
    except ValueError as exc:
        raise ValidationFailed(
            str(exc), errors=[FieldError("#/group_by", str(exc), "synergy.group_by")]
        ) from exc
    query = _latest_approved(years=(year - 1, year))
    if sector is not None:
        query = query.where(Enterprise.sector == sector)
    if district is not None:
        query = query.where(Enterprise.district == district)
    loaded = session.execute(query).mappings().all()
    frame = pd.DataFrame(
        {
            column: pd.Series([_value(column, row[column]) for row in loaded], dtype=object)
            for column in [*synergy.INPUT_COLUMNS, *_label_columns(synergy.GROUP_KEYS)]
        }
    )
    table = synergy.synergy_table(frame, year=year, group_by=keys)
    return replace(table, rows=_with_labels(table.rows, frame, keys))


def _latest_approved(*, years: tuple[int, ...]) -> Select[tuple[object, ...]]:
    """One row per enterprise and year of ``years``: its latest approved version, with the
    enterprise's keys and their labels. The pollutants are read out of the breakdown by the
    database, so the per-stream document never leaves it."""
    report = EmissionReport
    latest = (
        select(report.enterprise_id, report.year, func.max(report.version).label("version"))
        .where(report.status == ReportStatus.APPROVED, report.year.in_(years))
        .group_by(report.enterprise_id, report.year)
        .subquery()
    )
    same = and_(
        report.enterprise_id == latest.c.enterprise_id,
        report.year == latest.c.year,
        report.version == latest.c.version,
    )
    pollutants = [
        report.breakdown[("pollutants_kg", p)].as_string().label(f"{p}_kg") for p in POLLUTANTS
    ]
    return (
        select(
            report.enterprise_id,
            Enterprise.sector,
            Sector.label_zh.label("sector_label_zh"),
            Sector.label_en.label("sector_label_en"),
            Enterprise.district,
            District.label_zh.label("district_label_zh"),
            District.label_en.label("district_label_en"),
            report.year,
            report.verified_co2_t.label("co2_t"),
            *pollutants,
        )
        .join(latest, same)
        .join(Enterprise, Enterprise.id == report.enterprise_id)
        .join(Sector, Sector.code == Enterprise.sector)
        .join(District, District.code == Enterprise.district)
        .order_by(report.enterprise_id, report.year)
    )


def _value(column: str, value: object) -> object:
    """Pollutant masses arrive as the breakdown's decimal strings; the view wants Decimals.
    Anything else (a missing figure) goes through unchanged for the pure module to refuse."""
    if column.endswith("_kg") and isinstance(value, str):
        return Decimal(value)
    return value


def _label_columns(keys: Iterable[str]) -> list[str]:
    return [f"{key}_{label}" for key in keys for label in LABELS]


def _with_labels(rows: pd.DataFrame, loaded: pd.DataFrame, keys: tuple[str, ...]) -> pd.DataFrame:
    """``rows`` with each key followed by its labels, taken from the rows loaded: every key
    of the view came from one of them."""
    labelled = rows.copy()
    for key in reversed(keys):
        at = list(labelled.columns).index(key) + 1
        for label in reversed(LABELS):
            column = f"{key}_{label}"
            names = dict(zip(loaded[key], loaded[column], strict=True))
            labelled.insert(at, column, [names[code] for code in labelled[key]])
    return labelled.astype(object)
