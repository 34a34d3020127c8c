"""HTTP resources of the registry: accounts, holdings, statements, trusted lists,
transfers, issuances and transactions (thin handlers)."""

from __future__ import annotations

from typing import Any

from flask import Flask, Response, jsonify, request
from flask.views import MethodView

from carbon_market.kernel.errors import MissingHeader
from carbon_market.kernel.http import (
    Api,
    Blueprint,
    csv_response,
    current_actor,
    db_session,
    page_request,
)
from carbon_market.kernel.schemas import dump_page, page_of
from carbon_market.ledger import queries
from carbon_market.ledger import transactions as svc
from carbon_market.ledger.accounts import service as accounts
from carbon_market.ledger.accounts import trust
from carbon_market.ledger.schemas import (
    AccountQueryArgsSchema,
    AccountSchema,
    AccountStatusSchema,
    AccountUpdateSchema,
    HoldingSchema,
    IssuanceCreateSchema,
    ReverseSchema,
    StatementLineSchema,
    StatementQueryArgsSchema,
    TradingAccountCreateSchema,
    TransactionQueryArgsSchema,
    TransactionSchema,
    TransferCreateSchema,
    TrustedAccountSchema,
    TrustRequestSchema,
    UnitKindSchema,
)
from carbon_market.ledger.transactions.idempotency import run_idempotent

accounts_blp = Blueprint(
    "accounts",
    __name__,
    url_prefix="/api/v1/accounts",
    description="Registry accounts, holdings, statements, trusted lists.",
)
ledger_blp = Blueprint(
    "ledger",
    __name__,
    url_prefix="/api/v1",
    description="Transfers, issuances and ledger transactions.",
)

AccountPageSchema = page_of(AccountSchema, "AccountPageSchema")
TransactionPageSchema = page_of(TransactionSchema, "TransactionPageSchema")
StatementPageSchema = page_of(StatementLineSchema, "StatementPageSchema")
IDEMPOTENCY_HEADER = {
    "in": "header",
    "name": "Idempotency-Key",
    "schema": {"type": "string", "maxLength": 255},
    "description": "A key unique per intended transfer: retries with it move nothing twice",
}


def _idempotent_response(data: dict[str, Any], operation: str, work: Any) -> Response:
    key = request.headers.get("Idempotency-Key")
    if key is None and operation == "transfer":
        raise MissingHeader("send an Idempotency-Key header with every transfer")
    session, actor = db_session(), current_actor()
    if key is None:
        body = TransactionSchema().dump(work(session, actor))
        replayed = False
    else:
        body, replayed = run_idempotent(
            session,
            actor,
            key=key,
            operation=operation,
            payload=data,
            work=lambda: work(session, actor),
            render=TransactionSchema().dump,
        )
    response = jsonify(body)
    response.status_code = 201
    if replayed:
        response.headers["Idempotent-Replayed"] = "true"
    return response


@ledger_blp.route("/transfers")
class Transfers(MethodView):
    @ledger_blp.arguments(TransferCreateSchema)
    @ledger_blp.response(201, TransactionSchema)
    @ledger_blp.doc(parameters=[{**IDEMPOTENCY_HEADER, "required": True}])
    def post(self, data: dict[str, Any]) -> Response:
        """Request a transfer (enterprise initiators; regulators from government accounts).

        Enterprise transfers wait for a second user with the approver capability; a transfer
        to an account not on the source's trusted list is then delayed. Requires
        ``Idempotency-Key``: a retry with the same key and body returns the first response.
        """
        return _idempotent_response(
            data, "transfer", lambda s, a: svc.request_transfer(s, a, **data)
        )


@ledger_blp.route("/issuances")
class Issuances(MethodView):
    @ledger_blp.arguments(IssuanceCreateSchema)
    @ledger_blp.response(201, TransactionSchema)
    @ledger_blp.doc(parameters=[IDEMPOTENCY_HEADER])
    def post(self, data: dict[str, Any]) -> Response:
        """Request an issuance into the government reserve (regulators; a second approves)."""
        return _idempotent_response(data, "issuance", lambda s, a: svc.issue(s, a, **data))


@ledger_blp.route("/transactions")
class Transactions(MethodView):
    @ledger_blp.arguments(TransactionQueryArgsSchema, location="query")
    @ledger_blp.response(200, TransactionPageSchema)
    def get(self, args: dict[str, Any]) -> dict[str, Any]:
        """Transactions you may see, newest first."""
        page = page_request(args)
        return dump_page(
            queries.list_transactions(
                db_session(), current_actor(), filters=queries.TransactionFilter(**args), page=page
            )
        )


@ledger_blp.route("/transactions/<int:tx_id>")
class TransactionById(MethodView):
    @ledger_blp.response(200, TransactionSchema)
    def get(self, tx_id: int) -> Any:
        """One transaction."""
        return queries.get_transaction(db_session(), current_actor(), tx_id)


@ledger_blp.route("/transactions/<int:tx_id>/approve")
class TransactionApprove(MethodView):
    @ledger_blp.response(200, TransactionSchema)
    def post(self, tx_id: int) -> Any:
        """Approve a pending transaction (a second person, never the initiator)."""
        return svc.approve(db_session(), current_actor(), tx_id)


@ledger_blp.route("/transactions/<int:tx_id>/reject")
class TransactionReject(MethodView):
    @ledger_blp.response(200, TransactionSchema)
    def post(self, tx_id: int) -> Any:
        """Reject a pending transaction; its reserved units are released."""
        return svc.reject(db_session(), current_actor(), tx_id)


@ledger_blp.route("/transactions/<int:tx_id>/cancel")
class TransactionCancel(MethodView):
    @ledger_blp.response(200, TransactionSchema)
    def post(self, tx_id: int) -> Any:
        """Cancel a pending or delayed transaction; its reserved units are released."""
        return svc.cancel(db_session(), current_actor(), tx_id)


@ledger_blp.route("/transactions/<int:tx_id>/reverse")
class TransactionReverse(MethodView):
    @ledger_blp.arguments(ReverseSchema)
    @ledger_blp.response(201, TransactionSchema)
    def post(self, data: dict[str, Any], tx_id: int) -> Any:
        """Request the reversal of a completed transaction (regulators; a second approves)."""
        return svc.reverse(db_session(), current_actor(), tx_id, **data)


@ledger_blp.route("/catalogues/unit-kinds")
class UnitKinds(MethodView):
    @ledger_blp.response(200, UnitKindSchema(many=True))
    def get(self) -> Any:
        """The unit catalogue (public)."""
        return accounts.list_unit_kinds(db_session())

    @ledger_blp.arguments(UnitKindSchema)
    @ledger_blp.response(201, UnitKindSchema)
    def post(self, data: dict[str, Any]) -> Any:
        """Add a unit kind (regulators)."""
        return accounts.add_unit_kind(db_session(), current_actor(), **data)


@accounts_blp.route("")
class Accounts(MethodView):
    @accounts_blp.arguments(AccountQueryArgsSchema, location="query")
    @accounts_blp.response(200, AccountPageSchema)
    def get(self, args: dict[str, Any]) -> dict[str, Any]:
        """Accounts you may see (enterprise users: their own)."""
        page = page_request(args)
        return dump_page(
            accounts.list_accounts(
                db_session(), current_actor(), filters=accounts.AccountFilter(**args), page=page
            )
        )

    @accounts_blp.arguments(TradingAccountCreateSchema)
    @accounts_blp.response(201, AccountSchema)
    def post(self, data: dict[str, Any]) -> Any:
        """Open a trading account for a non-covered participant (regulators)."""
        return accounts.open_trading_account(
            db_session(), current_actor(), holder_name=data["holder_name"]
        )


@accounts_blp.route("/<number>")
class AccountByNumber(MethodView):
    @accounts_blp.response(200, AccountSchema)
    def get(self, number: str) -> Any:
        """One account."""
        return accounts.get_account(db_session(), current_actor(), number)

    @accounts_blp.arguments(AccountUpdateSchema)
    @accounts_blp.response(200, AccountSchema)
    def patch(self, data: dict[str, Any], number: str) -> Any:
        """Set the per-transfer limit (regulators; the owner's approvers)."""
        return accounts.set_transfer_limit(
            db_session(), current_actor(), number, limit=data["transfer_limit"]
        )


@accounts_blp.route("/<number>/status")
class AccountStatusResource(MethodView):
    @accounts_blp.arguments(AccountStatusSchema)
    @accounts_blp.response(200, AccountSchema)
    def post(self, data: dict[str, Any], number: str) -> Any:
        """Block, unblock or close (only when empty) an account (regulators)."""
        return accounts.set_account_status(db_session(), current_actor(), number, **data)


@accounts_blp.route("/<number>/holdings")
class Holdings(MethodView):
    @accounts_blp.response(200, HoldingSchema(many=True))
    def get(self, number: str) -> Any:
        """Holdings by unit kind and vintage, with what is reserved for pending transfers."""
        return accounts.list_holdings(db_session(), current_actor(), number)


@accounts_blp.route("/<number>/statement")
class Statement(MethodView):
    @accounts_blp.arguments(StatementQueryArgsSchema, location="query")
    @accounts_blp.response(200, StatementPageSchema)
    def get(self, args: dict[str, Any], number: str) -> Any:
        """Postings with the running balance, oldest first; ``?format=csv`` for a
        spreadsheet (all lines, UTF-8 with BOM so Excel reads the Chinese memo text)."""
        page = page_request(args)
        as_csv = args.pop("format") == "csv"
        lines, total = queries.statement(
            db_session(), current_actor(), number, page=None if as_csv else page, **args
        )
        if as_csv:
            return _csv_statement(number, lines)
        pages = max(1, -(-total // page.page_size))
        return {
            "items": lines,
            "page": {
                "page": page.page,
                "page_size": page.page_size,
                "total": total,
                "pages": pages,
            },
        }


def _csv_statement(number: str, lines: list[queries.StatementLine]) -> Response:
    return csv_response(queries.statement_csv(lines), f"statement-{number}.csv")


@accounts_blp.route("/<number>/trusted-accounts")
class TrustedAccounts(MethodView):
    @accounts_blp.response(200, TrustedAccountSchema(many=True))
    def get(self, number: str) -> Any:
        """The account's trusted list, pending entries included."""
        return trust.list_trusted(db_session(), current_actor(), number)

    @accounts_blp.arguments(TrustRequestSchema)
    @accounts_blp.response(201, TrustedAccountSchema)
    def post(self, data: dict[str, Any], number: str) -> Any:
        """Propose a trusted account; it takes effect when a second approver approves."""
        return trust.request_trust(
            db_session(), current_actor(), number, trusted_number=data["account_number"]
        )


@accounts_blp.route("/<number>/trusted-accounts/<int:entry_id>/approve")
class TrustApprove(MethodView):
    @accounts_blp.response(200, TrustedAccountSchema)
    def post(self, number: str, entry_id: int) -> Any:
        """Approve a proposed trusted account (a second approver, not the proposer)."""
        return trust.decide_trust(db_session(), current_actor(), number, entry_id, approve=True)


@accounts_blp.route("/<number>/trusted-accounts/<int:entry_id>/reject")
class TrustReject(MethodView):
    @accounts_blp.response(200, TrustedAccountSchema)
    def post(self, number: str, entry_id: int) -> Any:
        """Reject a proposed trusted account."""
        return trust.decide_trust(db_session(), current_actor(), number, entry_id, approve=False)


def init_app(app: Flask, api: Api) -> None:
    api.register_blueprint(accounts_blp)
    api.register_blueprint(ledger_blp)
