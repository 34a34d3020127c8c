"""Green-power records: plants, trades, certificate blocks, claims and targets.

Certificates are stored as blocks of consecutive serials (one certificate per MWh) with
their holder and status; a transfer or claim of part of a block splits it. On PostgreSQL an
exclusion constraint (migration 0007) makes overlapping blocks impossible whatever the code
does; on SQLite the service checks under the database's single writer lock.
"""

from __future__ import annotations

import enum
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import BigInteger, CheckConstraint, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from carbon_market.kernel.db import Base, enum_column_type
from carbon_market.kernel.types import BigId, Money, ScaledDecimal

#: Places of MWh and MW figures (1 kWh, 1 kW).
ENERGY_SCALE = 3


class PlantKind(enum.StrEnum):
    WIND = "wind"
    SOLAR = "solar"
    HYDRO = "hydro"
    BIOMASS = "biomass"


class GreenPlant(Base):
    """A renewable generating plant whose output is sold as green power."""

    __tablename__ = "green_plant"
    __table_args__ = (CheckConstraint("capacity_mw > 0", name="capacity_positive"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    kind: Mapped[PlantKind] = mapped_column(enum_column_type(PlantKind))
    capacity_mw: Mapped[Decimal] = mapped_column(ScaledDecimal(ENERGY_SCALE))
    #: Province-level code (``beijing``, ``hebei``, ``inner_mongolia``...): green power from
    #: outside ``beijing`` counts as brought into the city.
    province: Mapped[str] = mapped_column(String(32), index=True)
    location: Mapped[str | None] = mapped_column(String(200))
    grid_region: Mapped[str] = mapped_column(String(32))
    commissioned_on: Mapped[date | None]
    created_at: Mapped[datetime]
    created_by: Mapped[str] = mapped_column(String(64))


class GreenTrade(Base):
    """A green electricity trade (绿电交易) as reported by the trading centre."""

    __tablename__ = "green_trade"
    __table_args__ = (
        CheckConstraint("mwh > 0", name="mwh_positive"),
        CheckConstraint("price_cny_per_mwh >= 0", name="price_non_negative"),
        CheckConstraint("green_premium_cny_per_mwh >= 0", name="premium_non_negative"),
        CheckConstraint("period_end >= period_start", name="period_ordered"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    #: The trading centre's reference: a trade reported twice is recorded once.
    reference: Mapped[str] = mapped_column(String(64), unique=True)
    plant_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("green_plant.id", ondelete="RESTRICT"), index=True
    )
    buyer_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("enterprise.id", ondelete="RESTRICT"), index=True
    )
    period_start: Mapped[date]
    period_end: Mapped[date]
    mwh: Mapped[Decimal] = mapped_column(ScaledDecimal(ENERGY_SCALE))
    price_cny_per_mwh: Mapped[Decimal] = mapped_column(Money())
    green_premium_cny_per_mwh: Mapped[Decimal] = mapped_column(Money())
    created_at: Mapped[datetime]
    created_by: Mapped[str] = mapped_column(String(64))


class CertificateStatus(enum.StrEnum):
    ACTIVE = "active"
    CLAIMED = "claimed"


class GreenClaim(Base):
    """Certificates cancelled once, for a named consumer, year and purpose."""

    __tablename__ = "green_claim"
    __table_args__ = (
        CheckConstraint("serial_end >= serial_start", name="serials_ordered"),
        CheckConstraint("mwh = serial_end - serial_start + 1", name="one_mwh_per_serial"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    enterprise_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("enterprise.id", ondelete="RESTRICT"), index=True
    )
    year: Mapped[int] = mapped_column(index=True)
    purpose: Mapped[str] = mapped_column(String(200))
    serial_start: Mapped[int] = mapped_column(BigInteger)
    serial_end: Mapped[int] = mapped_column(BigInteger)
    mwh: Mapped[int] = mapped_column(BigInteger)
    created_at: Mapped[datetime]
    created_by: Mapped[str] = mapped_column(String(64))


class CertificateBlock(Base):
    """Green certificates with consecutive serials, one holder and one status."""

    __tablename__ = "green_certificate"
    __table_args__ = (
        CheckConstraint("serial_start >= 1", name="serial_positive"),
        CheckConstraint("serial_end >= serial_start", name="serials_ordered"),
        CheckConstraint("(status = 'claimed') = (claim_id IS NOT NULL)", name="claimed_by_claim"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    plant_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("green_plant.id", ondelete="RESTRICT"), index=True
    )
    trade_id: Mapped[int | None] = mapped_column(
        BigId, ForeignKey("green_trade.id", ondelete="RESTRICT"), index=True
    )
    generation_year: Mapped[int]
    serial_start: Mapped[int] = mapped_column(BigInteger, index=True)
    serial_end: Mapped[int] = mapped_column(BigInteger)
    #: The enterprise holding the block; None while the plant (the issuer's side) holds it.
    holder_id: Mapped[int | None] = mapped_column(
        BigId, ForeignKey("enterprise.id", ondelete="RESTRICT"), index=True
    )
    status: Mapped[CertificateStatus] = mapped_column(enum_column_type(CertificateStatus))
    claim_id: Mapped[int | None] = mapped_column(
        BigId, ForeignKey("green_claim.id", ondelete="RESTRICT"), index=True
    )
    issued_at: Mapped[datetime]
    updated_at: Mapped[datetime]

    @property
    def mwh(self) -> int:
        return self.serial_end - self.serial_start + 1


class TargetMetric(enum.StrEnum):
    #: MWh of green trades whose plant is outside Beijing, by the year their period ends.
    GREEN_POWER_IMPORTED_MWH = "green_power_imported_mwh"
    #: MWh of all green trades, by the year their period ends.
    GREEN_POWER_TRADED_MWH = "green_power_traded_mwh"
    #: MW of plants in Beijing commissioned by the end of the year (``plant_kind`` narrows).
    INSTALLED_CAPACITY_MW = "installed_capacity_mw"


class GreenTarget(Base):
    """A policy target the regulator tracks, e.g. green power brought into the city."""

    __tablename__ = "green_target"
    __table_args__ = (CheckConstraint("target_value > 0", name="target_positive"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    metric: Mapped[TargetMetric] = mapped_column(enum_column_type(TargetMetric))
    year: Mapped[int]
    plant_kind: Mapped[PlantKind | None] = mapped_column(enum_column_type(PlantKind))
    target_value: Mapped[Decimal] = mapped_column(ScaledDecimal(ENERGY_SCALE))
    created_at: Mapped[datetime]
    created_by: Mapped[str] = mapped_column(String(64))
