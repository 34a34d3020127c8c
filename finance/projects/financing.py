"""Financing records and their disbursements (services).

Rules: a financing belongs to a project that is neither closed nor withdrawn; its
instrument decides which fields it needs
(:func:`finance.projects.rules.lifecycle.financing_errors`);
(project, instrument, institution, start date) is unique. A support-tool loan copies the
configured refinancing share and rate when recorded. Disbursements fall within the
financing's dates and never add up to more than the commitment: the financing row is locked
while one is added, so two concurrent disbursements cannot both squeeze under the limit.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from carbon_market.kernel.access.roles import Actor
from carbon_market.kernel.audit.service import record, snapshot
from carbon_market.kernel.db import clock_of, config_of, transactional
from carbon_market.kernel.errors import (
    Conflict,
    FieldError,
    NotFound,
    RuleViolation,
    ValidationFailed,
)
from finance.projects.enums import Instrument
from finance.projects.models import Disbursement, Financing
from finance.projects.rules.interest import (
    Drawdown,
    refinancing_amount,
    refinancing_interest,
    simple_interest,
)
from finance.projects.rules.lifecycle import financing_errors
from finance.projects.service import load_project, refuse_if_final

FINANCING_FIELDS = [
    "project_id",
    "instrument",
    "institution",
    "committed",
    "rate",
    "start_date",
    "end_date",
    "refinancing_share",
    "refinancing_rate",
    "disclosed_annual_reduction_t",
    "disclosure_method",
    "disclosure_date",
    "disclosure_period_start",
    "disclosure_period_end",
]


@dataclass(frozen=True)
class FinancingView:
    """A financing with the figures computed from its disbursements (see ``interest.py``).

    ``interest`` is None without a rate or an end date; the refinancing figures are None
    for anything but a support-tool loan.
    """

    financing: Financing
    disbursed: Decimal
    undisbursed: Decimal
    interest: Decimal | None
    refinancing_amount: Decimal | None
    refinancing_interest: Decimal | None


def financing_view(financing: Financing, disbursements: list[Disbursement]) -> FinancingView:
    drawdowns = [Drawdown(on=d.disbursed_on, amount=d.amount) for d in disbursements]
    disbursed = sum((d.amount for d in drawdowns), Decimal("0.00"))
    end, rate = financing.end_date, financing.rate
    interest = simple_interest(drawdowns, rate, end) if rate is not None and end else None
    share, refi_rate = financing.refinancing_share, financing.refinancing_rate
    refinanced = refinanced_interest = None
    if share is not None and refi_rate is not None and end is not None:
        refinanced = refinancing_amount(drawdowns, share)
        refinanced_interest = refinancing_interest(drawdowns, share, refi_rate, end)
    return FinancingView(
        financing=financing,
        disbursed=disbursed,
        undisbursed=financing.committed - disbursed,
        interest=interest,
        refinancing_amount=refinanced,
        refinancing_interest=refinanced_interest,
    )


def _disbursements(session: Session, financing_ids: list[int]) -> dict[int, list[Disbursement]]:
    by_financing: dict[int, list[Disbursement]] = {i: [] for i in financing_ids}
    rows = session.scalars(
        select(Disbursement)
        .where(Disbursement.financing_id.in_(financing_ids))
        .order_by(Disbursement.disbursed_on, Disbursement.id)
    )
    for row in rows:
        by_financing[row.financing_id].append(row)
    return by_financing


def duplicate_financing(pointer: str = "#/institution") -> Conflict:
    return Conflict(
        "the project already has this instrument from this institution starting that day",
        errors=[FieldError(pointer, "already recorded", "financing.duplicate")],
    )


def disclosure_columns(disclosure: dict[str, Any] | None) -> dict[str, Any]:
    """The API's ``disclosure`` object as the financing's ``disclos*`` columns."""
    given = disclosure or {}
    return {
        "disclosed_annual_reduction_t": given.get("annual_reduction_t"),
        "disclosure_method": given.get("method"),
        "disclosure_date": given.get("date"),
        "disclosure_period_start": given.get("period_start"),
        "disclosure_period_end": given.get("period_end"),
    }


@transactional
def add_financing(
    session: Session,
    actor: Actor,
    project_id: int,
    *,
    instrument: Instrument,
    institution: str,
    committed: Decimal,
    start_date: date,
    rate: Decimal | None = None,
    end_date: date | None = None,
    disclosure: dict[str, Any] | None = None,
) -> FinancingView:
    """Record a financing of a project. Finance officers only.

    Raises RuleViolation for a closed or withdrawn project, ValidationFailed for fields the
    instrument forbids or needs, and Conflict for a financing already recorded.
    """
    project = load_project(session, actor, project_id, "finance.write", for_update=True)
    refuse_if_final(project, "new financing")
    problems = financing_errors(
        instrument=instrument, rate=rate, end_date=end_date, has_disclosure=disclosure is not None
    )
    if problems:
        raise ValidationFailed(
            f"{len(problems)} field(s) are invalid for a {instrument}",
            errors=[FieldError(f"#/{field}", reason) for field, reason in problems],
        )
    taken = session.scalar(
        select(Financing.id).where(
            Financing.project_id == project.id,
            Financing.instrument == instrument,
            Financing.institution == institution,
            Financing.start_date == start_date,
        )
    )
    if taken is not None:
        raise duplicate_financing()
    config = config_of(session)
    is_tool = instrument is Instrument.CARBON_REDUCTION_SUPPORT_TOOL
    financing = Financing(
        project_id=project.id,
        instrument=instrument,
        institution=institution,
        committed=committed,
        rate=rate,
        start_date=start_date,
        end_date=end_date,
        refinancing_share=config.finance_support_tool_share if is_tool else None,
        refinancing_rate=config.finance_support_tool_rate if is_tool else None,
        created_at=clock_of(session).now(),
        created_by=actor.name,
        **disclosure_columns(disclosure),
    )
    session.add(financing)
    try:
        session.flush()  # the audit record names the financing by its id
    except IntegrityError as exc:  # a concurrent request recorded the same financing
        raise duplicate_financing() from exc
    record(
        session,
        actor,
        action="financing:create",
        entity_type="financing",
        entity_id=financing.id,
        after=snapshot(financing, FINANCING_FIELDS),
    )
    return financing_view(financing, [])


def _load_financing(
    session: Session, project_id: int, financing_id: int, *, for_update: bool = False
) -> Financing:
    query = select(Financing).where(
        Financing.id == financing_id, Financing.project_id == project_id
    )
    if for_update:
        query = query.with_for_update()
    financing = session.scalar(query)
    if financing is None:
        raise NotFound(f"financing {financing_id} of project {project_id} does not exist")
    return financing


def list_financings(session: Session, actor: Actor, project_id: int) -> list[FinancingView]:
    """The project's financings with their figures, by id."""
    load_project(session, actor, project_id, "finance.read")
    financings = list(
        session.scalars(
            select(Financing).where(Financing.project_id == project_id).order_by(Financing.id)
        )
    )
    paid = _disbursements(session, [f.id for f in financings])
    return [financing_view(f, paid[f.id]) for f in financings]


def get_financing(
    session: Session, actor: Actor, project_id: int, financing_id: int
) -> FinancingView:
    """One financing with its figures."""
    load_project(session, actor, project_id, "finance.read")
    financing = _load_financing(session, project_id, financing_id)
    return financing_view(financing, _disbursements(session, [financing.id])[financing.id])


def _disbursement_errors(
    financing: Financing, disbursed_on: date, amount: Decimal, disbursed: Decimal
) -> list[FieldError]:
    errors = []
    if disbursed_on < financing.start_date:
        errors.append(FieldError("#/date", f"before the financing starts ({financing.start_date})"))
    if financing.end_date is not None and disbursed_on > financing.end_date:
        errors.append(FieldError("#/date", f"after the financing ends ({financing.end_date})"))
    if disbursed + amount > financing.committed:
        errors.append(
            FieldError(
                "#/amount",
                f"{disbursed} of {financing.committed} is disbursed already; "
                f"at most {financing.committed - disbursed} remains",
                "disbursement.over_commitment",
            )
        )
    return errors


@transactional
def add_disbursement(
    session: Session,
    actor: Actor,
    project_id: int,
    financing_id: int,
    *,
    disbursed_on: date,
    amount: Decimal,
) -> Disbursement:
    """Record money paid out under a financing. Finance officers only.

    Raises RuleViolation when the project is closed or withdrawn, or when the disbursement
    falls outside the financing's dates or would take the total past the commitment.
    """
    project = load_project(session, actor, project_id, "finance.write")
    refuse_if_final(project, "disbursement")
    financing = _load_financing(session, project_id, financing_id, for_update=True)
    paid = _disbursements(session, [financing.id])[financing.id]
    disbursed = sum((d.amount for d in paid), Decimal(0))
    errors = _disbursement_errors(financing, disbursed_on, amount, disbursed)
    if errors:
        raise RuleViolation("the disbursement does not fit the financing", errors=errors)
    disbursement = Disbursement(
        financing_id=financing.id,
        disbursed_on=disbursed_on,
        amount=amount,
        created_at=clock_of(session).now(),
        created_by=actor.name,
    )
    session.add(disbursement)
    session.flush()  # the audit record names the disbursement by its id
    record(
        session,
        actor,
        action="disbursement:create",
        entity_type="disbursement",
        entity_id=disbursement.id,
        after=snapshot(disbursement, ["financing_id", "disbursed_on", "amount"]),
    )
    return disbursement


def list_disbursements(
    session: Session, actor: Actor, project_id: int, financing_id: int
) -> list[Disbursement]:
    """A financing's disbursements, by date."""
    load_project(session, actor, project_id, "finance.read")
    financing = _load_financing(session, project_id, financing_id)
    return _disbursements(session, [financing.id])[financing.id]
