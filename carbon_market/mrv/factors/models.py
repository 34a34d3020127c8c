"""Emission factor sets stored in the database: the versioned factor library (issue 5, item 1).

A set is identified by ``(name, version)``. Sets are never edited: a change is a new version
of the same name, so a report that used version 1 can always be recomputed with exactly the
factors it used. ``is_frozen`` marks a set a submitted report uses; from then on even a
service that might one day change a set in place must refuse (see ``factor_library``).

Each factor is one row, as in the packaged CSV (:mod:`carbon_market.mrv.calculator.factor_sets`),
so that
every value carries its own unit and cited source.
"""

from __future__ import annotations

import enum
from datetime import datetime
from decimal import Decimal

from sqlalchemy import CheckConstraint, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from carbon_market.kernel.db import Base, enum_column_type
from carbon_market.kernel.types import BigId, ScaledDecimal

#: Decimal places a factor value keeps (``ScaledDecimal(6)``): the packaged set needs 5
#: (carbon content 0.01530 tC/GJ); values with more places are refused, never rounded.
FACTOR_SCALE = 6


class FactorSetStatus(enum.StrEnum):
    """A draft is stored but never chosen as a year's default; a published set may be."""

    DRAFT = "draft"
    PUBLISHED = "published"


class FactorCategory(enum.StrEnum):
    FUEL = "fuel"
    ELECTRICITY = "electricity"
    HEAT = "heat"
    PROCESS = "process"
    #: Co-pollutant factors per fuel (kg per the fuel's unit).
    POLLUTANT = "pollutant"


class EmissionFactorSet(Base):
    """One version of a named factor set, with the years it applies to."""

    __tablename__ = "emission_factor_set"
    __table_args__ = (
        UniqueConstraint("name", "version"),
        CheckConstraint("version >= 1", name="version_positive"),
        CheckConstraint("first_year <= last_year", name="years_ordered"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    name: Mapped[str] = mapped_column(String(64), index=True)
    version: Mapped[int]
    jurisdiction: Mapped[str] = mapped_column(String(32))
    first_year: Mapped[int]
    last_year: Mapped[int]
    status: Mapped[FactorSetStatus] = mapped_column(enum_column_type(FactorSetStatus))
    is_frozen: Mapped[bool] = mapped_column(default=False)
    frozen_at: Mapped[datetime | None]
    created_at: Mapped[datetime]
    created_by: Mapped[str] = mapped_column(String(64))

    factors: Mapped[list[EmissionFactor]] = relationship(
        back_populates="factor_set", order_by="EmissionFactor.id", lazy="raise"
    )


class EmissionFactor(Base):
    """One value of a set: ``(category, code, parameter)`` with its unit and source."""

    __tablename__ = "emission_factor"
    __table_args__ = (
        UniqueConstraint("set_id", "category", "code", "parameter"),
        CheckConstraint("value >= 0", name="value_non_negative"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    set_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("emission_factor_set.id", ondelete="RESTRICT"), index=True
    )
    category: Mapped[FactorCategory] = mapped_column(enum_column_type(FactorCategory))
    code: Mapped[str] = mapped_column(String(40))
    parameter: Mapped[str] = mapped_column(String(32))
    #: Exact to 10**-6 (``FACTOR_SCALE``) in ``unit``.
    value: Mapped[Decimal] = mapped_column(ScaledDecimal(FACTOR_SCALE))
    unit: Mapped[str] = mapped_column(String(32))
    source: Mapped[str] = mapped_column(String(1000))

    factor_set: Mapped[EmissionFactorSet] = relationship(back_populates="factors", lazy="raise")
