"""Registry accounts, holdings, ledger transactions and their postings, trusted accounts,
idempotency records and the hash-chain head."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    String,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, backref, mapped_column, relationship

from carbon_market.kernel.db import Base, enum_column_type
from carbon_market.kernel.types import BigId
from carbon_market.ledger.enums import (
    GOVERNMENT_KINDS,
    AccountKind,
    AccountStatus,
    TransactionKind,
    TransactionStatus,
)

if TYPE_CHECKING:
    from carbon_market.emitters.models import Enterprise


class Account(Base):
    __tablename__ = "account"
    __table_args__ = (
        UniqueConstraint("enterprise_id", "kind"),
        CheckConstraint(
            "kind != 'enterprise_compliance' OR enterprise_id IS NOT NULL",
            name="compliance_has_owner",
        ),
        CheckConstraint("transfer_limit IS NULL OR transfer_limit > 0", name="limit_positive"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    number: Mapped[str] = mapped_column(String(16), unique=True)
    kind: Mapped[AccountKind] = mapped_column(enum_column_type(AccountKind))
    enterprise_id: Mapped[int | None] = mapped_column(
        BigId, ForeignKey("enterprise.id", ondelete="RESTRICT"), index=True
    )
    #: Who holds it when no enterprise does (the bureau, a trading participant).
    holder_name: Mapped[str | None] = mapped_column(String(200))
    status: Mapped[AccountStatus] = mapped_column(enum_column_type(AccountStatus))
    #: Largest quantity one transfer out of this account may move; None: no limit.
    transfer_limit: Mapped[int | None] = mapped_column(BigInteger)
    opened_at: Mapped[datetime]
    closed_at: Mapped[datetime | None]

    #: Loaded with the account because every response names the owner.
    enterprise: Mapped[Enterprise | None] = relationship(
        "Enterprise", foreign_keys=[enterprise_id], viewonly=True, lazy="selectin"
    )
    #: The same owner, for compliance accounts only; its backref ``Enterprise.
    #: compliance_account`` (loaded with the enterprise, one extra query per list, because
    #: every enterprise response names its account) is how the registry, which sits below
    #: the ledger and cannot import it, shows the account the ledger opened for it.
    compliance_owner: Mapped[Enterprise | None] = relationship(
        "Enterprise",
        primaryjoin="and_(Account.enterprise_id == Enterprise.id, "
        "Account.kind == 'enterprise_compliance')",
        foreign_keys=[enterprise_id],
        viewonly=True,
        backref=backref("compliance_account", uselist=False, viewonly=True, lazy="selectin"),
    )

    @property
    def owner(self) -> str:
        """The owning enterprise's credit code, or who holds a government or trading account."""
        if self.enterprise is not None:
            return self.enterprise.credit_code
        if self.kind in GOVERNMENT_KINDS or self.kind is AccountKind.RETIREMENT:
            return "government"
        return self.holder_name or ""


class UnitKind(Base):
    """The unit catalogue: allowance, CCER, local offset (configurable)."""

    __tablename__ = "unit_kind"

    code: Mapped[str] = mapped_column(String(32), primary_key=True)
    label_zh: Mapped[str] = mapped_column(String(64))
    label_en: Mapped[str] = mapped_column(String(64))
    is_offset: Mapped[bool] = mapped_column(default=False)
    is_active: Mapped[bool] = mapped_column(default=True)
    #: Units of vintage V stay valid through the end of year V + validity_years - 1 and the
    #: ``unit_expiry`` job cancels them on 1 January of year V + validity_years. None: the
    #: kind never expires (no shipped kind does; docs/scheduler.md says why).
    validity_years: Mapped[int | None] = mapped_column(Integer)


class Holding(Base):
    """Units of one kind and vintage in one account; ``reserved`` of them are promised to
    pending transfers. Always the sum of the account's postings (``ledger verify`` checks)."""

    __tablename__ = "holding"
    __table_args__ = (
        CheckConstraint("reserved >= 0", name="reserved_non_negative"),
        # The issuance account goes negative by what was issued; nothing else ever may,
        # and reserved units must be covered.
        CheckConstraint("is_issuance OR quantity - reserved >= 0", name="covered"),
        CheckConstraint("vintage BETWEEN 2000 AND 2100", name="vintage_range"),
    )

    account_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("account.id", ondelete="RESTRICT"), primary_key=True
    )
    unit_kind: Mapped[str] = mapped_column(ForeignKey("unit_kind.code"), primary_key=True)
    vintage: Mapped[int] = mapped_column(Integer, primary_key=True)
    quantity: Mapped[int] = mapped_column(BigInteger, default=0)
    reserved: Mapped[int] = mapped_column(BigInteger, default=0)
    is_issuance: Mapped[bool] = mapped_column(default=False)


LIVE_REVERSAL = "reverses_id IS NOT NULL AND status IN ('pending_approval', 'delayed', 'completed')"


class LedgerTransaction(Base):
    __tablename__ = "ledger_transaction"
    __table_args__ = (
        CheckConstraint("quantity > 0", name="quantity_positive"),
        CheckConstraint(
            "(status = 'completed') = (seq IS NOT NULL AND hash IS NOT NULL)", name="chained"
        ),
        Index("ix_ledger_transaction_status_created_at", "status", "created_at"),
        # A transaction is reversed at most once; a reversal that was rejected, cancelled or
        # expired does not count, so the regulators may try again.
        Index(
            "uq_ledger_transaction_live_reversal",
            "reverses_id",
            unique=True,
            sqlite_where=text(LIVE_REVERSAL),
            postgresql_where=text(LIVE_REVERSAL),
        ),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    uuid: Mapped[str] = mapped_column(String(36), unique=True)
    kind: Mapped[TransactionKind] = mapped_column(enum_column_type(TransactionKind))
    status: Mapped[TransactionStatus] = mapped_column(enum_column_type(TransactionStatus))
    from_account_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("account.id", ondelete="RESTRICT"), index=True
    )
    to_account_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("account.id", ondelete="RESTRICT"), index=True
    )
    unit_kind: Mapped[str] = mapped_column(ForeignKey("unit_kind.code"))
    vintage: Mapped[int] = mapped_column(Integer)
    quantity: Mapped[int] = mapped_column(BigInteger)
    memo: Mapped[str] = mapped_column(String(500), default="")
    initiated_by: Mapped[str] = mapped_column(String(64))
    initiator_user_id: Mapped[int | None] = mapped_column(BigId)
    decided_by: Mapped[str | None] = mapped_column(String(64))
    decider_user_id: Mapped[int | None] = mapped_column(BigId)
    created_at: Mapped[datetime]
    decided_at: Mapped[datetime | None]
    #: Pending transfers lapse at this time if nobody approved them.
    expires_at: Mapped[datetime | None]
    #: Delayed transfers complete at this time unless cancelled.
    execute_after: Mapped[datetime | None]
    completed_at: Mapped[datetime | None]
    reverses_id: Mapped[int | None] = mapped_column(
        BigId, ForeignKey("ledger_transaction.id", ondelete="RESTRICT")
    )
    request_id: Mapped[str | None] = mapped_column(String(64))

    source: Mapped[Account] = relationship(
        foreign_keys=[from_account_id], viewonly=True, lazy="selectin"
    )
    destination: Mapped[Account] = relationship(
        foreign_keys=[to_account_id], viewonly=True, lazy="selectin"
    )
    #: Position in the hash chain (completed transactions only) and the chain's hashes.
    seq: Mapped[int | None] = mapped_column(BigInteger, unique=True)
    prev_hash: Mapped[str | None] = mapped_column(String(64))
    hash: Mapped[str | None] = mapped_column(String(64))


class Posting(Base):
    """One leg of a completed transaction. Append-only, like the transaction itself."""

    __tablename__ = "posting"
    __table_args__ = (
        CheckConstraint("quantity != 0", name="quantity_non_zero"),
        Index("ix_posting_account", "account_id", "unit_kind", "vintage", "id"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    transaction_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("ledger_transaction.id", ondelete="RESTRICT"), index=True
    )
    account_id: Mapped[int] = mapped_column(BigId, ForeignKey("account.id", ondelete="RESTRICT"))
    unit_kind: Mapped[str] = mapped_column(ForeignKey("unit_kind.code"))
    vintage: Mapped[int] = mapped_column(Integer)
    quantity: Mapped[int] = mapped_column(BigInteger)


#: The rows of ``ledger_chain_head`` that migration 0009 seeds: the hash chain's
#: ``CHAIN_STRIPES`` (``posting/chain.py``, pure, which models do not import; a unit test
#: holds the two equal).
CHAIN_HEADS = 8


class ChainHead(Base):
    """The head of one of the hash chains (``id`` 1..CHAIN_HEADS): the row that serialises
    appends to that chain. ``seq`` is its last sequence number (its block's base while
    empty) and ``hash`` the last entry's hash."""

    __tablename__ = "ledger_chain_head"
    __table_args__ = (CheckConstraint(f"id BETWEEN 1 AND {CHAIN_HEADS}", name="stripe_in_range"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    seq: Mapped[int] = mapped_column(BigInteger, default=0)
    hash: Mapped[str] = mapped_column(String(64))


class TrustStatus(enum.StrEnum):
    PENDING = "pending"
    ACTIVE = "active"
    REJECTED = "rejected"


class TrustedAccount(Base):
    """An entry of an account's trusted-account list: transfers to it are not delayed."""

    __tablename__ = "trusted_account"
    __table_args__ = (UniqueConstraint("account_id", "trusted_account_id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    account_id: Mapped[int] = mapped_column(BigId, ForeignKey("account.id", ondelete="RESTRICT"))
    trusted_account_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("account.id", ondelete="RESTRICT")
    )
    status: Mapped[TrustStatus] = mapped_column(enum_column_type(TrustStatus))
    requested_by: Mapped[str] = mapped_column(String(64))
    requester_user_id: Mapped[int | None] = mapped_column(BigId)
    decided_by: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime]
    decided_at: Mapped[datetime | None]

    trusted: Mapped[Account] = relationship(
        foreign_keys=[trusted_account_id], viewonly=True, lazy="selectin"
    )


class IdempotencyRecord(Base):
    """A request key seen from one client, and the response it got (replayed on retry)."""

    __tablename__ = "idempotency_record"
    __table_args__ = (UniqueConstraint("client", "key"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    client: Mapped[str] = mapped_column(String(64))
    key: Mapped[str] = mapped_column(String(255))
    request_hash: Mapped[str] = mapped_column(String(64))
    is_complete: Mapped[bool] = mapped_column(default=False)
    response: Mapped[dict[str, Any] | None]
    created_at: Mapped[datetime]
