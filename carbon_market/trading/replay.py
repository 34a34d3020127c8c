"""The trade checks over a market held in memory: the bulk intake's rule engine.

``POST /api/v1/trades`` checks one trade against the database (``checks.py``). A trade file
of 100,000 rows cannot afford that per row, so the intake loads what the checks read once
(accounts, holdings, unsettled trades, allocations, the days' listed volumes, the
regulators' prices: a :class:`Book`) and replays the file over it in trade-time order,
updating the book with each accepted trade exactly as recording (and, under T+0, settling)
it would update the database: the seller's units, the buyer's position, the day's close
that becomes the next day's reference price. The refusals are built by the same functions
as the single path's, so a row is refused here with the same problem as there.

No database here: plain dicts and tuples, one loop.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import NamedTuple, Protocol

from carbon_market.kernel.errors import (
    AccountNotUsable,
    DomainError,
    FieldError,
    InsufficientHolding,
    RuleViolation,
    ValidationFailed,
)
from carbon_market.ledger.enums import AccountKind, AccountStatus
from carbon_market.trading.models import TradeKind
from carbon_market.trading.rules.price_limits import band, check_price, mode_for, vwap_fen
from carbon_market.trading.rules.rulebook import Mode, Rulebook, Settlement


@dataclass(frozen=True)
class Party:
    """An account as the checks see it."""

    id: int
    number: str
    kind: AccountKind
    status: AccountStatus
    enterprise_id: int | None
    transfer_limit: int | None


class Row(NamedTuple):
    """A trade of the file, shape-checked, account numbers normalised. (Named tuples, not
    frozen dataclasses, for the rows of a file: a frozen dataclass's ``__init__`` sets each
    field through ``object.__setattr__``, four times the cost for 100,000 rows.)"""

    number: int
    external_ref: str
    kind: TradeKind
    seller: str
    buyer: str
    unit_kind: str
    vintage: int
    quantity: int
    price: Decimal
    traded_at: datetime
    day: date


class Accepted(NamedTuple):
    row: Row
    seller: Party
    buyer: Party
    reference_price: Decimal


Key = tuple[int, str, int]  # account id, unit kind, vintage


@dataclass
class Book:
    """What the checks read, as it stands before the file."""

    accounts: dict[str, Party]
    active_unit_kinds: set[str]
    #: Holding quantity less reserved units, per (account, unit kind, vintage).
    available: dict[Key, int] = field(default_factory=lambda: defaultdict(int))
    #: Holding quantity over every vintage, per (account id, unit kind).
    held: dict[tuple[int, str], int] = field(default_factory=lambda: defaultdict(int))
    #: Recorded (unsettled) trades: units promised by sellers, bought by buyers.
    pending_sales: dict[Key, int] = field(default_factory=lambda: defaultdict(int))
    pending_buys: dict[tuple[int, str], int] = field(default_factory=lambda: defaultdict(int))
    #: Units bought and settled, per (account, unit kind, vintage, trading day).
    settled_buys: dict[tuple[int, str, int, date], int] = field(
        default_factory=lambda: defaultdict(int)
    )
    #: Completed allocations, per (account, unit kind, vintage).
    allocation: dict[Key, int] = field(default_factory=lambda: defaultdict(int))
    #: Σ quantity × price (fen) and Σ quantity of each day's live listed trades.
    listed: dict[str, dict[date, tuple[int, int]]] = field(default_factory=dict)
    #: The regulators' reference prices of each unit kind, by first day.
    set_prices: dict[str, dict[date, Decimal]] = field(default_factory=dict)


# The refusals, shared with checks.py so that both paths word them alike.


class Tradeable(Protocol):
    """An account's kind and status: a :class:`Party` or the ORM's Account."""

    @property
    def kind(self) -> AccountKind: ...

    @property
    def status(self) -> AccountStatus: ...


def party_errors(
    rulebook: Rulebook, seller: Tradeable, buyer: Tradeable
) -> AccountNotUsable | None:
    errors = []
    for account, pointer in ((seller, "#/seller_account"), (buyer, "#/buyer_account")):
        if account.kind.value not in rulebook.eligible_account_kinds:
            errors.append(FieldError(pointer, f"a {account.kind} account does not trade"))
        elif account.status is not AccountStatus.OPEN:
            errors.append(FieldError(pointer, f"the account is {account.status}"))
    return AccountNotUsable("an account may not trade", errors=errors) if errors else None


def unknown_accounts(missing: list[str]) -> ValidationFailed:
    return ValidationFailed(
        "unknown account(s)",
        errors=[FieldError(pointer, "no such account", "account.unknown") for pointer in missing],
    )


def unknown_unit_kind(unit_kind: str) -> ValidationFailed:
    return ValidationFailed(
        f"unknown unit kind {unit_kind!r}",
        errors=[FieldError("#/unit_kind", "not in the unit catalogue")],
    )


def no_reference(unit_kind: str, day: date) -> RuleViolation:
    return RuleViolation(
        f"no reference price for {unit_kind} on {day}: a regulator sets the first one",
        errors=[FieldError("#/price", "no reference price", "price.no_reference")],
    )


def insufficient(
    number: str, available: int, unit_kind: str, vintage: int, quantity: int
) -> InsufficientHolding:
    return InsufficientHolding(
        f"account {number} has {max(available, 0):,} {unit_kind} units of "
        f"vintage {vintage} it may sell now, fewer than {quantity:,}",
        errors=[FieldError("#/quantity", "more than the seller may sell")],
    )


def over_limit(number: str, after: int, unit_kind: str, limit: int) -> RuleViolation:
    return RuleViolation(
        f"account {number} would hold {after:,} {unit_kind} units, above its "
        f"position limit of {limit:,}",
        errors=[FieldError("#/quantity", "over the buyer's position limit", "position.limit")],
    )


def over_transfer_limit(party: Party) -> RuleViolation:
    """The ledger's per-transfer limit, which settlement (T+0) meets."""
    return RuleViolation(
        f"account {party.number} limits one transfer to {party.transfer_limit} units",
        errors=[FieldError("#/quantity", "over the per-transfer limit")],
    )


def reference_of(
    listed: dict[date, tuple[int, int]], set_prices: dict[date, Decimal], day: date
) -> Decimal | None:
    """As ``checks.reference_price``: the close of the last earlier day with listed trades,
    unless a regulator set a price on a later day (up to ``day``)."""
    last_day = max((d for d, (_t, volume) in listed.items() if d < day and volume), default=None)
    set_day = max((d for d in set_prices if d <= day), default=None)
    if set_day is not None and (last_day is None or set_day > last_day):
        return set_prices[set_day]
    if last_day is None:
        return None
    turnover, volume = listed[last_day]
    return Decimal(vwap_fen(turnover, volume)).scaleb(-2)


class Replay:
    """Check rows one after the other against a :class:`Book`, updating it."""

    def __init__(self, book: Book, rulebook: Rulebook) -> None:
        self.book = book
        self.rulebook = rulebook
        self._references: dict[tuple[str, date], Decimal | None] = {}
        #: Pairs of parties already found eligible, and each band's edges by reference
        #: price: the same few accounts and prices recur throughout a file.
        self._eligible: set[tuple[int, int]] = set()
        self._bands: dict[tuple[Decimal, Decimal], tuple[Decimal, Decimal]] = {}
        self._fen: dict[Decimal, int] = {}
        # Read once: an enum member is a descriptor lookup each time (0.5 s a 100,000 rows).
        self._settles = rulebook.settlement is Settlement.T0
        self._modes = {kind.value: rulebook.mode(kind.value) for kind in TradeKind}
        self._listed = TradeKind.LISTED
        self._covered = AccountKind.ENTERPRISE_COMPLIANCE

    def _reference(self, unit_kind: str, day: date) -> Decimal | None:
        key = (unit_kind, day)
        if key not in self._references:
            self._references[key] = reference_of(
                self.book.listed.get(unit_kind, {}), self.book.set_prices.get(unit_kind, {}), day
            )
        return self._references[key]

    def _limit(self, buyer: Party, unit_kind: str, vintage: int) -> int | None:
        limits = self.rulebook.position_limits
        if unit_kind not in limits.unit_kinds:
            return None
        if buyer.kind is self._covered:
            return self.book.allocation[(buyer.id, unit_kind, vintage)] + limits.covered_extra
        return limits.other_limit

    def _check_price(self, price: Decimal, reference: Decimal, mode: Mode) -> None:
        """``check_price``, with the band's edges computed once per reference price."""
        if mode.band is None:
            return
        key = (reference, mode.band)
        edges = self._bands.get(key)
        if edges is None:
            edges = self._bands[key] = band(reference, mode.band)
        if not edges[0] <= price <= edges[1]:
            check_price(price, reference, mode)  # raises, worded as the single path

    def check(self, row: Row) -> Accepted:
        """The row's trade, or the DomainError recording it would raise (in the same order
        of checks as ``service.record_trade``)."""
        book = self.book
        seller, buyer = book.accounts.get(row.seller), book.accounts.get(row.buyer)
        if seller is None or buyer is None:
            raise unknown_accounts(
                [p for p, a in (("#/seller_account", seller), ("#/buyer_account", buyer)) if not a]
            )
        if (seller.id, buyer.id) not in self._eligible:  # the book's parties never change
            refused = party_errors(self.rulebook, seller, buyer)
            if refused:
                raise refused
            self._eligible.add((seller.id, buyer.id))
        if row.unit_kind not in book.active_unit_kinds:
            raise unknown_unit_kind(row.unit_kind)
        mode = self._modes.get(row.kind)
        if mode is None or not mode.admits(row.quantity):
            mode = mode_for(self.rulebook, row.kind.value, row.quantity)  # raises, worded
        reference = self._reference(row.unit_kind, row.day)
        if reference is None:
            raise no_reference(row.unit_kind, row.day)
        self._check_price(row.price, reference, mode)
        units = (seller.id, row.unit_kind, row.vintage)
        available = book.available[units] - book.pending_sales[units]
        if self.rulebook.no_same_day_resale:
            available -= book.settled_buys[(*units, row.day)]
        if row.quantity > available:
            raise insufficient(seller.number, available, row.unit_kind, row.vintage, row.quantity)
        limit = self._limit(buyer, row.unit_kind, row.vintage)
        position = (buyer.id, row.unit_kind)
        after = book.held[position] + book.pending_buys[position] + row.quantity
        if limit is not None and after > limit:
            raise over_limit(buyer.number, after, row.unit_kind, limit)
        if (
            self._settles
            and seller.transfer_limit is not None
            and row.quantity > seller.transfer_limit
        ):
            raise over_transfer_limit(seller)
        return Accepted(row, seller, buyer, reference)

    def apply(self, trade: Accepted) -> None:
        """What recording (and under T+0 settling) the trade changes in the book."""
        book, row, q = self.book, trade.row, trade.row.quantity
        sold = (trade.seller.id, row.unit_kind, row.vintage)
        bought = (trade.buyer.id, row.unit_kind, row.vintage)
        if self._settles:
            book.available[sold] -= q
            book.available[bought] += q
            book.held[(trade.seller.id, row.unit_kind)] -= q
            book.held[(trade.buyer.id, row.unit_kind)] += q
            book.settled_buys[(*bought, row.day)] += q
        else:
            book.pending_sales[sold] += q
            book.pending_buys[(trade.buyer.id, row.unit_kind)] += q
        if row.kind is self._listed:
            days = book.listed.setdefault(row.unit_kind, {})
            turnover, volume = days.get(row.day, (0, 0))
            fen = self._fen.get(row.price)
            if fen is None:
                fen = self._fen[row.price] = int(row.price * 100)
            days[row.day] = (turnover + q * fen, volume + q)
            for key in [k for k in self._references if k[0] == row.unit_kind and k[1] > row.day]:
                del self._references[key]


def replay(
    book: Book, rulebook: Rulebook, rows: list[Row]
) -> tuple[list[Accepted], list[tuple[int, DomainError]]]:
    """Check ``rows`` in the order given (trade time); the accepted trades and each refused
    row's number with its refusal. A refused row changes nothing for the later ones."""
    engine = Replay(book, rulebook)
    accepted: list[Accepted] = []
    refused: list[tuple[int, DomainError]] = []
    for row in rows:
        try:
            trade = engine.check(row)
        except DomainError as exc:
            refused.append((row.number, exc))
            continue
        engine.apply(trade)
        accepted.append(trade)
    return accepted, refused
