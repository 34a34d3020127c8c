"""Emitter registration services: every rule about enterprises and facilities lives here.

Each public write service is one unit of work (``@transactional``): it authorizes, loads,
checks, changes, records an audit event and commits, or changes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from carbon_market.emitters.enums import CapacityUnit, Cooling, EnterpriseStatus
from carbon_market.emitters.events import EnterprisesRegistered
from carbon_market.emitters.models import (
    District,
    Enterprise,
    EnterpriseStatusChange,
    Facility,
    Sector,
)
from carbon_market.kernel.access.policy import authorize, tenant_scope
from carbon_market.kernel.access.roles import Actor
from carbon_market.kernel.audit.service import record, snapshot
from carbon_market.kernel.clock import local_date
from carbon_market.kernel.db import clock_of, transactional
from carbon_market.kernel.errors import (
    Conflict,
    FieldError,
    InvalidStatusTransition,
    NotFound,
    ValidationFailed,
)
from carbon_market.kernel.events import publish
from carbon_market.kernel.pagination import Page, PageRequest, paginate

ENTERPRISE_FIELDS = [
    "credit_code",
    "name",
    "name_en",
    "sector",
    "district",
    "status",
    "status_effective_from",
    "contacts",
]
FACILITY_FIELDS = [
    "name",
    "facility_type",
    "capacity",
    "capacity_unit",
    "commissioned_on",
    "category",
    "cooling",
]

#: Which status may follow which. ``exited`` is final: a returning enterprise registers anew.
STATUS_TRANSITIONS: dict[EnterpriseStatus, frozenset[EnterpriseStatus]] = {
    EnterpriseStatus.REGISTERED: frozenset({EnterpriseStatus.ACTIVE, EnterpriseStatus.EXITED}),
    EnterpriseStatus.ACTIVE: frozenset({EnterpriseStatus.SUSPENDED, EnterpriseStatus.EXITED}),
    EnterpriseStatus.SUSPENDED: frozenset({EnterpriseStatus.ACTIVE, EnterpriseStatus.EXITED}),
    EnterpriseStatus.EXITED: frozenset(),
}


# --- catalogues ---------------------------------------------------------------------------


def list_sectors(session: Session) -> list[Sector]:
    """The sector catalogue (public: clients need the zh/en labels)."""
    return list(session.scalars(select(Sector).order_by(Sector.code)))


def list_districts(session: Session) -> list[District]:
    """The district catalogue (public)."""
    return list(session.scalars(select(District).order_by(District.code)))


@transactional
def add_sector(
    session: Session, actor: Actor, *, code: str, label_zh: str, label_en: str
) -> Sector:
    """Add a sector to the catalogue. Regulators only; an existing code is a Conflict."""
    authorize(actor, "catalogue.manage")
    if session.get(Sector, code) is not None:
        raise Conflict(f"sector {code!r} exists", errors=[FieldError("#/code", "already exists")])
    sector = Sector(code=code, label_zh=label_zh, label_en=label_en, is_active=True)
    session.add(sector)
    record(
        session,
        actor,
        action="sector:create",
        entity_type="sector",
        entity_id=code,
        after=snapshot(sector, ["code", "label_zh", "label_en"]),
    )
    return sector


def catalogue_errors(
    session: Session, *, sector: str | None, district: str | None, prefix: str = "#"
) -> list[FieldError]:
    """Errors for a sector or district that is not in its catalogue (None is not checked)."""
    errors = []
    if sector is not None:
        found = session.get(Sector, sector)
        if found is None or not found.is_active:
            errors.append(
                FieldError(f"{prefix}/sector", f"unknown sector {sector!r}", "catalogue.unknown")
            )
    if district is not None and session.get(District, district) is None:
        errors.append(
            FieldError(f"{prefix}/district", f"unknown district {district!r}", "catalogue.unknown")
        )
    return errors


# --- enterprises --------------------------------------------------------------------------


def enterprise_id_for(session: Session, credit_code: str) -> int | None:
    """The id of the enterprise registered with ``credit_code`` (normalised), if any.

    Reads no further than the registry: callers that show the enterprise authorize first."""
    return session.scalar(select(Enterprise.id).where(Enterprise.credit_code == credit_code))


def _credit_code_taken(session: Session, credit_code: str) -> bool:
    return enterprise_id_for(session, credit_code) is not None


def duplicate_credit_code(credit_code: str, pointer: str = "#/credit_code") -> Conflict:
    return Conflict(
        f"an enterprise with credit code {credit_code} is already registered",
        errors=[FieldError(pointer, "already registered", "credit_code.duplicate")],
    )


@transactional
def register_enterprise(
    session: Session,
    actor: Actor,
    *,
    credit_code: str,
    name: str,
    sector: str,
    district: str,
    name_en: str | None = None,
    contacts: list[dict[str, Any]] | None = None,
    status_effective_from: date | None = None,
) -> Enterprise:
    """Register a covered enterprise and open its compliance account. Regulators only.

    ``credit_code`` must already be normalised (the schema does it). Raises ValidationFailed
    for an unknown sector or district and Conflict for a credit code already registered.
    """
    authorize(actor, "enterprise.register")
    errors = catalogue_errors(session, sector=sector, district=district)
    if errors:
        raise ValidationFailed(f"{len(errors)} field(s) are invalid", errors=errors)
    if _credit_code_taken(session, credit_code):
        raise duplicate_credit_code(credit_code)
    now = clock_of(session).now()
    effective = status_effective_from or local_date(now)
    enterprise = Enterprise(
        credit_code=credit_code,
        name=name,
        name_en=name_en,
        sector=sector,
        district=district,
        status=EnterpriseStatus.REGISTERED,
        status_effective_from=effective,
        contacts=contacts or [],
        created_at=now,
        updated_at=now,
    )
    session.add(enterprise)
    try:
        session.flush()  # the id is needed for the account and the status history
    except IntegrityError as exc:  # a concurrent registration of the same code won the race
        raise duplicate_credit_code(credit_code) from exc
    publish(session, EnterprisesRegistered(actor, (enterprise.id,)))
    session.add(
        EnterpriseStatusChange(
            enterprise_id=enterprise.id,
            from_status=None,
            to_status=EnterpriseStatus.REGISTERED,
            effective_from=effective,
            reason="registered",
            changed_at=now,
            changed_by=actor.name,
        )
    )
    record(
        session,
        actor,
        action="enterprise:register",
        entity_type="enterprise",
        entity_id=enterprise.id,
        after=snapshot(enterprise, ENTERPRISE_FIELDS),
    )
    return enterprise


def _load_enterprise(
    session: Session, enterprise_id: int, *, for_update: bool = False
) -> Enterprise:
    query = select(Enterprise).where(Enterprise.id == enterprise_id)
    if for_update:
        query = query.with_for_update()
    enterprise = session.scalar(query)
    if enterprise is None:
        raise NotFound(f"enterprise {enterprise_id} does not exist")
    return enterprise


def get_enterprise(session: Session, actor: Actor, enterprise_id: int) -> Enterprise:
    """One enterprise. Enterprise users see only their own (others are NotFound)."""
    authorize(actor, "enterprise.read", enterprise_id=enterprise_id)
    return _load_enterprise(session, enterprise_id)


@dataclass(frozen=True)
class EnterpriseFilter:
    sector: str | None = None
    district: str | None = None
    status: EnterpriseStatus | None = None
    q: str | None = None


def list_enterprises(
    session: Session, actor: Actor, *, filters: EnterpriseFilter, page: PageRequest
) -> Page[Enterprise]:
    """Enterprises the actor may see, filtered, by id."""
    authorize(actor, "enterprise.read")
    query = select(Enterprise)
    scope = tenant_scope(actor)
    if scope is not None:
        query = query.where(Enterprise.id == scope)
    if filters.sector:
        query = query.where(Enterprise.sector == filters.sector)
    if filters.district:
        query = query.where(Enterprise.district == filters.district)
    if filters.status:
        query = query.where(Enterprise.status == filters.status)
    if filters.q:
        # autoescape: a '%' or '_' typed into the search box is a character, not a wildcard.
        query = query.where(
            or_(
                Enterprise.name.icontains(filters.q, autoescape=True),
                Enterprise.name_en.icontains(filters.q, autoescape=True),
                Enterprise.credit_code.icontains(filters.q, autoescape=True),
            )
        )
    return paginate(session, query.order_by(Enterprise.id), page)


@transactional
def update_enterprise(
    session: Session, actor: Actor, enterprise_id: int, *, changes: dict[str, Any]
) -> Enterprise:
    """Correct an enterprise's names, sector, district or contacts. Regulators only."""
    authorize(actor, "enterprise.update", enterprise_id=enterprise_id)
    allowed = {"name", "name_en", "sector", "district", "contacts"}
    unknown = set(changes) - allowed
    if unknown:
        raise ValidationFailed(
            "fields cannot be changed",
            errors=[FieldError(f"#/{f}", "cannot be changed") for f in unknown],
        )
    enterprise = _load_enterprise(session, enterprise_id, for_update=True)
    errors = catalogue_errors(
        session, sector=changes.get("sector"), district=changes.get("district")
    )
    if errors:
        raise ValidationFailed(f"{len(errors)} field(s) are invalid", errors=errors)
    return _apply_changes(session, actor, enterprise, changes, action="enterprise:update")


@transactional
def update_contacts(
    session: Session, actor: Actor, enterprise_id: int, *, contacts: list[dict[str, Any]]
) -> Enterprise:
    """Replace the enterprise's contacts. Regulators, and the enterprise's own users."""
    authorize(actor, "enterprise.update_contacts", enterprise_id=enterprise_id)
    enterprise = _load_enterprise(session, enterprise_id, for_update=True)
    return _apply_changes(
        session, actor, enterprise, {"contacts": contacts}, action="enterprise:update_contacts"
    )


def _apply_changes(
    session: Session, actor: Actor, enterprise: Enterprise, changes: dict[str, Any], *, action: str
) -> Enterprise:
    before = snapshot(enterprise, list(changes))
    for field, value in changes.items():
        setattr(enterprise, field, value)
    enterprise.updated_at = clock_of(session).now()
    record(
        session,
        actor,
        action=action,
        entity_type="enterprise",
        entity_id=enterprise.id,
        before=before,
        after=snapshot(enterprise, list(changes)),
    )
    return enterprise


@transactional
def change_status(
    session: Session,
    actor: Actor,
    enterprise_id: int,
    *,
    status: EnterpriseStatus,
    effective_from: date,
    reason: str = "",
) -> Enterprise:
    """Move an enterprise along registered → active → suspended → exited. Regulators only.

    Raises InvalidStatusTransition for a move the lifecycle does not allow (exited is final)
    and ValidationFailed for an effective date before the current status took effect.
    """
    authorize(actor, "enterprise.change_status", enterprise_id=enterprise_id)
    enterprise = _load_enterprise(session, enterprise_id, for_update=True)
    if status not in STATUS_TRANSITIONS[enterprise.status]:
        raise InvalidStatusTransition(
            f"an enterprise that is {enterprise.status} cannot become {status}",
            errors=[FieldError("#/status", f"not allowed from {enterprise.status}")],
        )
    if effective_from < enterprise.status_effective_from:
        raise ValidationFailed(
            "a status change cannot take effect before the current status did",
            errors=[
                FieldError(
                    "#/effective_from", f"must be on or after {enterprise.status_effective_from}"
                )
            ],
        )
    before = snapshot(enterprise, ["status", "status_effective_from"])
    now = clock_of(session).now()
    session.add(
        EnterpriseStatusChange(
            enterprise_id=enterprise.id,
            from_status=enterprise.status,
            to_status=status,
            effective_from=effective_from,
            reason=reason,
            changed_at=now,
            changed_by=actor.name,
        )
    )
    enterprise.status = status
    enterprise.status_effective_from = effective_from
    enterprise.updated_at = now
    record(
        session,
        actor,
        action="enterprise:change_status",
        entity_type="enterprise",
        entity_id=enterprise.id,
        before=before,
        after=snapshot(enterprise, ["status", "status_effective_from"]),
    )
    return enterprise


def list_status_history(
    session: Session, actor: Actor, enterprise_id: int
) -> list[EnterpriseStatusChange]:
    """The enterprise's status changes, oldest first."""
    authorize(actor, "enterprise.read", enterprise_id=enterprise_id)
    _load_enterprise(session, enterprise_id)
    return list(
        session.scalars(
            select(EnterpriseStatusChange)
            .where(EnterpriseStatusChange.enterprise_id == enterprise_id)
            .order_by(EnterpriseStatusChange.id)
        )
    )


# --- facilities ---------------------------------------------------------------------------


def _facility_name_taken(session: Session, enterprise_id: int, name: str) -> bool:
    found = session.scalar(
        select(Facility.id).where(Facility.enterprise_id == enterprise_id, Facility.name == name)
    )
    return found is not None


@transactional
def add_facility(
    session: Session,
    actor: Actor,
    enterprise_id: int,
    *,
    name: str,
    facility_type: str,
    capacity: Decimal | None = None,
    capacity_unit: CapacityUnit | None = None,
    commissioned_on: date | None = None,
    category: str | None = None,
    cooling: Cooling | None = None,
) -> Facility:
    """Add a facility to an enterprise. Regulators only. ``category`` (a benchmark category
    of the power rulebook, checked by the schema) and ``cooling`` are the power corrections'
    registry inputs.

    Raises NotFound for an enterprise that does not exist, ValidationFailed when a capacity
    has no unit, and Conflict for a facility name the enterprise already uses.
    """
    authorize(actor, "facility.create", enterprise_id=enterprise_id)
    _load_enterprise(session, enterprise_id)
    _check_capacity(capacity, capacity_unit)
    if _facility_name_taken(session, enterprise_id, name):
        raise Conflict(
            f"the enterprise already has a facility named {name!r}",
            errors=[FieldError("#/name", "already used by this enterprise")],
        )
    now = clock_of(session).now()
    facility = Facility(
        enterprise_id=enterprise_id,
        name=name,
        facility_type=facility_type,
        capacity=capacity,
        capacity_unit=capacity_unit,
        commissioned_on=commissioned_on,
        category=category,
        cooling=cooling,
        created_at=now,
        updated_at=now,
    )
    session.add(facility)
    session.flush()  # the audit record names the facility by its id
    record(
        session,
        actor,
        action="facility:create",
        entity_type="facility",
        entity_id=facility.id,
        after=snapshot(facility, FACILITY_FIELDS),
    )
    return facility


def _check_capacity(capacity: Decimal | None, unit: CapacityUnit | None) -> None:
    if (capacity is None) != (unit is None):
        raise ValidationFailed(
            "capacity and capacity_unit go together",
            errors=[
                FieldError(
                    "#/capacity_unit" if unit is None else "#/capacity",
                    "capacity and capacity_unit must both be given or both omitted",
                )
            ],
        )


def _load_facility(
    session: Session, actor: Actor, enterprise_id: int, facility_id: int, action: str
) -> Facility:
    authorize(actor, action, enterprise_id=enterprise_id)
    facility = session.get(Facility, facility_id)
    if facility is None or facility.enterprise_id != enterprise_id:
        raise NotFound(f"facility {facility_id} of enterprise {enterprise_id} does not exist")
    return facility


def get_facility(session: Session, actor: Actor, enterprise_id: int, facility_id: int) -> Facility:
    return _load_facility(session, actor, enterprise_id, facility_id, "facility.read")


@transactional
def update_facility(
    session: Session,
    actor: Actor,
    enterprise_id: int,
    facility_id: int,
    *,
    changes: dict[str, Any],
) -> Facility:
    """Correct a facility's details, its benchmark category and cooling mode among them
    (null clears them). Regulators only."""
    facility = _load_facility(session, actor, enterprise_id, facility_id, "facility.update")
    merged = {f: changes.get(f, getattr(facility, f)) for f in ("capacity", "capacity_unit")}
    _check_capacity(merged["capacity"], merged["capacity_unit"])
    new_name = changes.get("name")
    if (
        new_name
        and new_name != facility.name
        and _facility_name_taken(session, enterprise_id, new_name)
    ):
        raise Conflict(
            f"the enterprise already has a facility named {new_name!r}",
            errors=[FieldError("#/name", "already used by this enterprise")],
        )
    before = snapshot(facility, list(changes))
    for field, value in changes.items():
        setattr(facility, field, value)
    facility.updated_at = clock_of(session).now()
    record(
        session,
        actor,
        action="facility:update",
        entity_type="facility",
        entity_id=facility.id,
        before=before,
        after=snapshot(facility, list(changes)),
    )
    return facility


def list_facilities(
    session: Session, actor: Actor, enterprise_id: int, *, page: PageRequest
) -> Page[Facility]:
    """An enterprise's facilities (NotFound for an enterprise the actor may not see)."""
    authorize(actor, "facility.read", enterprise_id=enterprise_id)
    _load_enterprise(session, enterprise_id)
    query = select(Facility).where(Facility.enterprise_id == enterprise_id).order_by(Facility.id)
    return paginate(session, query, page)
