"""Green certificates: issuance by serial range, transfer, and claim (cancellation).

Rules:

* Serials are unique across all certificates ever issued: an issuance overlapping any
  existing block is a Conflict (so is a split that would make serials overlap: splits only
  ever carve a block into disjoint parts).
* Certificates issued against a trade go to its buyer and may not exceed the trade's whole
  MWh; their plant is the trade's plant.
* A transfer or claim names a serial range that the sender or claimant must hold whole and
  active. A claimed certificate is cancelled: a second claim of any of its serials is a
  Conflict naming the claim that took it.
* A claim's year must be the certificates' generation year or the next one (green
  certificates are valid for two years: 国家发展改革委等《关于做好可再生能源绿色电力证书全覆盖
  工作 促进可再生能源电力消费的通知》, 2023).
* A claim is published as :class:`~finance.greenpower.events.GreenPowerClaimed`, on which MRV
  (above green power) recomputes the enterprise's open (draft or returned) report of that
  year in the same unit of work, so its purchased-electricity emissions drop at once;
  submitted reports keep what was filed.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from carbon_market.kernel.access.policy import authorize, tenant_scope
from carbon_market.kernel.access.roles import Actor, Role
from carbon_market.kernel.audit.service import record
from carbon_market.kernel.db import clock_of, transactional
from carbon_market.kernel.errors import Conflict, FieldError, RuleViolation, ValidationFailed
from carbon_market.kernel.events import publish
from carbon_market.kernel.pagination import Page, PageRequest, paginate
from finance.greenpower.events import GreenPowerClaimed
from finance.greenpower.models import CertificateBlock, CertificateStatus, GreenClaim, GreenTrade
from finance.greenpower.registry import enterprise_by_code, plant_by_id
from finance.greenpower.serials import SerialRange, carve, covers_exactly

#: How many years after its generation year a certificate may still be claimed.
CLAIM_YEARS_AFTER_GENERATION = 1
#: The transaction-level advisory lock carving transactions queue on (PostgreSQL): any fixed
#: 64-bit number no other part of the platform uses (the bytes of "CMGRCRV1").
CARVE_LOCK_KEY = 0x434D_4752_4352_5631
#: Certificates in a block, in SQL.
SERIAL_COUNT = CertificateBlock.serial_end - CertificateBlock.serial_start + 1


def _range(start: int, end: int) -> SerialRange:
    if end < start:
        raise ValidationFailed(
            "serial_end is below serial_start",
            errors=[FieldError("#/serial_end", "below serial_start")],
        )
    return SerialRange(start, end)


def _overlapping(
    session: Session, wanted: SerialRange, *, for_update: bool = False
) -> list[CertificateBlock]:
    query = (
        select(CertificateBlock)
        .where(
            CertificateBlock.serial_start <= wanted.end,
            CertificateBlock.serial_end >= wanted.start,
        )
        .order_by(CertificateBlock.serial_start)
    )
    if for_update:
        query = query.with_for_update()
    return list(session.scalars(query))


@transactional
def issue_certificates(
    session: Session,
    actor: Actor,
    *,
    plant: int,
    generation_year: int,
    serial_start: int,
    serial_end: int,
    holder: str | None = None,
    trade: int | None = None,
) -> CertificateBlock:
    """Issue one certificate per MWh, serials ``serial_start``-``serial_end``. Regulators.

    With ``trade``, the certificates go to its buyer (``holder`` may be left out or must be
    that buyer) and together may not exceed its MWh. Raises Conflict on overlapping serials,
    ValidationFailed on an unknown plant, trade or holder, RuleViolation beyond the trade.
    """
    authorize(actor, "greenpower.manage")
    wanted = _range(serial_start, serial_end)
    found_plant = plant_by_id(session, plant)
    holder_id = enterprise_by_code(session, holder, "#/holder").id if holder else None
    if trade is not None:
        holder_id = _check_trade(session, trade, found_plant.id, holder_id, wanted)
    taken = _overlapping(session, wanted)
    if taken:
        spans = ", ".join(f"{b.serial_start}-{b.serial_end}" for b in taken)
        raise Conflict(
            f"serials {wanted} overlap certificates already issued ({spans})",
            errors=[FieldError("#/serial_start", f"overlaps {spans}", "serials.overlap")],
        )
    now = clock_of(session).now()
    block = CertificateBlock(
        plant_id=found_plant.id,
        trade_id=trade,
        generation_year=generation_year,
        serial_start=wanted.start,
        serial_end=wanted.end,
        holder_id=holder_id,
        status=CertificateStatus.ACTIVE,
        issued_at=now,
        updated_at=now,
    )
    session.add(block)
    try:
        session.flush()  # the audit event names the block; PostgreSQL's exclusion check
    except IntegrityError as exc:  # a concurrent issuance took some of these serials
        raise Conflict(
            f"serials {wanted} overlap certificates issued concurrently",
            errors=[FieldError("#/serial_start", "overlaps another issuance", "serials.overlap")],
        ) from exc
    _audit(session, actor, "issue", block, {"mwh": wanted.count})
    return block


def _check_trade(
    session: Session, trade_id: int, plant_id: int, holder_id: int | None, wanted: SerialRange
) -> int:
    trade = session.get(GreenTrade, trade_id, with_for_update=True)
    if trade is None:
        raise ValidationFailed(
            f"green trade {trade_id} does not exist",
            errors=[FieldError("#/trade", "no such trade")],
        )
    errors = []
    if trade.plant_id != plant_id:
        errors.append(FieldError("#/plant", f"trade {trade_id} is from plant {trade.plant_id}"))
    if holder_id is not None and holder_id != trade.buyer_id:
        errors.append(FieldError("#/holder", "not the trade's buyer"))
    if errors:
        raise ValidationFailed("the certificates do not match the trade", errors=errors)
    issued = (
        session.scalar(
            select(func.coalesce(func.sum(SERIAL_COUNT), 0)).where(
                CertificateBlock.trade_id == trade_id
            )
        )
        or 0
    )
    allowed = int(trade.mwh)  # whole MWh: a fraction of a MWh earns no certificate
    if issued + wanted.count > allowed:
        raise RuleViolation(
            f"trade {trade.reference} has {allowed} whole MWh and {issued} certificates; "
            f"{wanted.count} more would exceed it",
            errors=[FieldError("#/serial_end", "more certificates than the trade's MWh")],
        )
    return trade.buyer_id


def _lock_overlapping(session: Session, wanted: SerialRange) -> list[CertificateBlock]:
    """Lock every block overlapping ``wanted``, including blocks carved off concurrently.

    On PostgreSQL (READ COMMITTED) a statement that waited for a row lock re-reads that row
    but never sees the rows the other transaction inserted: after a concurrent claim carved
    the block, the remainder holding our serials would be missing and the claim refused as
    "not all held". So carving transactions queue on one advisory lock first, and the query
    after it sees every carve committed before. Claims and transfers are few; SQLite queues
    every writer anyway (``BEGIN IMMEDIATE``).
    """
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": CARVE_LOCK_KEY})
    return _overlapping(session, wanted, for_update=True)


def _take(
    session: Session, wanted: SerialRange, holder_id: int | None, pointer: str
) -> list[CertificateBlock]:
    """Lock the blocks covering ``wanted`` and split them at its ends, so that exactly the
    blocks inside ``wanted`` are returned. Raises when any serial of it is missing, claimed
    or not held by ``holder_id``."""
    blocks = _lock_overlapping(session, wanted)
    claimed = [b for b in blocks if b.status is CertificateStatus.CLAIMED]
    if claimed:
        spans = ", ".join(f"{b.serial_start}-{b.serial_end} (claim {b.claim_id})" for b in claimed)
        raise Conflict(
            f"serials {spans} are already claimed",
            errors=[FieldError(pointer, f"already claimed: {spans}", "certificates.claimed")],
        )
    ranges = [SerialRange(b.serial_start, b.serial_end) for b in blocks]
    if not covers_exactly(ranges, wanted) or any(b.holder_id != holder_id for b in blocks):
        raise RuleViolation(
            f"serials {wanted} are not all held by the sender",
            errors=[FieldError(pointer, "not all of them are held", "certificates.held")],
        )
    now = clock_of(session).now()
    remainders = []
    for block in blocks:
        own = SerialRange(block.serial_start, block.serial_end)
        part = SerialRange(max(own.start, wanted.start), min(own.end, wanted.end))
        before, after = carve(own, part)
        block.serial_start, block.serial_end, block.updated_at = part.start, part.end, now
        remainders += [_copy(block, piece) for piece in (before, after) if piece is not None]
    # Shrink first, then add what was cut off: the serials never overlap, not even between
    # two statements (PostgreSQL's exclusion constraint checks each one).
    session.flush()  # the shrunk blocks are written before their remainders
    session.add_all(remainders)
    session.flush()  # the remainders exist before the caller changes the taken blocks
    return blocks


def _copy(block: CertificateBlock, piece: SerialRange) -> CertificateBlock:
    return CertificateBlock(
        plant_id=block.plant_id,
        trade_id=block.trade_id,
        generation_year=block.generation_year,
        serial_start=piece.start,
        serial_end=piece.end,
        holder_id=block.holder_id,
        status=block.status,
        claim_id=block.claim_id,
        issued_at=block.issued_at,
        updated_at=block.updated_at,
    )


def _sender(actor: Actor, given: str | None, session: Session) -> int | None:
    """The holder a transfer takes from: an enterprise user's own enterprise (naming another
    is NotFound, as for any other tenant's data); for a regulator the enterprise named, or
    the plant side when none is."""
    named = enterprise_by_code(session, given, "#/sender").id if given else None
    if actor.role is Role.ENTERPRISE:
        authorize(actor, "greenpower.transfer", enterprise_id=named or actor.enterprise_id)
        return actor.enterprise_id
    return named


@transactional
def transfer_certificates(
    session: Session,
    actor: Actor,
    *,
    serial_start: int,
    serial_end: int,
    to: str,
    sender: str | None = None,
) -> list[CertificateBlock]:
    """Move certificates ``serial_start``-``serial_end`` to the enterprise ``to``.

    Enterprise users transfer their own; regulators move any holder's (``sender``: a credit
    code, or none for certificates still on the plant side).
    """
    authorize(actor, "greenpower.transfer")
    wanted = _range(serial_start, serial_end)
    receiver = enterprise_by_code(session, to, "#/to")
    from_id = _sender(actor, sender, session)
    if from_id == receiver.id:
        raise ValidationFailed(
            "sender and receiver are the same", errors=[FieldError("#/to", "is the sender")]
        )
    blocks = _take(session, wanted, from_id, "#/serial_start")
    for block in blocks:
        block.holder_id = receiver.id
    moved = {"serials": str(wanted), "from": from_id, "to": receiver.id}
    _audit(session, actor, "transfer", blocks[0], moved)
    return blocks


@transactional
def claim_certificates(
    session: Session,
    actor: Actor,
    *,
    enterprise: str,
    year: int,
    serial_start: int,
    serial_end: int,
    purpose: str,
) -> GreenClaim:
    """Cancel certificates for ``enterprise``'s consumption in ``year``.

    Enterprise users claim for their own enterprise (another's: NotFound); regulators for
    any. The claimant must hold every certificate. Raises Conflict when any is already
    claimed, RuleViolation when not held or outside its validity.
    """
    authorize(actor, "greenpower.claim")
    consumer = enterprise_by_code(session, enterprise, "#/enterprise")
    authorize(actor, "greenpower.claim", enterprise_id=consumer.id)
    wanted = _range(serial_start, serial_end)
    blocks = _take(session, wanted, consumer.id, "#/serial_start")
    valid = range(year - CLAIM_YEARS_AFTER_GENERATION, year + 1)
    stale = sorted({b.generation_year for b in blocks if b.generation_year not in valid})
    if stale:
        raise RuleViolation(
            f"certificates generated in {stale} cannot be claimed for {year}",
            errors=[FieldError("#/year", "outside the certificates' two-year validity")],
        )
    claim = GreenClaim(
        enterprise_id=consumer.id,
        year=year,
        purpose=purpose,
        serial_start=wanted.start,
        serial_end=wanted.end,
        mwh=wanted.count,
        created_at=clock_of(session).now(),
        created_by=actor.name,
    )
    session.add(claim)
    session.flush()  # the blocks reference the claim by its id
    for block in blocks:
        block.status, block.claim_id = CertificateStatus.CLAIMED, claim.id
    record(
        session,
        actor,
        action="green_claim:create",
        entity_type="green_claim",
        entity_id=claim.id,
        after={
            "enterprise_id": consumer.id,
            "year": year,
            "serials": str(wanted),
            "mwh": wanted.count,
        },
    )
    publish(session, GreenPowerClaimed(actor, consumer.id, year))
    return claim


@dataclass(frozen=True)
class CertificateFilter:
    holder: str | None = None
    status: CertificateStatus | None = None
    plant: int | None = None


def list_certificates(
    session: Session, actor: Actor, *, filters: CertificateFilter, page: PageRequest
) -> Page[CertificateBlock]:
    """Certificate blocks the actor may see (an enterprise user: its own holdings)."""
    authorize(actor, "greenpower.read")
    query = select(CertificateBlock)
    scope = tenant_scope(actor)
    if scope is not None:
        query = query.where(CertificateBlock.holder_id == scope)
    if filters.holder:
        holder = enterprise_by_code(session, filters.holder, "#/holder")
        query = query.where(CertificateBlock.holder_id == holder.id)
    if filters.status:
        query = query.where(CertificateBlock.status == filters.status)
    if filters.plant is not None:
        query = query.where(CertificateBlock.plant_id == filters.plant)
    return paginate(session, query.order_by(CertificateBlock.serial_start), page)


def list_claims(
    session: Session, actor: Actor, *, page: PageRequest, year: int | None = None
) -> Page[GreenClaim]:
    authorize(actor, "greenpower.read")
    query = select(GreenClaim)
    scope = tenant_scope(actor)
    if scope is not None:
        query = query.where(GreenClaim.enterprise_id == scope)
    if year is not None:
        query = query.where(GreenClaim.year == year)
    return paginate(session, query.order_by(GreenClaim.id), page)


def _audit(
    session: Session, actor: Actor, step: str, block: CertificateBlock, extra: dict[str, Any]
) -> None:
    after = {
        "serial_start": block.serial_start,
        "serial_end": block.serial_end,
        "holder_id": block.holder_id,
        "status": str(block.status),
    } | extra
    record(
        session,
        actor,
        action=f"green_certificate:{step}",
        entity_type="green_certificate",
        entity_id=block.id,
        after=after,
    )
