"""Every enterprise's monthly CO2 for a year at once: the compliance forecast's input.

The report endpoint gives one report's months; the forecast needs them for every covered
enterprise, so they are read set-based — the latest version of each enterprise's report for
the year in one query, its streams' months in a second — never one query per enterprise.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from carbon_market.mrv.reports.indicators import monthly_co2
from carbon_market.mrv.reports.models import EmissionReport, ReportStream


@dataclass(frozen=True)
class MonthlyFigures:
    report_id: int
    #: CO2 by month for the months that have streams.
    months: dict[int, Decimal]
    #: CO2 of the streams filed for the whole year.
    annual: Decimal


def monthly_by_enterprise(session: Session, year: int) -> dict[int, MonthlyFigures]:
    """Enterprise id → the monthly figures of the latest version of its ``year`` report,
    whatever that version's status (a draft's months are the freshest data there is)."""
    latest = (
        select(EmissionReport.enterprise_id, func.max(EmissionReport.version).label("version"))
        .where(EmissionReport.year == year)
        .group_by(EmissionReport.enterprise_id)
        .subquery()
    )
    reports = session.execute(
        select(EmissionReport.id, EmissionReport.enterprise_id, EmissionReport.breakdown).join(
            latest,
            (EmissionReport.enterprise_id == latest.c.enterprise_id)
            & (EmissionReport.version == latest.c.version)
            & (EmissionReport.year == year),
        )
    ).all()
    months: dict[int, list[int | None]] = defaultdict(list)
    streams = session.execute(
        select(ReportStream.report_id, ReportStream.month)
        .join(EmissionReport, EmissionReport.id == ReportStream.report_id)
        .join(
            latest,
            (EmissionReport.enterprise_id == latest.c.enterprise_id)
            & (EmissionReport.version == latest.c.version)
            & (EmissionReport.year == year),
        )
        .order_by(ReportStream.report_id, ReportStream.position)
    )
    for report_id, month in streams:
        months[report_id].append(month)
    result: dict[int, MonthlyFigures] = {}
    for report_id, enterprise_id, breakdown in reports:
        by_month, annual = monthly_co2(months[report_id], breakdown["streams"])
        result[enterprise_id] = MonthlyFigures(report_id, by_month, annual)
    return result
