"""The ledger's vocabulary: the kinds and statuses of accounts and transactions.

Enumerations only, no logic and no database: the models store them, and the pure rules
(``rules.py``) reason about them without importing the models.
"""

from __future__ import annotations

import enum


class AccountKind(enum.StrEnum):
    GOVERNMENT_ISSUANCE = "government_issuance"
    GOVERNMENT_RESERVE = "government_reserve"
    AUCTION = "auction"
    ENTERPRISE_COMPLIANCE = "enterprise_compliance"
    TRADING = "trading"
    RETIREMENT = "retirement"


#: Accounts the government holds: moving units out of them needs a second regulator.
GOVERNMENT_KINDS = frozenset(
    {AccountKind.GOVERNMENT_ISSUANCE, AccountKind.GOVERNMENT_RESERVE, AccountKind.AUCTION}
)


#: The two digits after ``BJ`` in an account number tell its kind at a glance.
KIND_CODES: dict[AccountKind, str] = {
    AccountKind.GOVERNMENT_ISSUANCE: "01",
    AccountKind.GOVERNMENT_RESERVE: "02",
    AccountKind.AUCTION: "03",
    AccountKind.ENTERPRISE_COMPLIANCE: "10",
    AccountKind.TRADING: "20",
    AccountKind.RETIREMENT: "90",
}


class AccountStatus(enum.StrEnum):
    OPEN = "open"
    BLOCKED = "blocked"
    CLOSED = "closed"


class TransactionKind(enum.StrEnum):
    ISSUANCE = "issuance"
    ALLOCATION = "allocation"
    TRANSFER = "transfer"
    TRADE_SETTLEMENT = "trade_settlement"
    AUCTION_SETTLEMENT = "auction_settlement"
    SURRENDER = "surrender"
    RETIREMENT = "retirement"
    CANCELLATION = "cancellation"
    REVERSAL = "reversal"


class TransactionStatus(enum.StrEnum):
    PENDING_APPROVAL = "pending_approval"
    #: Approved, to an account not on the source's trusted list: waits out the delay.
    DELAYED = "delayed"
    COMPLETED = "completed"
    REJECTED = "rejected"
    CANCELLED = "cancelled"
    EXPIRED = "expired"


#: Statuses whose units are still reserved at the source.
OPEN_STATUSES = frozenset({TransactionStatus.PENDING_APPROVAL, TransactionStatus.DELAYED})
