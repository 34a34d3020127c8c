"""What green power an enterprise has claimed for a year: the MRV calculation's input.

Kept apart from the claiming workflow so that the emission reports can read claims without
depending on how certificates move.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from finance.greenpower.models import CertificateBlock, GreenClaim


@dataclass(frozen=True)
class ClaimedGreenPower:
    """The MWh claimed and the certificates behind them (for the report's breakdown)."""

    mwh: Decimal = Decimal(0)
    certificates: list[dict[str, Any]] = field(default_factory=list)


def claimed_for(session: Session, enterprise_id: int, year: int) -> ClaimedGreenPower:
    """Every certificate claimed for ``enterprise_id``'s consumption in ``year``."""
    rows = session.execute(
        select(GreenClaim.id, CertificateBlock)
        .join(CertificateBlock, CertificateBlock.claim_id == GreenClaim.id)
        .where(GreenClaim.enterprise_id == enterprise_id, GreenClaim.year == year)
        .order_by(CertificateBlock.serial_start)
    ).all()
    certificates = [
        {
            "claim": claim_id,
            "serial_start": block.serial_start,
            "serial_end": block.serial_end,
            "mwh": block.mwh,
            "plant": block.plant_id,
            "generation_year": block.generation_year,
        }
        for claim_id, block in rows
    ]
    return ClaimedGreenPower(Decimal(sum(c["mwh"] for c in certificates)), certificates)
