"""The sub-sector catalogue, and the catalogue checks of a project's locality and
sub-sector (the locality is a code of the ``district`` catalogue)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from carbon_market.emitters.models import District
from carbon_market.kernel.access.policy import authorize
from carbon_market.kernel.access.roles import Actor
from carbon_market.kernel.audit.service import record, snapshot
from carbon_market.kernel.db import transactional
from carbon_market.kernel.errors import Conflict, FieldError
from finance.projects.models import Subsector


def list_subsectors(session: Session) -> list[Subsector]:
    """The sub-sector catalogue (public: clients need the zh/en labels)."""
    return list(session.scalars(select(Subsector).order_by(Subsector.code)))


@transactional
def add_subsector(
    session: Session, actor: Actor, *, code: str, label_zh: str, label_en: str
) -> Subsector:
    """Add a sub-sector. Regulators and finance officers; an existing code is a Conflict."""
    authorize(actor, "finance.catalogue.manage")
    if session.get(Subsector, code) is not None:
        raise Conflict(
            f"sub-sector {code!r} exists", errors=[FieldError("#/code", "already exists")]
        )
    subsector = Subsector(code=code, label_zh=label_zh, label_en=label_en, is_active=True)
    session.add(subsector)
    record(
        session,
        actor,
        action="finance_subsector:create",
        entity_type="finance_subsector",
        entity_id=code,
        after=snapshot(subsector, ["code", "label_zh", "label_en"]),
    )
    return subsector


def catalogue_errors(
    session: Session, *, locality: str | None, subsector: str | None, prefix: str = "#"
) -> list[FieldError]:
    """Errors for a locality or sub-sector not in its catalogue (None is not checked)."""
    errors = []
    if locality is not None and session.get(District, locality) is None:
        errors.append(
            FieldError(f"{prefix}/locality", f"unknown locality {locality!r}", "catalogue.unknown")
        )
    if subsector is not None:
        found = session.get(Subsector, subsector)
        if found is None or not found.is_active:
            errors.append(
                FieldError(
                    f"{prefix}/subsector", f"unknown sub-sector {subsector!r}", "catalogue.unknown"
                )
            )
    return errors
