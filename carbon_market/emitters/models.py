"""Enterprises, facilities, their status history and the sector and district catalogues."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import CheckConstraint, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from carbon_market.emitters.enums import CapacityUnit, Cooling, EnterpriseStatus
from carbon_market.kernel.db import Base, enum_column_type
from carbon_market.kernel.types import BigId, ScaledDecimal


class Sector(Base):
    """A sector of the catalogue regulators configure (power, cement, services, ...)."""

    __tablename__ = "sector"

    code: Mapped[str] = mapped_column(String(32), primary_key=True)
    label_zh: Mapped[str] = mapped_column(String(64))
    label_en: Mapped[str] = mapped_column(String(64))
    is_active: Mapped[bool] = mapped_column(default=True)


class District(Base):
    """A Beijing district (or the Economic-Technological Development Area)."""

    __tablename__ = "district"

    code: Mapped[str] = mapped_column(String(32), primary_key=True)
    label_zh: Mapped[str] = mapped_column(String(64))
    label_en: Mapped[str] = mapped_column(String(64))


class Enterprise(Base):
    """A covered entity (重点碳排放单位)."""

    __tablename__ = "enterprise"
    __table_args__ = (CheckConstraint("length(credit_code) = 18", name="credit_code_length"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    credit_code: Mapped[str] = mapped_column(String(18), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    name_en: Mapped[str | None] = mapped_column(String(200))
    sector: Mapped[str] = mapped_column(ForeignKey("sector.code"), index=True)
    district: Mapped[str] = mapped_column(ForeignKey("district.code"), index=True)
    status: Mapped[EnterpriseStatus] = mapped_column(enum_column_type(EnterpriseStatus))
    status_effective_from: Mapped[date]
    #: [{"name", "title", "phone", "email"}]: validated by the schema, at most 10.
    contacts: Mapped[list[Any]]
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]

    facilities: Mapped[list[Facility]] = relationship(
        back_populates="enterprise", order_by="Facility.id", lazy="raise"
    )
    # ``compliance_account``, the registry account the ledger opened for the enterprise, is a
    # backref the ledger declares on its Account (carbon_market/ledger/models.py): the ledger
    # sits above the registry, which names the account in its output without importing it.


class EnterpriseStatusChange(Base):
    """One status change with the date it takes effect: the enterprise's status history."""

    __tablename__ = "enterprise_status_change"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    enterprise_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("enterprise.id", ondelete="RESTRICT"), index=True
    )
    from_status: Mapped[EnterpriseStatus | None] = mapped_column(
        enum_column_type(EnterpriseStatus, "from_status")
    )
    to_status: Mapped[EnterpriseStatus] = mapped_column(
        enum_column_type(EnterpriseStatus, "to_status")
    )
    effective_from: Mapped[date]
    reason: Mapped[str] = mapped_column(String(500), default="")
    changed_at: Mapped[datetime]
    changed_by: Mapped[str] = mapped_column(String(64))


class Facility(Base):
    """A facility (unit, boiler, kiln, building) of an enterprise.

    ``category`` and ``cooling`` are the registry's power-correction inputs that change
    rarely (the benchmark category of the rulebook and the cooling mode); the yearly ones
    (heat-supply ratio, load rate, heat supplied) are activity data on the reports.
    """

    __tablename__ = "facility"
    __table_args__ = (
        UniqueConstraint("enterprise_id", "name"),
        CheckConstraint("capacity >= 0", name="capacity_non_negative"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    enterprise_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("enterprise.id", ondelete="RESTRICT"), index=True
    )
    name: Mapped[str] = mapped_column(String(200))
    facility_type: Mapped[str] = mapped_column(String(40))
    #: Capacity in ``capacity_unit``, exact to 0.001 (ScaledDecimal scale 3).
    capacity: Mapped[Decimal | None] = mapped_column(ScaledDecimal(3))
    capacity_unit: Mapped[CapacityUnit | None] = mapped_column(enum_column_type(CapacityUnit))
    commissioned_on: Mapped[date | None]
    #: The benchmark category (a category of the rulebook's ``fuel_of_category``, checked
    #: by the schema: the rulebook is data, so no CHECK); None: allocation uses the type.
    category: Mapped[str | None] = mapped_column(String(40))
    #: A VARCHAR with a CHECK (``enum_column_type``): air or water.
    cooling: Mapped[Cooling | None] = mapped_column(enum_column_type(Cooling))
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]

    enterprise: Mapped[Enterprise] = relationship(back_populates="facilities", lazy="raise")
