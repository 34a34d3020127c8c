"""The emission factor library in the database: versioned sets, import, export, freezing.

Rules:

* A set is never edited. Sending rows for an existing name makes the next version of it
  (``version`` = highest + 1); the earlier versions stay as they were, so every report can be
  recomputed with the factors it used.
* Rows are checked all at once (:func:`carbon_market.mrv.factors.rows.check_rows`): every bad
  row and field is reported (``#/rows/<n>/<field>``) and nothing is stored.
* ``is_frozen`` marks a set used by a submitted report. The reports service calls
  :func:`mark_frozen` inside its own unit of work; regulators may freeze a set by hand.
* A year's default set (:func:`factor_set_for` without a name) is the most recently created
  *published* set that applies to the year; drafts are never chosen.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, selectinload

from carbon_market.kernel.access.policy import authorize
from carbon_market.kernel.access.roles import Actor
from carbon_market.kernel.audit.service import record, snapshot
from carbon_market.kernel.db import clock_of, transactional
from carbon_market.kernel.errors import (
    Conflict,
    FieldError,
    NotFound,
    RuleViolation,
    ValidationFailed,
)
from carbon_market.kernel.pagination import Page, PageRequest, paginate
from carbon_market.mrv.calculator.factor_sets import FactorSet
from carbon_market.mrv.factors import rows as factor_rows
from carbon_market.mrv.factors.models import (
    EmissionFactor,
    EmissionFactorSet,
    FactorCategory,
    FactorSetStatus,
)
from carbon_market.mrv.factors.rows import FactorRow, SetHeader

SET_FIELDS = ["name", "version", "jurisdiction", "first_year", "last_year", "status"]


@dataclass(frozen=True)
class FactorSetFilter:
    name: str | None = None
    year: int | None = None
    status: FactorSetStatus | None = None


def list_factor_sets(
    session: Session, actor: Actor, *, filters: FactorSetFilter, page: PageRequest
) -> Page[EmissionFactorSet]:
    """Factor sets (without their factors), by name then version. Every role may read."""
    authorize(actor, "factors.read")
    query = select(EmissionFactorSet)
    if filters.name:
        query = query.where(EmissionFactorSet.name == filters.name)
    if filters.year is not None:
        query = query.where(
            EmissionFactorSet.first_year <= filters.year,
            EmissionFactorSet.last_year >= filters.year,
        )
    if filters.status:
        query = query.where(EmissionFactorSet.status == filters.status)
    order = (EmissionFactorSet.name, EmissionFactorSet.version, EmissionFactorSet.id)
    return paginate(session, query.order_by(*order), page)


def _load(session: Session, set_id: int, *, for_update: bool = False) -> EmissionFactorSet:
    query = (
        select(EmissionFactorSet)
        .where(EmissionFactorSet.id == set_id)
        .options(selectinload(EmissionFactorSet.factors))
    )
    if for_update:
        query = query.with_for_update()
    found = session.scalar(query)
    if found is None:
        raise NotFound(f"emission factor set {set_id} does not exist")
    return found


def get_factor_set(session: Session, actor: Actor, set_id: int) -> EmissionFactorSet:
    """One set with its factors. Every role may read; NotFound for an unknown id."""
    authorize(actor, "factors.read")
    return _load(session, set_id)


def _invalid(errors: list[FieldError]) -> ValidationFailed:
    return ValidationFailed(
        f"{len(errors)} problem(s) in the factor rows; nothing was stored", errors=errors
    )


@transactional
def create_factor_set(
    session: Session,
    actor: Actor,
    *,
    name: str,
    jurisdiction: str,
    first_year: int,
    last_year: int,
    rows: list[dict[str, Any]],
    status: FactorSetStatus = FactorSetStatus.PUBLISHED,
) -> EmissionFactorSet:
    """Store a new set, or the next version of the set ``name``. Regulators only.

    ``rows`` are loaded :class:`~carbon_market.mrv.factors.schemas.FactorRowSchema` dicts. Raises
    ValidationFailed listing every problem (``#/rows/<index>/<field>``, ``#/last_year``) and
    stores nothing; Conflict if a concurrent request took the same version.
    """
    authorize(actor, "factors.manage")
    header = SetHeader(name, jurisdiction, first_year, last_year)
    labelled = [(index, factor_rows.row_of(row)) for index, row in enumerate(rows)]
    errors = _header_errors(header) + factor_rows.check_rows(labelled)
    if errors:
        raise _invalid(errors)
    return _store(session, actor, header, [row for _, row in labelled], status)


def _header_errors(header: SetHeader) -> list[FieldError]:
    if header.first_year > header.last_year:
        return [FieldError("#/last_year", "is before first_year", "factors.years")]
    return []


@transactional
def import_factor_set(
    session: Session,
    actor: Actor,
    *,
    data: bytes,
    filename: str,
    status: FactorSetStatus = FactorSetStatus.PUBLISHED,
) -> EmissionFactorSet:
    """Import one set from a CSV or XLSX file in the packaged format, all or nothing.

    Regulators only. The file's ``set`` column names the set: a known name gets its next
    version. Raises UnreadableFile for a file that is not CSV/XLSX, and ValidationFailed with
    every problem (``#/rows/<spreadsheet row>/<column>``, ``#/columns/<name>``).
    """
    authorize(actor, "factors.manage")
    parsed = factor_rows.read_factor_file(data, filename)
    errors = list(parsed.errors)
    if not parsed.errors:
        errors += factor_rows.check_rows(parsed.rows, is_file=True)
    if parsed.header is None and not errors:
        errors.append(FieldError("#/rows", "the file holds no factor rows", "factors.empty"))
    if errors or parsed.header is None:
        raise _invalid(errors)
    return _store(session, actor, parsed.header, [row for _, row in parsed.rows], status)


def _store(
    session: Session,
    actor: Actor,
    header: SetHeader,
    rows: list[FactorRow],
    status: FactorSetStatus,
) -> EmissionFactorSet:
    latest = session.scalar(
        select(func.max(EmissionFactorSet.version)).where(EmissionFactorSet.name == header.name)
    )
    factor_set = EmissionFactorSet(
        name=header.name,
        version=(latest or 0) + 1,
        jurisdiction=header.jurisdiction,
        first_year=header.first_year,
        last_year=header.last_year,
        status=status,
        is_frozen=False,
        created_at=clock_of(session).now(),
        created_by=actor.name,
    )
    factor_set.factors = [
        EmissionFactor(**{**asdict(row), "category": FactorCategory(row.category)}) for row in rows
    ]
    session.add(factor_set)
    try:
        session.flush()  # the audit record names the set by its id; UNIQUE(name, version)
    except IntegrityError as exc:  # a concurrent request stored the same version first
        raise Conflict(
            f"version {factor_set.version} of {header.name} was stored concurrently; retry"
        ) from exc
    after = snapshot(factor_set, SET_FIELDS) | {"factors": len(rows)}
    record(session, actor, action="factor_set:create", entity_type="emission_factor_set",
           entity_id=factor_set.id, after=after)  # fmt: skip
    return factor_set


def _header_and_rows(factor_set: EmissionFactorSet) -> tuple[SetHeader, list[FactorRow]]:
    header = SetHeader(
        factor_set.name, factor_set.jurisdiction, factor_set.first_year, factor_set.last_year
    )
    rows = [
        FactorRow(str(f.category), f.code, f.parameter, f.value, f.unit, f.source)
        for f in factor_set.factors
    ]
    return header, rows


@dataclass(frozen=True)
class ExportFile:
    filename: str
    mimetype: str
    content: bytes


XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def export_factor_set(session: Session, actor: Actor, set_id: int, *, fmt: str) -> ExportFile:
    """The set as a file in the packaged format (``csv`` or ``xlsx``); every role may read.

    Importing the file again gives the next version with the same values. The CSV starts
    with a UTF-8 byte order mark so that Excel shows the Chinese sources.
    """
    authorize(actor, "factors.read")
    factor_set = _load(session, set_id)
    header, rows = _header_and_rows(factor_set)
    stem = f"{header.name}-v{factor_set.version}"
    if fmt == "xlsx":
        return ExportFile(f"{stem}.xlsx", XLSX, factor_rows.to_xlsx(header, rows))
    text = "\ufeff" + factor_rows.to_csv(header, rows)
    return ExportFile(f"{stem}.csv", "text/csv", text.encode("utf-8"))


def mark_frozen(session: Session, actor: Actor, factor_set: EmissionFactorSet) -> None:
    """Freeze ``factor_set`` in the caller's unit of work, without an authorization check.

    For the reports service, which has already authorized the submission that uses the set.
    Freezing a frozen set changes nothing; a draft cannot be frozen (reports use published
    sets only).
    """
    if factor_set.is_frozen:
        return
    if factor_set.status is not FactorSetStatus.PUBLISHED:
        raise RuleViolation(
            f"factor set {factor_set.id} is a draft; only a published set can be frozen",
            errors=[FieldError("#/status", "is draft", "factors.draft")],
        )
    factor_set.is_frozen = True
    factor_set.frozen_at = clock_of(session).now()
    record(
        session,
        actor,
        action="factor_set:freeze",
        entity_type="emission_factor_set",
        entity_id=factor_set.id,
        before={"is_frozen": False},
        after=snapshot(factor_set, ["is_frozen", "frozen_at"]),
    )


@transactional
def freeze_factor_set(session: Session, actor: Actor, set_id: int) -> EmissionFactorSet:
    """Freeze a published set by hand. Regulators only; idempotent for a frozen set.

    Raises NotFound for an unknown id and RuleViolation for a draft.
    """
    authorize(actor, "factors.manage")
    factor_set = _load(session, set_id, for_update=True)
    mark_frozen(session, actor, factor_set)
    return factor_set


@transactional
def publish_factor_set(session: Session, actor: Actor, set_id: int) -> EmissionFactorSet:
    """Publish a draft, making it eligible as a year's default. Regulators only.

    Raises NotFound for an unknown id and Conflict when the set is already published.
    """
    authorize(actor, "factors.manage")
    factor_set = _load(session, set_id, for_update=True)
    if factor_set.status is FactorSetStatus.PUBLISHED:
        raise Conflict(f"factor set {set_id} is already published")
    factor_set.status = FactorSetStatus.PUBLISHED
    record(
        session,
        actor,
        action="factor_set:publish",
        entity_type="emission_factor_set",
        entity_id=factor_set.id,
        before={"status": FactorSetStatus.DRAFT.value},
        after={"status": FactorSetStatus.PUBLISHED.value},
    )
    return factor_set


def factor_set_for(
    session: Session, *, year: int, name: str | None = None, version: int | None = None
) -> FactorSet:
    """The calculator's :class:`~carbon_market.mrv.calculator.factor_sets.FactorSet` for ``year``.

    Without ``name``: the most recently created published set that applies to the year.
    With ``name``: that set's ``version``, or its newest published version. No authorization:
    factors are public to every role, and callers are services that have authorized their
    own action. Raises ValidationFailed (``#/factor_set`` or ``#/year``) when nothing fits.
    """
    return as_factor_set(find_factor_set(session, year=year, name=name, version=version))


def find_factor_set(
    session: Session, *, year: int, name: str | None = None, version: int | None = None
) -> EmissionFactorSet:
    """The stored set :func:`factor_set_for` chooses (same rules and errors), with its factors.

    For services that must also record which set they used and freeze it (reports).
    """
    query = select(EmissionFactorSet).options(selectinload(EmissionFactorSet.factors))
    if name is None:
        query = query.where(
            EmissionFactorSet.status == FactorSetStatus.PUBLISHED,
            EmissionFactorSet.first_year <= year,
            EmissionFactorSet.last_year >= year,
        )
    elif version is None:
        query = query.where(
            EmissionFactorSet.name == name, EmissionFactorSet.status == FactorSetStatus.PUBLISHED
        )
    else:
        query = query.where(EmissionFactorSet.name == name, EmissionFactorSet.version == version)
    found = session.scalar(query.order_by(EmissionFactorSet.id.desc()).limit(1))
    if found is None:
        wanted = f"factor set {name!r}" if name else f"a published factor set for {year}"
        pointer = "#/factor_set" if name else "#/year"
        raise ValidationFailed(f"there is no {wanted}", errors=[FieldError(pointer, "no set")])
    return found


def as_factor_set(factor_set: EmissionFactorSet) -> FactorSet:
    """The pure calculator value of a stored set (its factors must be loaded)."""
    header, rows = _header_and_rows(factor_set)
    return factor_rows.to_factor_set(header, rows)
