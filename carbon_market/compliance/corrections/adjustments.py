"""The corrections cascade's ledger adjustments: surrendered units returned through the ledger.

When a corrected report lowers the obligation, the units surrendered beyond it go back to the
enterprise's compliance account, newest surrender first, whatever their kind; and since the
offset cap may be a share of the obligation (national: 5 % of the units due), the offsets
kept beyond the new cap go back too, newest offset first, their place taken by allowances
that were going back anyway (:func:`rules.kept_after_correction`). The ledger reverses whole
transactions only and nothing is ever edited, so each surrender that keeps less is reversed
whole and re-surrendered (a new ``surrender`` transaction with its own ``compliance_surrender``
row naming the correction) in the part it keeps. The moves are posted at once by a system
actor named ``correction:<regulator>``: the regulator's approval of the corrected report is
the decision. Pending surrenders are left alone.

:mod:`corrections` orchestrates; this module only moves units.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session

from carbon_market.compliance.models import ComplianceCorrection, ComplianceSurrender
from carbon_market.compliance.rules.obligations import (
    OffsetCaps,
    SurrenderLot,
    kept_after_correction,
)
from carbon_market.kernel.access.roles import Actor
from carbon_market.kernel.db import clock_of
from carbon_market.kernel.errors import NotFound
from carbon_market.kernel.text import clip
from carbon_market.ledger import transactions as ledger
from carbon_market.ledger.accounts.service import GOVERNMENT_ACCOUNTS, compliance_account_of
from carbon_market.ledger.enums import AccountKind, TransactionKind, TransactionStatus
from carbon_market.ledger.models import Account, LedgerTransaction


@dataclass
class Returned:
    """What the adjustments moved, for the correction row, the audit record and the notice."""

    #: Units back in the compliance account (reversed less re-surrendered).
    returned_t: int = 0
    #: Ledger ids of the reversals, in the order made (newest surrender first).
    reversals: list[int] = field(default_factory=list)
    #: Ledger ids of the re-surrenders of the part still due.
    resurrenders: list[int] = field(default_factory=list)
    #: Of ``returned_t``, the offsets (beyond the obligation or beyond the new offset cap).
    offsets_returned_t: int = 0


def lock_compliance_account(session: Session, owner: int) -> Account:
    """The enterprise's compliance account, locked: corrections and surrenders of one
    enterprise are serialised on it (as surrenders are among themselves)."""
    account = compliance_account_of(session, owner, for_update=True)
    if account is None:
        raise NotFound(f"enterprise {owner} has no compliance account")
    return account


def completed_surrenders(
    session: Session, year: int, owner: int
) -> list[tuple[ComplianceSurrender, LedgerTransaction]]:
    """The enterprise's completed, not reversed surrenders for ``year``, newest first."""
    reversed_ids = select(LedgerTransaction.reverses_id).where(
        LedgerTransaction.reverses_id.is_not(None),
        LedgerTransaction.status == TransactionStatus.COMPLETED,
    )
    rows = session.execute(
        select(ComplianceSurrender, LedgerTransaction)
        .join(LedgerTransaction, LedgerTransaction.id == ComplianceSurrender.transaction_id)
        .where(
            ComplianceSurrender.year == year,
            ComplianceSurrender.enterprise_id == owner,
            LedgerTransaction.status == TransactionStatus.COMPLETED,
            LedgerTransaction.id.not_in(reversed_ids),
        )
        .order_by(LedgerTransaction.completed_at.desc(), LedgerTransaction.id.desc())
    )
    return [(row[0], row[1]) for row in rows]


def _resurrender(
    session: Session,
    mover: Actor,
    correction: ComplianceCorrection,
    account: Account,
    row: ComplianceSurrender,
    tx: LedgerTransaction,
    keep: int,
    tag: str,
) -> int:
    """Surrender ``keep`` units of ``row``'s kind and vintage again, as part of the
    correction; returns the new ledger transaction's id."""
    again = ledger.request_transfer(
        session,
        mover,
        from_account=account.number,
        to_account=GOVERNMENT_ACCOUNTS[AccountKind.RETIREMENT],
        unit_kind=tx.unit_kind,
        vintage=tx.vintage,
        quantity=keep,
        memo=clip(f"{tag}: re-surrender of {keep} of transaction {tx.id}"),
        kind=TransactionKind.SURRENDER,
    )
    session.add(
        ComplianceSurrender(
            year=correction.year,
            enterprise_id=correction.enterprise_id,
            transaction_id=again.id,
            unit_kind=row.unit_kind,
            vintage=row.vintage,
            quantity=keep,
            counts_as=row.counts_as,
            is_outside=row.is_outside,
            requested_at=clock_of(session).now(),
            requested_by=mover.name,
            correction_id=correction.id,
        )
    )
    session.flush()  # the status re-run after the cascade reads surrenders on the raw cursor
    return again.id


def return_units(
    session: Session,
    actor: Actor,
    correction: ComplianceCorrection,
    account: Account,
    caps: OffsetCaps,
) -> Returned:
    """Return the surrendered units the corrected obligation no longer admits: those beyond
    it and offsets beyond its ``caps`` (:func:`rules.kept_after_correction` decides how
    much of each surrender stays). Each surrender that keeps less than it moved is reversed
    whole, newest first, and re-surrendered in the part it keeps. The caller authorised
    ``actor``."""
    lots = completed_surrenders(session, correction.year, correction.enterprise_id)
    keep = kept_after_correction(
        [SurrenderLot(tx.quantity, row.counts_as == "offset", row.is_outside) for row, tx in lots],
        obligation_t=correction.obligation_t,
        caps=caps,
    )
    mover = Actor.system(name=f"correction:{actor.name}"[:64], request_id=actor.request_id)
    tag = f"correction of report {correction.report_id} v{correction.version}"
    done = Returned()
    for (row, tx), kept in zip(lots, keep, strict=True):
        if kept == tx.quantity:
            continue
        # "Excess": beyond the corrected obligation, or offsets beyond its offset cap.
        reversal = ledger.reverse(
            session, mover, tx.id, memo=clip(f"{tag}: excess surrender returned")
        )
        done.reversals.append(reversal.id)
        done.returned_t += tx.quantity - kept
        if row.counts_as == "offset":
            done.offsets_returned_t += tx.quantity - kept
        if kept:
            done.resurrenders.append(
                _resurrender(session, mover, correction, account, row, tx, kept, tag)
            )
    return done
