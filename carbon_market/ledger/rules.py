"""Ledger rules that need no database (pure): transaction kinds, delays, quantities."""

from __future__ import annotations

from carbon_market.kernel.errors import FieldError, ValidationFailed
from carbon_market.ledger.enums import GOVERNMENT_KINDS, AccountKind, TransactionKind

MIN_VINTAGE, MAX_VINTAGE = 2000, 2100
#: The most units one transaction may move: a trillion tonnes, some twenty years of the
#: world's emissions. Holdings are 64-bit integers (at most 2^63 - 1, about 9.2 x 10^18);
#: without a bound a single request overflowed the database (a 500) and two issuances
#: could add up past it (SQLite silently turns the sum into a float, losing units).
MAX_QUANTITY = 10**12


def transfer_kind(source: AccountKind, destination: AccountKind) -> TransactionKind:
    """What a move between two kinds of account is recorded as."""
    if source in GOVERNMENT_KINDS and destination is AccountKind.ENTERPRISE_COMPLIANCE:
        return TransactionKind.ALLOCATION
    if destination is AccountKind.RETIREMENT:
        return TransactionKind.RETIREMENT
    return TransactionKind.TRANSFER


def needs_delay(
    source: AccountKind, destination: AccountKind, *, is_trusted: bool, delay_hours: int
) -> bool:
    """Whether an approved transfer waits out the untrusted-destination delay.

    The delay (after the EU registry's 2010-11 thefts) protects holders from a stolen login
    moving units away. It does not apply when it is switched off (0 hours), when the
    destination is on the source's trusted list, when the government is on either side (a
    government account and a compliance account never delay each other), or when the units
    go to the retirement account, from which nobody can take them again.
    """
    if delay_hours == 0 or is_trusted:
        return False
    if source in GOVERNMENT_KINDS or destination in GOVERNMENT_KINDS:
        return False
    return destination is not AccountKind.RETIREMENT


def check_quantity_and_vintage(quantity: object, vintage: object) -> None:
    """Refuse zero, negative, fractional, boolean or impossibly large quantities and
    out-of-range vintages, reporting both at once."""
    errors = []
    if isinstance(quantity, bool) or not isinstance(quantity, int) or quantity <= 0:
        errors.append(FieldError("#/quantity", "must be a positive whole number of units"))
    elif quantity > MAX_QUANTITY:
        errors.append(FieldError("#/quantity", f"must be at most {MAX_QUANTITY} units"))
    if (
        isinstance(vintage, bool)
        or not isinstance(vintage, int)
        or not (MIN_VINTAGE <= vintage <= MAX_VINTAGE)
    ):
        errors.append(
            FieldError("#/vintage", f"must be a year from {MIN_VINTAGE} to {MAX_VINTAGE}")
        )
    if errors:
        raise ValidationFailed(f"{len(errors)} field(s) are invalid", errors=errors)
