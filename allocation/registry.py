"""The engine's input frame read from the registry (verified emissions, outputs and the
power corrections' inputs), in the columns of a facilities file (``allocation.files``), so
that the same data gives the same figures by either path.

One row per facility of an enterprise that has not exited. A year's figures come from the
enterprise's **latest approved** report version for that year (a correction is approved as
the next version):

* the report has **facility lines**: each facility gets its own line's verified emissions
  (the verifier's split) and output; a facility without a line has no figures that year;
* the report has none and the enterprise has **one** facility: the report's
  ``verified_co2_t`` and output quantity are that facility's;
* the report has none and the enterprise has **several** facilities: nothing is guessed;
  every facility of the enterprise gets a ``note`` naming the years and no allocation.

Power-correction inputs: ``category`` is the facility's benchmark category when set, else
its ``facility_type``; ``cooling`` is the facility's; ``heat_supply_ratio``, ``load_rate``
and ``heat_supplied_gj`` come from the facility's line of the **latest** of ``years`` that
has one (the plan year for a dry run or true-up; last year's when the pre-allocation stands
last year's output in for this year's), all three from the same line.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import Executable, Select, func, select
from sqlalchemy.orm import Session

from carbon_market.emitters.enums import EnterpriseStatus
from carbon_market.emitters.models import Enterprise, Facility
from carbon_market.mrv.reports.enums import ReportStatus
from carbon_market.mrv.reports.models import EmissionReport, ReportFacility

#: The power corrections' yearly inputs, as the file and the benchmark method name them.
YEARLY_INPUTS = ["heat_supply_ratio", "load_rate", "heat_supplied_gj"]


def _rows(session: Session, statement: Executable) -> list[tuple[Any, ...]]:
    """The statement's rows as plain tuples, through Core.

    Read through the ORM session, and handed to pandas as ``Row`` objects, a registry of
    60,000 facilities took 6 s of its 8: the ORM's row processing, and pandas probing every
    ``Row`` for ``_fields`` (each probe a failed key look-up)."""
    return [tuple(row) for row in session.connection().execute(statement).all()]


def _facilities(session: Session) -> pd.DataFrame:
    rows = _rows(
        session,
        select(
            Facility.id,
            Enterprise.id,
            Enterprise.credit_code,
            Enterprise.sector,
            func.coalesce(Facility.category, Facility.facility_type),
            Facility.cooling,
        )
        .join(Enterprise, Enterprise.id == Facility.enterprise_id)
        .where(Enterprise.status != EnterpriseStatus.EXITED)
        .order_by(Facility.id),
    )
    columns = ["facility_id", "enterprise_id", "enterprise", "sector", "category", "cooling"]
    frame = pd.DataFrame(rows, columns=columns)
    frame["cooling"] = [None if c is None else str(c) for c in frame["cooling"]]
    return frame.astype({"facility_id": np.int64, "enterprise_id": np.int64})


def _reports(session: Session, years: Sequence[int]) -> pd.DataFrame:
    """The latest approved version per enterprise and year, with whether it has lines."""
    rows = _rows(
        session,
        select(
            EmissionReport.id,
            EmissionReport.enterprise_id,
            EmissionReport.year,
            EmissionReport.version,
            EmissionReport.verified_co2_t,
            EmissionReport.output_quantity,
        ).where(
            EmissionReport.status == ReportStatus.APPROVED, EmissionReport.year.in_(list(years))
        ),
    )
    columns = ["report_id", "enterprise_id", "year", "version", "emissions", "output"]
    reports = pd.DataFrame(rows, columns=columns)
    latest = reports.sort_values("version").drop_duplicates(["enterprise_id", "year"], keep="last")
    split = session.scalars(_approved_lines(years, ReportFacility.report_id).distinct()).all()
    return latest.assign(split=latest["report_id"].isin(set(split)))


def _approved_lines(years: Sequence[int], *columns: Any) -> Select[Any]:
    """``columns`` of the facility lines of every approved report version of ``years``.

    Joined in SQL rather than filtered by a list of report ids: a registry of tens of
    thousands of enterprises would bind more parameters than PostgreSQL (65,535) or a default
    SQLite build (32,766) accept. Older versions' lines come too; the callers keep the
    latest's."""
    return (
        select(*columns)
        .join(EmissionReport, EmissionReport.id == ReportFacility.report_id)
        .where(EmissionReport.status == ReportStatus.APPROVED, EmissionReport.year.in_(list(years)))
    )


def _lines(session: Session, years: Sequence[int], report_ids: pd.Series[Any]) -> pd.DataFrame:
    """The lines of the reports ``report_ids`` (the latest approved versions)."""
    rows = _rows(
        session,
        _approved_lines(
            years,
            ReportFacility.report_id,
            ReportFacility.facility_id,
            ReportFacility.verified_co2_t,
            ReportFacility.output_quantity,
            ReportFacility.heat_supply_ratio,
            ReportFacility.load_rate,
            ReportFacility.heat_supplied_gj,
        ),
    )
    columns = ["report_id", "facility_id", "line_emissions", "line_output", *YEARLY_INPUTS]
    lines = pd.DataFrame(rows, columns=columns)
    lines = lines[lines["report_id"].isin(set(report_ids.tolist()))]
    return lines.astype({"report_id": np.int64, "facility_id": np.int64}).assign(has_line=True)


def _objects(series: pd.Series[Any]) -> pd.Series[Any]:
    """Decimals or None (never NaN), as the methods take them."""
    return series.astype(object).where(series.notna(), None)


def _figures(frame: pd.DataFrame, reports: pd.DataFrame, lines: pd.DataFrame) -> pd.DataFrame:
    """One row per facility and year with a report: its emissions, output, inputs, and
    whether the year is unsplit for an enterprise of several facilities."""
    long = frame[["facility_id", "enterprise_id", "siblings"]].merge(reports, on="enterprise_id")
    long = long.merge(lines, how="left", on=["report_id", "facility_id"])
    split = long["split"].to_numpy(dtype=bool)
    single = (long["siblings"] == 1).to_numpy(dtype=bool)
    for kind in ("emissions", "output"):
        whole = long[kind].astype(object).where(single, None)
        long[kind] = long[f"line_{kind}"].astype(object).where(split, whole)
    long["unsplit"] = ~split & ~single
    long["has_line"] = long["has_line"].notna()  # the merge left NaN where no line matched
    return long


def _notes(frame: pd.DataFrame, long: pd.DataFrame) -> pd.Series[Any]:
    unsplit = long[long["unsplit"]].sort_values("year")
    years = unsplit.groupby("facility_id")["year"].agg(lambda ys: ", ".join(str(y) for y in ys))
    siblings = frame["siblings"].astype(str)
    listed = frame["facility_id"].isin(years.index)
    text = (
        "the enterprise has "
        + siblings
        + " facilities and its approved report for "
        + frame["facility_id"].map(years).astype(object).where(listed, "").astype(str)
        + " has no per-facility figures (facility lines): file them as a corrected version"
    )
    return text.where(listed, "")


def registry_facilities(session: Session, *, years: Sequence[int]) -> pd.DataFrame:
    """The facilities frame for a plan over ``years`` (its base years and its own year)."""
    frame = _facilities(session)
    frame["siblings"] = frame.groupby("enterprise_id")["facility_id"].transform("size")
    reports = _reports(session, years)
    lines = _lines(session, years, reports["report_id"])
    long = _figures(frame, reports, lines)
    wide = long.pivot(index="facility_id", columns="year", values=["emissions", "output"])
    for year in years:
        for kind in ("emissions", "output"):
            column = (kind, year)
            values = wide[column] if column in wide.columns else pd.Series(dtype=object)
            frame[f"{kind}_{year}"] = _objects(frame["facility_id"].map(values))
    latest = long[long["has_line"]].sort_values("year").drop_duplicates("facility_id", keep="last")
    for name in YEARLY_INPUTS:
        frame[name] = _objects(frame["facility_id"].map(latest.set_index("facility_id")[name]))
    frame["note"] = _notes(frame, long)
    return frame.drop(columns=["siblings"])
