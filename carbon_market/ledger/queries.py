"""Reading the ledger: transactions, holdings and account statements, scoped to the actor."""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from datetime import datetime

from sqlalchemy import Select, func, or_, select
from sqlalchemy.orm import Session, aliased

from carbon_market.kernel.access.policy import authorize, tenant_scope
from carbon_market.kernel.access.roles import Actor
from carbon_market.kernel.csv_export import csv_text
from carbon_market.kernel.errors import NotFound
from carbon_market.kernel.pagination import Page, PageRequest, paginate
from carbon_market.ledger.accounts.service import find_account, get_account
from carbon_market.ledger.enums import TransactionKind, TransactionStatus
from carbon_market.ledger.models import Account, LedgerTransaction, Posting


def _visible(query: Select[LedgerTransaction], actor: Actor) -> Select[LedgerTransaction]:
    scope = tenant_scope(actor)
    if scope is None:
        return query
    own = select(Account.id).where(Account.enterprise_id == scope).scalar_subquery()
    return query.where(
        or_(LedgerTransaction.from_account_id.in_(own), LedgerTransaction.to_account_id.in_(own))
    )


def get_transaction(session: Session, actor: Actor, tx_id: int) -> LedgerTransaction:
    """One transaction; enterprise users see those touching their own accounts."""
    authorize(actor, "ledger.read")
    tx = session.scalar(
        _visible(select(LedgerTransaction), actor).where(LedgerTransaction.id == tx_id)
    )
    if tx is None:
        raise NotFound(f"transaction {tx_id} does not exist")
    return tx


@dataclass(frozen=True)
class TransactionFilter:
    account: str | None = None
    kind: TransactionKind | None = None
    status: TransactionStatus | None = None
    since: datetime | None = None
    until: datetime | None = None


def list_transactions(
    session: Session, actor: Actor, *, filters: TransactionFilter, page: PageRequest
) -> Page[LedgerTransaction]:
    """Transactions the actor may see, newest first."""
    authorize(actor, "ledger.read")
    query = _visible(select(LedgerTransaction), actor)
    if filters.account:
        account = find_account(session, filters.account, pointer="#/query/account")
        query = query.where(
            or_(
                LedgerTransaction.from_account_id == account.id,
                LedgerTransaction.to_account_id == account.id,
            )
        )
    if filters.kind:
        query = query.where(LedgerTransaction.kind == filters.kind)
    if filters.status:
        query = query.where(LedgerTransaction.status == filters.status)
    if filters.since:
        query = query.where(LedgerTransaction.created_at >= filters.since)
    if filters.until:
        query = query.where(LedgerTransaction.created_at < filters.until)
    return paginate(session, query.order_by(LedgerTransaction.id.desc()), page)


@dataclass(frozen=True)
class PostingLine:
    """One leg of a completed transaction: negative out of ``account``, positive into it."""

    account: str
    unit_kind: str
    vintage: int
    quantity: int


def transaction_postings(session: Session, actor: Actor, tx_id: int) -> list[PostingLine]:
    """The postings of a transaction the actor may see (none until it completes)."""
    get_transaction(session, actor, tx_id)
    rows = session.execute(
        select(Account.number, Posting.unit_kind, Posting.vintage, Posting.quantity)
        .join(Account, Account.id == Posting.account_id)
        .where(Posting.transaction_id == tx_id)
        .order_by(Posting.id)
    )
    return [PostingLine(*row) for row in rows]


@dataclass(frozen=True)
class StatementLine:
    posting_id: int
    transaction_id: int
    transaction_uuid: str
    kind: str
    completed_at: datetime
    unit_kind: str
    vintage: int
    quantity: int
    balance: int
    counterparty: str
    memo: str


def statement(
    session: Session,
    actor: Actor,
    number: str,
    *,
    unit_kind: str | None = None,
    vintage: int | None = None,
    page: PageRequest | None = None,
) -> tuple[list[StatementLine], int]:
    """The account's postings, oldest first, each with the running balance of its unit kind
    and vintage; returns (lines of the page, or all when ``page`` is None; total lines)."""
    account = get_account(session, actor, number)
    authorize(actor, "ledger.read")
    other = aliased(Posting)
    counter = aliased(Account)
    balance = func.sum(Posting.quantity).over(
        partition_by=(Posting.unit_kind, Posting.vintage), order_by=Posting.id
    )
    inner = (
        select(
            Posting.id.label("posting_id"),
            LedgerTransaction.id.label("transaction_id"),
            LedgerTransaction.uuid,
            LedgerTransaction.kind,
            LedgerTransaction.completed_at,
            Posting.unit_kind,
            Posting.vintage,
            Posting.quantity,
            balance.label("balance"),
            counter.number.label("counterparty"),
            LedgerTransaction.memo,
        )
        .join(LedgerTransaction, LedgerTransaction.id == Posting.transaction_id)
        .join(other, (other.transaction_id == Posting.transaction_id) & (other.id != Posting.id))
        .join(counter, counter.id == other.account_id)
        .where(Posting.account_id == account.id)
    )
    if unit_kind:
        inner = inner.where(Posting.unit_kind == unit_kind)
    if vintage:
        inner = inner.where(Posting.vintage == vintage)
    rows = inner.subquery()
    total = session.scalar(select(func.count()).select_from(rows)) or 0
    query = select(rows).order_by(rows.c.posting_id)
    if page is not None:
        query = query.offset(page.offset).limit(page.page_size)
    lines = [
        StatementLine(
            r.posting_id,
            r.transaction_id,
            r.uuid,
            str(r.kind),
            r.completed_at,
            r.unit_kind,
            r.vintage,
            r.quantity,
            r.balance,
            r.counterparty,
            r.memo,
        )
        for r in session.execute(query)
    ]
    return lines, total


def statement_csv(lines: list[StatementLine]) -> str:
    """A statement as a spreadsheet: one row per posting, UTF-8 with BOM (Excel reads the
    Chinese memos), the API's JSON members as columns; shared by the API and the web UI."""
    columns = [f.name for f in fields(StatementLine)]
    rows = [asdict(line) | {"completed_at": line.completed_at.isoformat()} for line in lines]
    return csv_text(columns, rows, bom=True)
