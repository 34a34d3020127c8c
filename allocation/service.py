"""Allocation plans: draft, edit, copy, approve (four eyes) and dry runs on the registry.

Regulators write plans; auditors read them. A plan is edited only while ``draft``; a second
regulator approves it, which computes it on the registry and freezes the per-facility
results (``allocation_result``) that issuing will move (:mod:`allocation.issuing.whole`). At most
one plan per year may be approved or issued; any number of drafts (scenarios) may exist.
"""

from __future__ import annotations

import json
from dataclasses import replace
from decimal import Decimal
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd
from sqlalchemy import insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from allocation.models import (
    AllocationAdjustment,
    AllocationPlan,
    AllocationResult,
    PlanStatus,
    RecordStatus,
    Stage,
)
from allocation.registry import registry_facilities
from allocation.rules.deductions import apply_deductions
from allocation.rules.engine import BREAKDOWN, Outcome, compute
from allocation.rules.plan import Plan, copy_document, parse_plan, plan_document
from carbon_market.compliance.penalties import uncorrected_deductions
from carbon_market.emitters.models import Sector
from carbon_market.kernel.access.policy import authorize, tenant_scope
from carbon_market.kernel.access.roles import Actor
from carbon_market.kernel.audit.service import record, snapshot
from carbon_market.kernel.db import clock_of, transactional
from carbon_market.kernel.errors import (
    Conflict,
    FieldError,
    FourEyesViolation,
    NotFound,
    UnreadableFile,
    ValidationFailed,
)
from carbon_market.kernel.pagination import Page, PageRequest, paginate
from carbon_market.kernel.text import clip

AUDITED = ["name", "year", "status", "cap", "reserve_share", "auction_share"]


def _check_sectors(session: Session, plan: Plan) -> None:
    known = set(session.scalars(select(Sector.code).where(Sector.is_active)))
    unknown = [code for code in plan.sectors if code not in known]
    if unknown:
        raise ValidationFailed(
            f"unknown sector(s): {', '.join(unknown)}",
            errors=[FieldError(f"#/sectors/{c}", "not in the sector catalogue") for c in unknown],
        )


def _checked(session: Session, document: dict[str, Any]) -> Plan:
    plan = parse_plan(document)
    _check_sectors(session, plan)
    return plan


def _check_name_free(session: Session, year: int, name: str, plan_id: int | None = None) -> None:
    found = session.scalar(
        select(AllocationPlan.id).where(AllocationPlan.year == year, AllocationPlan.name == name)
    )
    if found is not None and found != plan_id:
        raise Conflict(
            f"a plan named {name!r} exists for {year}", errors=[FieldError("#/name", "taken")]
        )


def _apply(row: AllocationPlan, plan: Plan, name: str) -> None:
    row.name, row.year, row.cap = name, plan.year, plan.cap
    row.reserve_share, row.auction_share = plan.reserve_share, plan.auction_share
    row.document = plan_document(plan)


def plan_of(row: AllocationPlan) -> Plan:
    """The stored plan's :class:`Plan` (the stored document was checked when written)."""
    return parse_plan(row.document)


@transactional
def create_plan(
    session: Session, actor: Actor, *, document: dict[str, Any], name: str | None = None
) -> AllocationPlan:
    """Record a draft plan from its document. Regulators only. Raises ValidationFailed
    (every problem of the document, with pointers) and Conflict (name taken that year)."""
    authorize(actor, "allocation.manage")
    plan = _checked(session, document)
    name = name or str(plan.year)
    _check_name_free(session, plan.year, name)
    now = clock_of(session).now()
    row = AllocationPlan(
        status=PlanStatus.DRAFT,
        created_at=now,
        updated_at=now,
        created_by=actor.name,
        created_by_user_id=actor.user_id,
    )
    _apply(row, plan, name)
    session.add(row)
    try:
        session.flush()  # the audit event names the plan by its id; the (year, name) index
    except IntegrityError as exc:  # answers a concurrent creation under the same name
        raise Conflict(
            f"a plan named {name!r} exists for {plan.year}",
            errors=[FieldError("#/name", "taken")],
        ) from exc
    record(
        session,
        actor,
        action="allocation_plan:create",
        entity_type="allocation_plan",
        entity_id=row.id,
        after=snapshot(row, AUDITED),
    )
    return row


def _locked(session: Session, plan_id: int) -> AllocationPlan:
    row = session.scalar(
        select(AllocationPlan).where(AllocationPlan.id == plan_id).with_for_update()
    )
    if row is None:
        raise NotFound(f"allocation plan {plan_id} does not exist")
    return row


@transactional
def update_plan(
    session: Session,
    actor: Actor,
    plan_id: int,
    *,
    document: dict[str, Any],
    name: str | None = None,
) -> AllocationPlan:
    """Replace a draft plan's document (and name). Regulators only. Raises NotFound,
    Conflict (not a draft: approved plans are never edited; name taken), ValidationFailed."""
    authorize(actor, "allocation.manage")
    row = _locked(session, plan_id)
    if row.status is not PlanStatus.DRAFT:
        raise Conflict(f"plan {plan_id} is {row.status}: only a draft can be edited")
    plan = _checked(session, document)
    name = name or row.name
    _check_name_free(session, plan.year, name, plan_id)
    before = snapshot(row, AUDITED)
    _apply(row, plan, name)
    row.updated_at = clock_of(session).now()
    record(
        session,
        actor,
        action="allocation_plan:update",
        entity_type="allocation_plan",
        entity_id=row.id,
        before=before,
        after=snapshot(row, AUDITED),
    )
    return row


@transactional
def copy_plan(
    session: Session,
    actor: Actor,
    plan_id: int,
    *,
    year: int | None = None,
    name: str | None = None,
) -> AllocationPlan:
    """A new draft from plan ``plan_id`` moved to ``year`` (default: the next year), its
    base years shifted by the same span. Regulators only."""
    authorize(actor, "allocation.manage")
    source = get_plan(session, actor, plan_id)
    target = year if year is not None else source.year + 1
    return create_plan(session, actor, document=copy_document(source.document, target), name=name)


def export_document(session: Session, actor: Actor, plan_id: int) -> dict[str, Any]:
    """The plan's document, exactly what :func:`import_plan` (and the CLI) read back."""
    return dict(get_plan(session, actor, plan_id).document)


@transactional
def import_plan(
    session: Session, actor: Actor, *, content: bytes, name: str | None = None
) -> AllocationPlan:
    """Record an exported plan document (a UTF-8 JSON file) as a draft: the same checks as
    :func:`create_plan`. Raises UnreadableFile (not a JSON object), ValidationFailed and
    Conflict."""
    authorize(actor, "allocation.manage")
    try:
        document = json.loads(content.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise UnreadableFile(f"the plan file is not UTF-8 JSON: {exc}") from exc
    if not isinstance(document, dict):
        raise UnreadableFile("the plan file must hold one JSON object, the plan document")
    return create_plan(session, actor, document=document, name=name)


def get_plan(session: Session, actor: Actor, plan_id: int) -> AllocationPlan:
    authorize(actor, "allocation.read")
    row = session.get(AllocationPlan, plan_id)
    if row is None:
        raise NotFound(f"allocation plan {plan_id} does not exist")
    return row


def list_plans(
    session: Session,
    actor: Actor,
    *,
    page: PageRequest,
    year: int | None = None,
    status: PlanStatus | None = None,
) -> Page[AllocationPlan]:
    authorize(actor, "allocation.read")
    query = select(AllocationPlan)
    if year is not None:
        query = query.where(AllocationPlan.year == year)
    if status is not None:
        query = query.where(AllocationPlan.status == status)
    return paginate(session, query.order_by(AllocationPlan.id), page)


def with_deductions(
    session: Session, year: int, outcome: Outcome, enterprise_ids: npt.NDArray[np.int64]
) -> Outcome:
    """``outcome`` less the deductions for shortfalls of ``year - 1`` left uncorrected (the
    national rule; ``compliance.penalties.uncorrected_deductions``): the units deducted are
    not issued and stay in the government accounts."""
    deductions = uncorrected_deductions(session, year - 1)
    results, deducted = apply_deductions(
        outcome.results, enterprise_ids, deductions, shortfall_year=year - 1
    )
    if not deducted:
        return outcome
    return replace(outcome, results=results, total_allocated=outcome.total_allocated - deducted)


def compute_on_registry(session: Session, plan: Plan) -> Outcome:
    """The engine over the registry's facilities, less uncorrected shortfalls' deductions
    (no authorization: callers check)."""
    frame = registry_facilities(session, years=[*plan.base_years, plan.year])
    ids = frame["enterprise_id"].to_numpy(dtype=np.int64)
    return with_deductions(session, plan.year, compute(plan, frame), ids)


def dry_run(session: Session, actor: Actor, plan_id: int) -> Outcome:
    """Compute a plan (any status) on the registry as it is now; stores nothing."""
    row = get_plan(session, actor, plan_id)
    return compute_on_registry(session, plan_of(row))


def compare_plans(session: Session, actor: Actor, first: int, second: int) -> pd.DataFrame:
    """Two plans' results side by side, one row per facility (``allocation_a``,
    ``allocation_b``, ``difference``)."""
    a, b = (dry_run(session, actor, plan_id).results for plan_id in (first, second))
    keep = ["facility_id", "enterprise", "sector", "allocation"]
    merged = a[keep].merge(
        b[keep], on=["facility_id", "enterprise", "sector"], suffixes=("_a", "_b")
    )
    merged["difference"] = merged["allocation_b"] - merged["allocation_a"]
    return merged


def _breakdowns(results: pd.DataFrame) -> list[dict[str, Any]]:
    """Each row's breakdown as JSON (decimals as strings, empties left out)."""
    table = results[BREAKDOWN].astype(object)
    table = table.where(table.notna(), None)
    return [
        {str(k): (str(v) if isinstance(v, Decimal) else v) for k, v in row.items() if v is not None}
        for row in table.to_dict("records")
    ]


def _store_results(session: Session, plan_id: int, results: pd.DataFrame) -> None:
    allocation = results["allocation"].astype(object).where(results["allocation"].notna(), None)
    rows = [
        {
            "plan_id": plan_id,
            "facility_id": int(r["facility_id"]),
            "enterprise_id": int(r["enterprise_id"]),
            "sector": r["sector"],
            "category": r["category"] or "",
            "method": r["method"] if isinstance(r["method"], str) else None,
            "free_allocation": r["free_allocation"],
            "allocation": None if a is None else int(a),
            "note": clip(r["note"]),
            "breakdown": breakdown,
        }
        for r, a, breakdown in zip(
            results.to_dict("records"), allocation, _breakdowns(results), strict=True
        )
    ]
    for start in range(0, len(rows), 1000):
        session.execute(insert(AllocationResult), rows[start : start + 1000])


@transactional
def approve_plan(session: Session, actor: Actor, plan_id: int) -> AllocationPlan:
    """Approve a draft: a second regulator, never its author. Computes the plan on the
    registry and freezes the per-facility results. Raises NotFound, Conflict (not a draft;
    another plan of the year already approved), FourEyesViolation."""
    authorize(actor, "allocation.approve")
    row = _locked(session, plan_id)
    if row.status is not PlanStatus.DRAFT:
        raise Conflict(f"plan {plan_id} is {row.status}, not a draft")
    if actor.user_id is not None and actor.user_id == row.created_by_user_id:
        raise FourEyesViolation("the author of a plan cannot approve it")
    adopted = session.scalar(
        select(AllocationPlan.id).where(
            AllocationPlan.year == row.year, AllocationPlan.status != PlanStatus.DRAFT
        )
    )
    if adopted is not None:
        raise Conflict(f"plan {adopted} is already approved for {row.year}")
    frame = registry_facilities(session, years=[*plan_of(row).base_years, row.year])
    ids = frame["enterprise_id"].to_numpy(dtype=np.int64)
    outcome = with_deductions(session, row.year, compute(plan_of(row), frame), ids)
    results = outcome.results.assign(enterprise_id=ids)
    _store_results(session, row.id, results)
    now = clock_of(session).now()
    row.status, row.approved_at, row.updated_at = PlanStatus.APPROVED, now, now
    row.approved_by, row.approved_by_user_id = actor.name, actor.user_id
    row.scale_factor, row.total_allocation = outcome.scale_factor, outcome.total_allocated
    try:
        session.flush()  # the one-adopted-plan-per-year index answers a concurrent approval
    except IntegrityError as exc:
        raise Conflict(f"another plan for {row.year} was approved concurrently") from exc
    record(
        session,
        actor,
        action="allocation_plan:approve",
        entity_type="allocation_plan",
        entity_id=row.id,
        after={**snapshot(row, AUDITED), **outcome.summary()},
    )
    return row


def result_documents(outcome: Outcome) -> list[dict[str, Any]]:
    """A dry run's per-facility results as JSON-ready dicts (decimals as strings)."""
    table = outcome.results
    allocation = table["allocation"].astype(object).where(table["allocation"].notna(), None)
    method = table["method"].astype(object).where(table["method"].notna(), None)
    return [
        {
            "facility_id": int(f) if isinstance(f, int | np.integer) else f,
            "enterprise": e,
            "sector": s,
            "category": c,
            "method": m,
            "free_allocation": None if free is None else str(free),
            "scale_factor": str(outcome.scale_factor),
            "allocation": None if a is None else int(a),
            "note": n,
            "breakdown": b,
        }
        for f, e, s, c, m, free, a, n, b in zip(
            table["facility_id"],
            table["enterprise"],
            table["sector"],
            table["category"],
            method,
            table["free_allocation"],
            allocation,
            table["note"],
            _breakdowns(table),
            strict=True,
        )
    ]


def list_results(
    session: Session, actor: Actor, plan_id: int, *, page: PageRequest
) -> Page[AllocationResult]:
    """An approved plan's frozen results; an enterprise user sees its own facilities only
    (regulators, auditors and enterprises)."""
    authorize(actor, "allocation.results")
    if session.get(AllocationPlan, plan_id) is None:
        raise NotFound(f"allocation plan {plan_id} does not exist")
    query = select(AllocationResult).where(AllocationResult.plan_id == plan_id)
    scope = tenant_scope(actor)
    if scope is not None:
        query = query.where(AllocationResult.enterprise_id == scope)
    return paginate(session, query.order_by(AllocationResult.id), page)


def list_adjustments(
    session: Session,
    actor: Actor,
    plan_id: int,
    *,
    page: PageRequest,
    stage: Stage | None = None,
    status: RecordStatus | None = None,
) -> Page[AllocationAdjustment]:
    """A plan's pre-allocation, true-up and reserve-record movements (new entrants,
    capacity changes and reductions, pending ones included); an enterprise user sees its
    own facilities' only (regulators, auditors and enterprises)."""
    authorize(actor, "allocation.results")
    if session.get(AllocationPlan, plan_id) is None:
        raise NotFound(f"allocation plan {plan_id} does not exist")
    query = select(AllocationAdjustment).where(AllocationAdjustment.plan_id == plan_id)
    if stage is not None:
        query = query.where(AllocationAdjustment.stage == stage)
    if status is not None:
        query = query.where(AllocationAdjustment.status == status)
    scope = tenant_scope(actor)
    if scope is not None:
        query = query.where(AllocationAdjustment.enterprise_id == scope)
    return paginate(session, query.order_by(AllocationAdjustment.id), page)
