"""Annual emission reports and their source streams (issue 5, item 3).

A report is one ``(enterprise, year, version)``. Its status runs ``draft`` → ``submitted`` →
``verified`` → ``approved``, or ``returned`` to the enterprise (editable again). An approved
version is immutable: a correction is the next version of the same year, and every version
stays. The computed figures are stored beside the streams they came from, so a report reads
the same whatever later happens to the factor library (the set it used is frozen on submit).
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import BigInteger, CheckConstraint, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from carbon_market.emitters.models import Enterprise, Facility
from carbon_market.kernel.db import Base, enum_column_type
from carbon_market.kernel.types import BigId, ScaledDecimal
from carbon_market.mrv.reports.enums import ReportStatus
from carbon_market.mrv.reports.output import Output

#: Decimal places of a stored tonne of CO2 (1 g), as the calculator states it.
CO2_SCALE = 6
#: Decimal places of stored activity data (``ScaledDecimal(6)``); more places are refused.
QUANTITY_SCALE = 6


class EmissionReport(Base):
    """One version of an enterprise's annual emission report."""

    __tablename__ = "emission_report"
    __table_args__ = (
        UniqueConstraint("enterprise_id", "year", "version"),
        CheckConstraint("version >= 1", name="version_positive"),
        CheckConstraint("co2_t >= 0", name="co2_non_negative"),
        CheckConstraint("verified_co2_t >= 0", name="verified_co2_non_negative"),
        CheckConstraint("obligation_t >= 0", name="obligation_non_negative"),
        CheckConstraint("output_quantity > 0", name="output_quantity_positive"),
        CheckConstraint("output_value_10k_cny > 0", name="output_value_positive"),
        CheckConstraint(
            "(output_quantity IS NULL) = (output_unit IS NULL)", name="output_unit_with_quantity"
        ),
        CheckConstraint("flag_count >= 0", name="flag_count_non_negative"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    enterprise_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("enterprise.id", ondelete="RESTRICT"), index=True
    )
    year: Mapped[int]
    version: Mapped[int]
    status: Mapped[ReportStatus] = mapped_column(enum_column_type(ReportStatus))
    factor_set_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("emission_factor_set.id", ondelete="RESTRICT"), index=True
    )
    #: The calculator's total, exact to 1 g (``CO2_SCALE``).
    co2_t: Mapped[Decimal] = mapped_column(ScaledDecimal(CO2_SCALE))
    #: The calculator's output document (decimals as strings): the per-stream breakdown.
    breakdown: Mapped[dict[str, Any]]
    #: The year's output, the denominators of the intensity indicators (both optional).
    output_quantity: Mapped[Decimal | None] = mapped_column(ScaledDecimal(QUANTITY_SCALE))
    output_unit: Mapped[str | None] = mapped_column(String(32))
    #: Output value in 10⁴ CNY (万元); six places are exact to the fen.
    output_value_10k_cny: Mapped[Decimal | None] = mapped_column(ScaledDecimal(QUANTITY_SCALE))
    #: Values worth a second look (:mod:`carbon_market.mrv.reports.review`), as of the last edit.
    flags: Mapped[list[Any]]
    #: ``len(flags)``, so that lists can filter on it portably.
    flag_count: Mapped[int] = mapped_column(index=True)
    verified_co2_t: Mapped[Decimal | None] = mapped_column(ScaledDecimal(CO2_SCALE))
    #: The verified figure rounded once, half up, to whole tonnes; set on approval.
    obligation_t: Mapped[int | None] = mapped_column(BigInteger)
    opinion: Mapped[str | None] = mapped_column(String(2000))
    reason: Mapped[str | None] = mapped_column(String(2000))
    verifier_id: Mapped[int | None] = mapped_column(
        BigId, ForeignKey("user_account.id", ondelete="RESTRICT"), index=True
    )
    #: The regulator's reasons of the last return (empty if never returned).
    return_reasons: Mapped[list[Any]]
    created_at: Mapped[datetime]
    created_by: Mapped[str] = mapped_column(String(64))
    updated_at: Mapped[datetime]
    submitted_at: Mapped[datetime | None]
    verified_at: Mapped[datetime | None]
    approved_at: Mapped[datetime | None]

    #: For showing whose report it is (the web UI's lists); loaded with the report.
    enterprise: Mapped[Enterprise] = relationship(viewonly=True, lazy="selectin")

    def output(self) -> Output:
        """The year's output as the intensity indicators take it."""
        return Output(self.output_quantity, self.output_unit, self.output_value_10k_cny)

    streams: Mapped[list[ReportStream]] = relationship(
        back_populates="report",
        order_by="ReportStream.position",
        cascade="all, delete-orphan",
        lazy="raise",
    )
    #: The per-facility split (empty for a report filed for the enterprise as a whole).
    facilities: Mapped[list[ReportFacility]] = relationship(
        back_populates="report",
        order_by="ReportFacility.facility_id",
        cascade="all, delete-orphan",
        lazy="raise",
    )


class ReportStream(Base):
    """One source stream as filed: the calculator's input plus facility, month and evidence."""

    __tablename__ = "emission_report_stream"
    __table_args__ = (
        UniqueConstraint("report_id", "position"),
        CheckConstraint("quantity >= 0", name="quantity_non_negative"),
        CheckConstraint("month BETWEEN 1 AND 12", name="month_in_year"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    report_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("emission_report.id", ondelete="CASCADE"), index=True
    )
    #: Input order, from 0: the breakdown lists the streams in this order.
    position: Mapped[int]
    kind: Mapped[str] = mapped_column(String(16))
    #: The fuel or process activity code (None for electricity and heat).
    code: Mapped[str | None] = mapped_column(String(40))
    #: Exact to 10**-6 (``QUANTITY_SCALE``) in ``unit``, as filed.
    quantity: Mapped[Decimal] = mapped_column(ScaledDecimal(QUANTITY_SCALE))
    unit: Mapped[str] = mapped_column(String(16))
    facility_id: Mapped[int | None] = mapped_column(
        BigId, ForeignKey("facility.id", ondelete="RESTRICT"), index=True
    )
    month: Mapped[int | None]
    evidence: Mapped[str | None] = mapped_column(String(1000))
    #: Overrides as filed, ``{name: decimal string}``.
    factors: Mapped[dict[str, Any]]
    pollutants: Mapped[dict[str, Any]]

    report: Mapped[EmissionReport] = relationship(back_populates="streams", lazy="raise")


#: A fraction of 1 stored at ``QUANTITY_SCALE`` places: 1 is this integer in the column.
_ONE_SCALED = 10**QUANTITY_SCALE


class ReportFacility(Base):
    """One facility's share of a report: its output and the power corrections' yearly
    inputs as filed, and its verified emissions as the verifier split the report's figure.

    Reports are filed per enterprise; an enterprise with several facilities files one line
    per facility so that allocation can give each facility its own figures. The CHECKs
    compare scaled integers (``ScaledDecimal``): ``<= 1000000`` is ``<= 1``.
    """

    __tablename__ = "emission_report_facility"
    __table_args__ = (
        UniqueConstraint("report_id", "facility_id"),
        CheckConstraint("output_quantity >= 0", name="output_non_negative"),
        CheckConstraint(
            f"heat_supply_ratio >= 0 AND heat_supply_ratio <= {_ONE_SCALED}",
            name="heat_supply_ratio_fraction",
        ),
        CheckConstraint(
            f"load_rate >= 0 AND load_rate <= {_ONE_SCALED}", name="load_rate_fraction"
        ),
        CheckConstraint("heat_supplied_gj >= 0", name="heat_supplied_non_negative"),
        CheckConstraint("verified_co2_t >= 0", name="verified_co2_non_negative"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    report_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("emission_report.id", ondelete="CASCADE"), index=True
    )
    facility_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("facility.id", ondelete="RESTRICT"), index=True
    )
    #: The facility's output of the year (MWh for a power unit), exact to 10**-6.
    output_quantity: Mapped[Decimal | None] = mapped_column(ScaledDecimal(QUANTITY_SCALE))
    #: Heat-supply ratio r, a fraction of 1 (0 = pure condensing).
    heat_supply_ratio: Mapped[Decimal | None] = mapped_column(ScaledDecimal(QUANTITY_SCALE))
    #: Load rate F, a fraction of 1 (0.82 = 82 %), as the benchmark method reads it.
    load_rate: Mapped[Decimal | None] = mapped_column(ScaledDecimal(QUANTITY_SCALE))
    heat_supplied_gj: Mapped[Decimal | None] = mapped_column(ScaledDecimal(QUANTITY_SCALE))
    #: The verifier's figure for this facility (set with the report's; they add up to it).
    verified_co2_t: Mapped[Decimal | None] = mapped_column(ScaledDecimal(CO2_SCALE))

    report: Mapped[EmissionReport] = relationship(back_populates="facilities", lazy="raise")
    #: For showing the facility's name; loaded with the line.
    facility: Mapped[Facility] = relationship(viewonly=True, lazy="selectin")
