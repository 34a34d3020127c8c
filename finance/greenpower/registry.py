"""Plants, green electricity trades and policy targets with their progress.

Regulators keep these records (from the trading centre's and the grid's data); enterprise
users see their own trades; every authenticated role reads plants and targets.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from carbon_market.emitters.models import Enterprise
from carbon_market.kernel.access.policy import authorize, tenant_scope
from carbon_market.kernel.access.roles import Actor
from carbon_market.kernel.audit.service import record, snapshot
from carbon_market.kernel.db import clock_of, transactional
from carbon_market.kernel.errors import Conflict, FieldError, NotFound, ValidationFailed
from carbon_market.kernel.pagination import Page, PageRequest, paginate
from finance.greenpower.models import GreenPlant, GreenTarget, GreenTrade, PlantKind, TargetMetric

#: The province code whose plants are "in the city": green power from elsewhere is imported.
HOME_PROVINCE = "beijing"
TRADE_FIELDS = [
    "reference",
    "plant_id",
    "buyer_id",
    "period_start",
    "period_end",
    "mwh",
    "price_cny_per_mwh",
    "green_premium_cny_per_mwh",
]


def enterprise_by_code(session: Session, credit_code: str, pointer: str) -> Enterprise:
    """The enterprise with ``credit_code``, or ValidationFailed at ``pointer``."""
    found = session.scalar(select(Enterprise).where(Enterprise.credit_code == credit_code))
    if found is None:
        raise ValidationFailed(
            f"no enterprise with credit code {credit_code}",
            errors=[FieldError(pointer, "no enterprise with this credit code")],
        )
    return found


def plant_by_id(session: Session, plant_id: int, pointer: str = "#/plant") -> GreenPlant:
    plant = session.get(GreenPlant, plant_id)
    if plant is None:
        raise ValidationFailed(
            f"green plant {plant_id} does not exist",
            errors=[FieldError(pointer, "no such plant")],
        )
    return plant


# --- plants -------------------------------------------------------------------------------


@transactional
def create_plant(
    session: Session,
    actor: Actor,
    *,
    name: str,
    kind: PlantKind,
    capacity_mw: Decimal,
    province: str,
    grid_region: str,
    location: str | None = None,
    commissioned_on: date | None = None,
) -> GreenPlant:
    """Register a plant. Regulators only; names are unique (Conflict)."""
    authorize(actor, "greenpower.manage")
    values: dict[str, Any] = {
        "name": name,
        "kind": kind,
        "capacity_mw": capacity_mw,
        "province": province,
        "grid_region": grid_region,
        "location": location,
        "commissioned_on": commissioned_on,
    }
    if session.scalar(select(GreenPlant.id).where(GreenPlant.name == values["name"])):
        raise Conflict(
            f"a plant named {values['name']!r} exists",
            errors=[FieldError("#/name", "already taken")],
        )
    plant = GreenPlant(**values, created_at=clock_of(session).now(), created_by=actor.name)
    session.add(plant)
    session.flush()  # the audit event names the plant by its id
    record(
        session,
        actor,
        action="green_plant:create",
        entity_type="green_plant",
        entity_id=plant.id,
        after=snapshot(plant, ["name", "kind", "capacity_mw", "province"]),
    )
    return plant


def list_plants(
    session: Session,
    actor: Actor,
    *,
    page: PageRequest,
    kind: PlantKind | None = None,
    province: str | None = None,
) -> Page[GreenPlant]:
    authorize(actor, "greenpower.read")
    query = select(GreenPlant)
    if kind:
        query = query.where(GreenPlant.kind == kind)
    if province:
        query = query.where(GreenPlant.province == province)
    return paginate(session, query.order_by(GreenPlant.id), page)


def get_plant(session: Session, actor: Actor, plant_id: int) -> GreenPlant:
    authorize(actor, "greenpower.read")
    plant = session.get(GreenPlant, plant_id)
    if plant is None:
        raise NotFound(f"green plant {plant_id} does not exist")
    return plant


# --- trades -------------------------------------------------------------------------------


def _trade_conflicts(existing: GreenTrade, values: dict[str, Any]) -> list[str]:
    return [name for name in TRADE_FIELDS if getattr(existing, name) != values[name]]


@transactional
def record_trade(
    session: Session,
    actor: Actor,
    *,
    reference: str,
    plant: int,
    buyer: str,
    period_start: date,
    period_end: date,
    mwh: Decimal,
    price_cny_per_mwh: Decimal,
    green_premium_cny_per_mwh: Decimal,
) -> tuple[GreenTrade, bool]:
    """Record a trade; returns it and whether it is new.

    The same ``reference`` with the same content returns the recorded trade (a trade
    reported twice is recorded once); with a different content it is a Conflict naming the
    fields that differ. Regulators only.
    """
    authorize(actor, "greenpower.manage")
    errors = []
    if period_end < period_start:
        errors.append(FieldError("#/period_end", "before period_start"))
    if errors:
        raise ValidationFailed("the trade's period is reversed", errors=errors)
    found_plant = plant_by_id(session, plant)
    buyer_row = enterprise_by_code(session, buyer, "#/buyer")
    values = {
        "reference": reference,
        "plant_id": found_plant.id,
        "buyer_id": buyer_row.id,
        "period_start": period_start,
        "period_end": period_end,
        "mwh": mwh,
        "price_cny_per_mwh": price_cny_per_mwh,
        "green_premium_cny_per_mwh": green_premium_cny_per_mwh,
    }
    existing = session.scalar(select(GreenTrade).where(GreenTrade.reference == reference))
    if existing is not None:
        differing = _trade_conflicts(existing, values)
        if differing:
            raise Conflict(
                f"trade {reference} was recorded with other values",
                errors=[FieldError(f"#/{n}", "differs from the recorded trade") for n in differing],
            )
        return existing, False
    trade = GreenTrade(**values, created_at=clock_of(session).now(), created_by=actor.name)
    session.add(trade)
    try:
        session.flush()  # the audit event names the trade; UNIQUE(reference) under a race
    except IntegrityError as exc:
        raise Conflict(f"trade {reference} was recorded concurrently; retry") from exc
    record(
        session,
        actor,
        action="green_trade:record",
        entity_type="green_trade",
        entity_id=trade.id,
        after=snapshot(trade, TRADE_FIELDS),
    )
    return trade, True


@dataclass(frozen=True)
class TradeFilter:
    buyer: str | None = None
    plant: int | None = None
    year: int | None = None


def list_trades(
    session: Session, actor: Actor, *, filters: TradeFilter, page: PageRequest
) -> Page[GreenTrade]:
    """Trades the actor may see (an enterprise user: its own purchases)."""
    authorize(actor, "greenpower.read")
    query = select(GreenTrade)
    scope = tenant_scope(actor)
    if scope is not None:
        query = query.where(GreenTrade.buyer_id == scope)
    if filters.buyer:
        query = query.join(Enterprise, Enterprise.id == GreenTrade.buyer_id).where(
            Enterprise.credit_code == filters.buyer
        )
    if filters.plant is not None:
        query = query.where(GreenTrade.plant_id == filters.plant)
    if filters.year is not None:
        query = query.where(
            GreenTrade.period_end >= date(filters.year, 1, 1),
            GreenTrade.period_end <= date(filters.year, 12, 31),
        )
    return paginate(session, query.order_by(GreenTrade.id), page)


def get_trade(session: Session, actor: Actor, trade_id: int) -> GreenTrade:
    authorize(actor, "greenpower.read")
    trade = session.get(GreenTrade, trade_id)
    if trade is None:
        raise NotFound(f"green trade {trade_id} does not exist")
    authorize(actor, "greenpower.read", enterprise_id=trade.buyer_id)
    return trade


# --- targets ------------------------------------------------------------------------------


@transactional
def create_target(
    session: Session,
    actor: Actor,
    *,
    name: str,
    metric: TargetMetric,
    year: int,
    target_value: Decimal,
    plant_kind: PlantKind | None = None,
) -> GreenTarget:
    """Set a policy target. Regulators only. ``plant_kind`` narrows capacity targets."""
    authorize(actor, "greenpower.manage")
    if plant_kind is not None and metric is not TargetMetric.INSTALLED_CAPACITY_MW:
        raise ValidationFailed(
            "plant_kind narrows capacity targets only",
            errors=[FieldError("#/plant_kind", f"not applicable to {metric}")],
        )
    if session.scalar(select(GreenTarget.id).where(GreenTarget.name == name)):
        raise Conflict(f"a target named {name!r} exists", errors=[FieldError("#/name", "taken")])
    target = GreenTarget(
        name=name,
        metric=metric,
        year=year,
        plant_kind=plant_kind,
        target_value=target_value,
        created_at=clock_of(session).now(),
        created_by=actor.name,
    )
    session.add(target)
    session.flush()  # the audit event names the target by its id
    record(
        session,
        actor,
        action="green_target:create",
        entity_type="green_target",
        entity_id=target.id,
        after=snapshot(target, ["name", "metric", "year", "target_value"]),
    )
    return target


def achieved(session: Session, target: GreenTarget) -> Decimal:
    """What the records show towards ``target`` (MWh or MW, as its metric says)."""
    year_start, year_end = date(target.year, 1, 1), date(target.year, 12, 31)
    if target.metric is TargetMetric.INSTALLED_CAPACITY_MW:
        query = select(func.coalesce(func.sum(GreenPlant.capacity_mw), 0)).where(
            GreenPlant.province == HOME_PROVINCE,
            GreenPlant.commissioned_on <= year_end,
        )
        if target.plant_kind is not None:
            query = query.where(GreenPlant.kind == target.plant_kind)
        total = session.scalar(query)
    else:
        query = (
            select(func.coalesce(func.sum(GreenTrade.mwh), 0))
            .join(GreenPlant, GreenPlant.id == GreenTrade.plant_id)
            .where(GreenTrade.period_end >= year_start, GreenTrade.period_end <= year_end)
        )
        if target.metric is TargetMetric.GREEN_POWER_IMPORTED_MWH:
            query = query.where(GreenPlant.province != HOME_PROVINCE)
        total = session.scalar(query)
    return Decimal(total or 0)


def list_targets(
    session: Session, actor: Actor, *, page: PageRequest, year: int | None = None
) -> Page[GreenTarget]:
    authorize(actor, "greenpower.read")
    query = select(GreenTarget)
    if year is not None:
        query = query.where(GreenTarget.year == year)
    return paginate(session, query.order_by(GreenTarget.year, GreenTarget.id), page)
