"""Ledger rules that need no database: kinds, delays, quantities."""

from __future__ import annotations

from decimal import Decimal

import pytest

from carbon_market.kernel.errors import ValidationFailed
from carbon_market.ledger.enums import AccountKind as K
from carbon_market.ledger.enums import TransactionKind as T
from carbon_market.ledger.rules import check_quantity_and_vintage, needs_delay, transfer_kind


@pytest.mark.parametrize(
    ("source", "destination", "kind"),
    [
        (K.GOVERNMENT_RESERVE, K.ENTERPRISE_COMPLIANCE, T.ALLOCATION),
        (K.AUCTION, K.ENTERPRISE_COMPLIANCE, T.ALLOCATION),
        (K.ENTERPRISE_COMPLIANCE, K.RETIREMENT, T.RETIREMENT),
        (K.ENTERPRISE_COMPLIANCE, K.ENTERPRISE_COMPLIANCE, T.TRANSFER),
        (K.GOVERNMENT_RESERVE, K.AUCTION, T.TRANSFER),
    ],
)
def test_transfer_kind_follows_the_kinds_of_account(source, destination, kind):
    assert transfer_kind(source, destination) is kind


@pytest.mark.parametrize(
    ("source", "destination", "trusted", "hours", "delayed"),
    [
        (K.ENTERPRISE_COMPLIANCE, K.ENTERPRISE_COMPLIANCE, False, 26, True),
        (K.ENTERPRISE_COMPLIANCE, K.TRADING, False, 26, True),
        (K.ENTERPRISE_COMPLIANCE, K.ENTERPRISE_COMPLIANCE, True, 26, False),
        (K.ENTERPRISE_COMPLIANCE, K.ENTERPRISE_COMPLIANCE, False, 0, False),
        (K.GOVERNMENT_RESERVE, K.ENTERPRISE_COMPLIANCE, False, 26, False),
        (K.ENTERPRISE_COMPLIANCE, K.GOVERNMENT_RESERVE, False, 26, False),
        (K.ENTERPRISE_COMPLIANCE, K.RETIREMENT, False, 26, False),
    ],
)
def test_delay_applies_only_to_untrusted_non_government_destinations(
    source, destination, trusted, hours, delayed
):
    assert needs_delay(source, destination, is_trusted=trusted, delay_hours=hours) is delayed


@pytest.mark.parametrize("quantity", [0, -1, 1.5, Decimal("2"), True, "10", None])
def test_quantity_must_be_a_positive_whole_int(quantity):
    with pytest.raises(ValidationFailed) as refused:
        check_quantity_and_vintage(quantity, 2025)
    assert [e.pointer for e in refused.value.errors] == ["#/quantity"]


def test_bad_quantity_and_vintage_are_reported_together():
    with pytest.raises(ValidationFailed) as refused:
        check_quantity_and_vintage(0, 1999)
    assert [e.pointer for e in refused.value.errors] == ["#/quantity", "#/vintage"]


def test_a_positive_quantity_in_a_valid_vintage_passes():
    check_quantity_and_vintage(1, 2100)
