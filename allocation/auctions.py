"""The auction workflow: open, sealed bids inside the window, clearing, settlement.

A regulator opens an auction of units that the auction account holds (or will hold by
settlement). Covered enterprises bid for their compliance account while the window is open,
each within the per-bidder limit summed over its bids; a bid is sealed: its bidder sees
it, other bidders never do, and regulators and auditors only once the window has closed.
While the window is open a bidder may withdraw its own bid: the row stays (``withdrawn``,
for the audit trail) but counts neither towards the limit nor in the clearing, and the
bidder may bid again; after the close a bid is firm. After the close a regulator clears
the auction with the pure rule of :mod:`allocation.rules.clearing` and the awards and amounts due
are written on the bids; settlement then moves each award from the auction account to the
bidder's account (an ``auction_settlement`` transaction, posted by the system actor: the
terms were public and the clearing is mechanical) and writes the transaction on the bid in
the same unit of work.
Clearing or settling twice changes and moves nothing the second time.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from allocation.models import (
    MAX_AUCTION_PRICE,
    MAX_AUCTION_VOLUME,
    AllocationPlan,
    Auction,
    AuctionBid,
    AuctionStatus,
    BidStatus,
    PlanStatus,
)
from allocation.rules.clearing import Bid, clear_auction
from carbon_market.emitters.enums import EnterpriseStatus
from carbon_market.emitters.models import Enterprise
from carbon_market.kernel.access.policy import authorize, tenant_scope
from carbon_market.kernel.access.roles import Actor
from carbon_market.kernel.audit.service import record, snapshot
from carbon_market.kernel.clock import SHANGHAI
from carbon_market.kernel.db import clock_of, transactional
from carbon_market.kernel.errors import (
    Conflict,
    FieldError,
    FourEyesViolation,
    InsufficientHolding,
    NotFound,
    RuleViolation,
    ValidationFailed,
)
from carbon_market.kernel.pagination import Page, PageRequest, paginate
from carbon_market.ledger import transactions as ledger
from carbon_market.ledger.accounts.service import GOVERNMENT_ACCOUNTS, compliance_account_of
from carbon_market.ledger.enums import AccountKind, AccountStatus, TransactionKind
from carbon_market.ledger.models import Account, Holding, UnitKind

AUCTION_ACCOUNT = GOVERNMENT_ACCOUNTS[AccountKind.AUCTION]
AUDITED = [
    "status", "year", "unit_kind", "vintage", "volume", "reserve_price", "bidder_limit",
    "opens_at", "closes_at", "clearing_price", "sold",
]  # fmt: skip
#: Enterprises that may not bid: a suspended one may not trade, an exited one is gone.
NOT_ELIGIBLE = frozenset({EnterpriseStatus.SUSPENDED, EnterpriseStatus.EXITED})


@dataclass(frozen=True)
class SettleSummary:
    auction_id: int
    #: Bids settled by this call, the units they moved and the cash they owe.
    settled: int
    units: int
    amount_due: Decimal
    #: Bids settled before this call (a repeat).
    already_settled: int


def _local(at: datetime) -> str:
    """An instant as people in the market read it (Beijing time)."""
    return at.astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M %Z")


def _places(value: Decimal) -> int:
    exponent = value.as_tuple().exponent
    return -exponent if isinstance(exponent, int) and exponent < 0 else 0


PRICE_RULE = f"must be positive, below {MAX_AUCTION_PRICE}, at most two places"


def _is_price(value: Decimal) -> bool:
    """A reserve price or a bid the columns hold (see ``MAX_AUCTION_PRICE``): checked here,
    not only by the API's schema, so the command line (which may pass NaN) is held to it."""
    return value.is_finite() and 0 < value < MAX_AUCTION_PRICE and _places(value) <= 2


def _plan_budget(session: Session, plan: AllocationPlan) -> int:
    """Units the plan's auctioned share leaves for new auctions: floor(cap × share) less the
    volumes of the plan's auctions so far."""
    budget = int(plan.cap * plan.auction_share)  # int() truncates: the floor of a positive
    used = session.scalar(
        select(func.coalesce(func.sum(Auction.volume), 0)).where(Auction.plan_id == plan.id)
    )
    return budget - int(used or 0)


def _check_terms(
    session: Session,
    *,
    unit_kind: str,
    volume: int,
    reserve_price: Decimal,
    bidder_limit: int,
    opens_at: datetime,
    closes_at: datetime,
) -> list[FieldError]:
    errors = []
    if session.get(UnitKind, unit_kind) is None:
        errors.append(FieldError("#/unit_kind", "not in the unit catalogue"))
    if not 0 < volume <= MAX_AUCTION_VOLUME:
        errors.append(FieldError("#/volume", f"must be from 1 to {MAX_AUCTION_VOLUME} units"))
    if not _is_price(reserve_price):
        errors.append(FieldError("#/reserve_price", PRICE_RULE))
    if not 0 < bidder_limit <= min(max(volume, 0), MAX_AUCTION_VOLUME):
        errors.append(FieldError("#/bidder_limit", "must be between 1 and the volume"))
    if closes_at <= opens_at:
        errors.append(FieldError("#/closes_at", "must be after opens_at"))
    elif closes_at <= clock_of(session).now():
        errors.append(FieldError("#/closes_at", "is already past"))
    return errors


@transactional
def open_auction(
    session: Session,
    actor: Actor,
    *,
    volume: int,
    reserve_price: Decimal,
    bidder_limit: int,
    opens_at: datetime,
    closes_at: datetime,
    plan_id: int | None = None,
    year: int | None = None,
    unit_kind: str = "allowance",
    vintage: int | None = None,
) -> Auction:
    """Open an auction (regulators). With ``plan_id`` (an approved or issued plan) the year
    is the plan's and the volumes of the plan's auctions together stay within floor(cap ×
    auction_share); without, ``year`` is required. ``vintage`` defaults to the year.
    Raises NotFound, ValidationFailed (every bad term, with pointers), Conflict (a draft
    plan) and RuleViolation (over the plan's auctioned share)."""
    authorize(actor, "auction.manage")
    plan = None
    if plan_id is not None:
        # Locked: the plan's auctioned share is checked against its auctions so far, and
        # two openings must not both pass that check on the same volumes.
        plan = session.get(AllocationPlan, plan_id, with_for_update=True)
        if plan is None:
            raise NotFound(f"allocation plan {plan_id} does not exist")
        if plan.status is PlanStatus.DRAFT:
            raise Conflict(f"plan {plan_id} is a draft: auction the units of an approved plan")
        if year is not None and year != plan.year:
            raise ValidationFailed(
                f"plan {plan_id} is for {plan.year}, not {year}",
                errors=[FieldError("#/year", "differs from the plan's year")],
            )
        year = plan.year
    if year is None:
        raise ValidationFailed(
            "an auction needs a plan or a year", errors=[FieldError("#/year", "required")]
        )
    errors = _check_terms(
        session,
        unit_kind=unit_kind,
        volume=volume,
        reserve_price=reserve_price,
        bidder_limit=bidder_limit,
        opens_at=opens_at,
        closes_at=closes_at,
    )
    if errors:
        raise ValidationFailed("the auction's terms are not valid", errors=errors)
    if plan is not None:
        left = _plan_budget(session, plan)
        if volume > left:
            raise RuleViolation(
                f"plan {plan.id} leaves {left} units for auction (cap × auction share less "
                f"its earlier auctions); {volume} asked",
                errors=[FieldError("#/volume", "over the plan's auctioned share")],
            )
    now = clock_of(session).now()
    auction = Auction(
        plan_id=plan_id,
        year=year,
        unit_kind=unit_kind,
        vintage=vintage if vintage is not None else year,
        volume=volume,
        reserve_price=reserve_price,
        bidder_limit=bidder_limit,
        opens_at=opens_at,
        closes_at=closes_at,
        status=AuctionStatus.OPEN,
        created_at=now,
        created_by=actor.name,
        created_by_user_id=actor.user_id,
    )
    session.add(auction)
    session.flush()  # the audit event names the auction by its id
    record(
        session,
        actor,
        action="auction:open",
        entity_type="allocation_auction",
        entity_id=auction.id,
        after=snapshot(auction, AUDITED),
    )
    return auction


def get_auction(session: Session, actor: Actor, auction_id: int) -> Auction:
    """An auction's terms and, once cleared, its price and units sold (every bidder may
    read them: they are public)."""
    authorize(actor, "auction.read")
    auction = session.get(Auction, auction_id)
    if auction is None:
        raise NotFound(f"auction {auction_id} does not exist")
    return auction


def list_auctions(
    session: Session,
    actor: Actor,
    *,
    page: PageRequest,
    year: int | None = None,
    status: AuctionStatus | None = None,
) -> Page[Auction]:
    authorize(actor, "auction.read")
    query = select(Auction)
    if year is not None:
        query = query.where(Auction.year == year)
    if status is not None:
        query = query.where(Auction.status == status)
    return paginate(session, query.order_by(Auction.id), page)


def _locked(session: Session, auction_id: int) -> Auction:
    auction = session.scalar(select(Auction).where(Auction.id == auction_id).with_for_update())
    if auction is None:
        raise NotFound(f"auction {auction_id} does not exist")
    return auction


def _bidder_account(session: Session, actor: Actor) -> Account:
    """The compliance account the actor's enterprise bids for, if it may bid at all."""
    enterprise = session.get(Enterprise, actor.enterprise_id)
    if enterprise is None or enterprise.status in NOT_ELIGIBLE:
        raise RuleViolation(
            "only covered enterprises that are not suspended or exited may bid",
            errors=[FieldError("#/", "not eligible")],
        )
    account = compliance_account_of(session, enterprise.id)
    if account is None or account.status is not AccountStatus.OPEN:
        raise RuleViolation(
            "the enterprise's compliance account is not open: it cannot receive units",
            errors=[FieldError("#/", "no open compliance account")],
        )
    return account


def _check_window(auction: Auction, now: datetime) -> None:
    if auction.status is not AuctionStatus.OPEN:
        raise Conflict(f"auction {auction.id} is {auction.status}: bidding is over")
    if now < auction.opens_at:
        raise RuleViolation(
            f"the bid window of auction {auction.id} opens at {_local(auction.opens_at)}",
            errors=[FieldError("#/", "before the bid window")],
        )
    if now >= auction.closes_at:
        raise RuleViolation(
            f"the bid window of auction {auction.id} closed at {_local(auction.closes_at)}",
            errors=[FieldError("#/", "after the bid window")],
        )


def _check_bid(
    session: Session, auction: Auction, enterprise_id: int, price: Decimal, quantity: int
) -> None:
    errors = []
    if not _is_price(price):
        errors.append(FieldError("#/price", PRICE_RULE))
    if quantity <= 0:
        errors.append(FieldError("#/quantity", "must be a positive number of units"))
    if errors:
        raise ValidationFailed("the bid is not valid", errors=errors)
    if price < auction.reserve_price:
        raise RuleViolation(
            f"the reserve price is {auction.reserve_price}: a bid of {price} could never win",
            errors=[FieldError("#/price", "below the reserve price")],
        )
    asked = session.scalar(
        select(func.coalesce(func.sum(AuctionBid.quantity), 0)).where(
            AuctionBid.auction_id == auction.id,
            AuctionBid.enterprise_id == enterprise_id,
            AuctionBid.status == BidStatus.SUBMITTED,
        )
    )
    if int(asked or 0) + quantity > auction.bidder_limit:
        raise RuleViolation(
            f"a bidder may ask for {auction.bidder_limit} units in auction {auction.id}; your "
            f"bids ask for {asked} already",
            errors=[FieldError("#/quantity", "over the per-bidder limit")],
        )


@transactional
def submit_bid(
    session: Session, actor: Actor, auction_id: int, *, price: Decimal, quantity: int
) -> AuctionBid:
    """Submit a sealed bid for the actor's enterprise (enterprise users with the initiator
    capability), inside the window and within the per-bidder limit. The auction row is
    locked, so two bids of one bidder cannot both slip under the limit. Raises NotFound,
    Conflict (cleared), RuleViolation (outside the window, below the reserve, over the
    limit, not eligible), ValidationFailed and FourEyesViolation (no initiator capability)."""
    authorize(actor, "auction.bid")
    if not actor.can_initiate:
        raise FourEyesViolation("you do not have the initiator capability")
    auction = _locked(session, auction_id)
    now = clock_of(session).now()
    _check_window(auction, now)
    account = _bidder_account(session, actor)
    _check_bid(session, auction, account.enterprise_id or 0, price, quantity)
    bid = AuctionBid(
        auction_id=auction.id,
        enterprise_id=account.enterprise_id,
        account_id=account.id,
        price=price,
        quantity=quantity,
        submitted_at=now,
        submitted_by=actor.name,
        submitted_by_user_id=actor.user_id,
    )
    session.add(bid)
    session.flush()  # the bid's id is its place in the order of arrival, and the audit's key
    record(
        session,
        actor,
        action="auction:bid",
        entity_type="allocation_auction",
        entity_id=auction.id,
        # Not the price or the quantity: the audit log is readable by regulators and
        # auditors while the window is open, and a sealed bid must stay sealed until it
        # closes. The bid row itself (never edited, only withdrawn) keeps both.
        after={"bid": bid.id, "enterprise_id": bid.enterprise_id},
    )
    return bid


@transactional
def withdraw_bid(session: Session, actor: Actor, auction_id: int, bid_id: int) -> AuctionBid:
    """Withdraw one's own enterprise's bid while the window is open (enterprise users with
    the initiator capability). The bid is kept, ``withdrawn``: it no longer counts towards
    the per-bidder limit or in the clearing. Another enterprise's bid is 404, like a missing
    one. The auction row is locked, as for a bid, so a withdrawal and a bid of the same
    bidder see each other. Raises NotFound, Conflict (cleared; already withdrawn),
    RuleViolation (outside the window) and FourEyesViolation (no initiator capability)."""
    authorize(actor, "auction.bid")
    if not actor.can_initiate:
        raise FourEyesViolation("you do not have the initiator capability")
    auction = _locked(session, auction_id)
    bid = session.scalar(
        select(AuctionBid).where(
            AuctionBid.id == bid_id,
            AuctionBid.auction_id == auction.id,
            AuctionBid.enterprise_id == actor.enterprise_id,
        )
    )
    if bid is None:
        raise NotFound(f"auction {auction_id} has no bid {bid_id} of yours")
    now = clock_of(session).now()
    _check_window(auction, now)
    if bid.status is BidStatus.WITHDRAWN:
        raise Conflict(f"bid {bid_id} is already withdrawn")
    bid.status, bid.withdrawn_at, bid.withdrawn_by = BidStatus.WITHDRAWN, now, actor.name
    record(
        session,
        actor,
        action="auction:withdraw_bid",
        entity_type="allocation_auction",
        entity_id=auction.id,
        # Sealed like the bid itself: neither its price nor its quantity (see submit_bid).
        after={"bid": bid.id, "enterprise_id": bid.enterprise_id, "status": bid.status},
    )
    return bid


def list_bids(
    session: Session, actor: Actor, auction_id: int, *, page: PageRequest
) -> Page[AuctionBid]:
    """The auction's bids: an enterprise user sees its own enterprise's only; regulators and
    auditors see them all once the window has closed (until then they are sealed)."""
    authorize(actor, "auction.bids")
    auction = get_auction(session, actor, auction_id)
    query = select(AuctionBid).where(AuctionBid.auction_id == auction_id)
    scope = tenant_scope(actor)
    if scope is not None:
        query = query.where(AuctionBid.enterprise_id == scope)
    elif clock_of(session).now() < auction.closes_at:
        raise Conflict(
            f"the bids of auction {auction_id} are sealed until {_local(auction.closes_at)}"
        )
    return paginate(session, query.order_by(AuctionBid.id), page)


@transactional
def clear(session: Session, actor: Actor, auction_id: int) -> Auction:
    """Clear a closed auction (regulators): the awards and amounts due are written on the
    bids, the price and units sold on the auction. Clearing again changes nothing. Raises
    NotFound and Conflict (the window has not closed)."""
    authorize(actor, "auction.manage")
    auction = _locked(session, auction_id)
    if auction.status is not AuctionStatus.OPEN:
        return auction
    now = clock_of(session).now()
    if now < auction.closes_at:
        raise Conflict(
            f"auction {auction_id}'s bid window closes at {_local(auction.closes_at)}: "
            "clear it after"
        )
    bids = list(
        session.scalars(
            select(AuctionBid)
            .where(AuctionBid.auction_id == auction_id, AuctionBid.status == BidStatus.SUBMITTED)
            .order_by(AuctionBid.id)
        )
    )
    outcome = clear_auction(
        [Bid(str(b.enterprise_id), b.price, b.quantity, b.id) for b in bids],
        volume=auction.volume,
        reserve_price=auction.reserve_price,
    )
    awarded = {award.bid.sequence: award.quantity for award in outcome.awards}
    price = outcome.price if outcome.price is not None else Decimal(0)
    for bid in bids:
        bid.awarded = awarded.get(bid.id, 0)
        bid.amount_due = bid.awarded * price
    auction.status, auction.cleared_at, auction.cleared_by = AuctionStatus.CLEARED, now, actor.name
    auction.clearing_price, auction.sold = outcome.price, outcome.sold
    record(
        session,
        actor,
        action="auction:clear",
        entity_type="allocation_auction",
        entity_id=auction.id,
        after={**snapshot(auction, AUDITED), "bids": len(bids), "winning_bids": len(awarded)},
    )
    return auction


def _auction_holds(session: Session, auction: Auction) -> int:
    held = session.scalar(
        select(Holding.quantity - Holding.reserved)
        .join(Account, Account.id == Holding.account_id)
        .where(Account.number == AUCTION_ACCOUNT, Holding.unit_kind == auction.unit_kind)
        .where(Holding.vintage == auction.vintage)
    )
    return int(held or 0)


@transactional
def settle(session: Session, actor: Actor, auction_id: int) -> SettleSummary:
    """Move every award from the auction account to its bidder's account (regulators), one
    ``auction_settlement`` transaction per winning bid, all in one unit of work. Settling
    again moves nothing. Raises NotFound, Conflict (not cleared yet) and
    InsufficientHolding (the auction account does not hold the units sold; nothing moves)."""
    authorize(actor, "auction.manage")
    auction = _locked(session, auction_id)
    if auction.status is AuctionStatus.OPEN:
        raise Conflict(f"auction {auction_id} is not cleared yet: clear it first")
    rows = session.execute(
        select(AuctionBid, Account.number)
        .join(Account, Account.id == AuctionBid.account_id)
        .where(AuctionBid.auction_id == auction_id, AuctionBid.awarded > 0)
        .order_by(AuctionBid.id)
    ).all()
    pending = [(bid, number) for bid, number in rows if bid.settlement_tx_id is None]
    already = len(rows) - len(pending)
    units = sum(int(bid.awarded or 0) for bid, _ in pending)
    if units and _auction_holds(session, auction) < units:
        raise InsufficientHolding(
            f"the auction account holds {_auction_holds(session, auction)} units of "
            f"{auction.unit_kind} {auction.vintage}; settling auction {auction_id} needs "
            f"{units}: move them there first",
            errors=[FieldError("#/auction", "the auction account does not cover the awards")],
        )
    system = Actor.system(name=f"system:auction:{actor.name}", request_id=actor.request_id)
    due = Decimal("0.00")
    for bid, number in pending:
        tx = ledger.request_transfer(
            session,
            system,
            from_account=AUCTION_ACCOUNT,
            to_account=number,
            unit_kind=auction.unit_kind,
            vintage=auction.vintage,
            quantity=int(bid.awarded or 0),
            memo=f"auction {auction.id}, bid {bid.id} at {auction.clearing_price}",
            kind=TransactionKind.AUCTION_SETTLEMENT,
        )
        bid.settlement_tx_id = tx.id
        due += bid.amount_due or 0
    if auction.status is AuctionStatus.CLEARED:
        auction.status, auction.settled_at = AuctionStatus.SETTLED, clock_of(session).now()
        record(
            session,
            actor,
            action="auction:settle",
            entity_type="allocation_auction",
            entity_id=auction.id,
            after={"bids": len(pending), "units": units, "amount_due": str(due)},
        )
    return SettleSummary(auction.id, len(pending), units, due, already)
