"""The engine's input frame read from the registry (verified emissions and outputs).

One row per facility of an enterprise that has not exited. A year's figures are those of
the enterprise's **latest approved** report version for that year (a correction is approved
as the next version): ``verified_co2_t`` as emissions, the reported output quantity as
output. Reports are filed per enterprise, so the figures go to the enterprise's facility
when it has exactly one; an enterprise with several facilities gets a note and no
allocation until per-facility figures exist (use a facilities file for those meanwhile).
The power corrections' inputs (cooling, heat-supply ratio, load rate, heat supplied) are
not in the registry yet, so those factors are 1 (see ``allocation.methods.benchmark``).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from sqlalchemy import select
from sqlalchemy.orm import Session

from carbon_market.emitters.models import Enterprise, EnterpriseStatus, Facility
from carbon_market.mrv.reports_models import EmissionReport, ReportStatus


def _facilities(session: Session) -> pd.DataFrame:
    rows = session.execute(
        select(
            Facility.id,
            Enterprise.id,
            Enterprise.credit_code,
            Enterprise.sector,
            Facility.facility_type,
        )
        .join(Enterprise, Enterprise.id == Facility.enterprise_id)
        .where(Enterprise.status != EnterpriseStatus.EXITED)
        .order_by(Facility.id)
    ).all()
    columns = ["facility_id", "enterprise_id", "enterprise", "sector", "category"]
    frame = pd.DataFrame(rows, columns=columns)
    return frame.astype({"facility_id": np.int64, "enterprise_id": np.int64})


def _figures(session: Session, years: Sequence[int]) -> pd.DataFrame:
    """Per enterprise, ``emissions_<y>`` and ``output_<y>`` of the latest approved versions."""
    rows = session.execute(
        select(
            EmissionReport.enterprise_id,
            EmissionReport.year,
            EmissionReport.version,
            EmissionReport.verified_co2_t,
            EmissionReport.output_quantity,
        ).where(
            EmissionReport.status == ReportStatus.APPROVED, EmissionReport.year.in_(list(years))
        )
    ).all()
    reports = pd.DataFrame(
        rows, columns=["enterprise_id", "year", "version", "emissions", "output"]
    )
    latest = reports.sort_values("version").drop_duplicates(["enterprise_id", "year"], keep="last")
    wide = latest.pivot(index="enterprise_id", columns="year", values=["emissions", "output"])
    wide.columns = [f"{pair[0]}_{pair[1]}" for pair in wide.columns.to_flat_index()]
    return wide.astype(object).where(wide.notna(), None)


def registry_facilities(session: Session, *, years: Sequence[int]) -> pd.DataFrame:
    """The facilities frame for a plan over ``years`` (its base years and its own year)."""
    frame = _facilities(session)
    figures = _figures(session, years)
    frame = frame.merge(figures, how="left", left_on="enterprise_id", right_index=True)
    for year in years:
        for kind in ("emissions", "output"):
            name = f"{kind}_{year}"
            if name not in frame.columns:
                frame[name] = None
            frame[name] = frame[name].astype(object).where(frame[name].notna(), None)
    siblings = frame.groupby("enterprise_id")["facility_id"].transform("size")
    shared = (siblings > 1).to_numpy()
    frame["note"] = np.where(
        shared,
        "the enterprise has "
        + siblings.astype(str)
        + " facilities and its reports are per enterprise: allocate it from a facilities file",
        "",
    )
    return frame
