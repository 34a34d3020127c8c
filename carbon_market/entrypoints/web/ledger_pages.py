"""The registry's transactions, and the web UI's first actions that move units: the
transactions a user may see, one transaction with Approve / Reject / Cancel, and a
transfer form.

Every action calls the service function the API calls (``ledger/api.py``) with the
signed-in user: four eyes, tenancy, limits and holdings are the service's to decide, and a
refusal is shown with the service's message (on a form: each field's error beside it,
with the status the API would answer). A transfer goes through the API's idempotency
mechanism (``ledger/idempotency.py``) with a key the form carries from when it was drawn,
so a double-click or a browser's resubmit moves units once.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

from flask import flash, redirect, request, url_for
from flask_wtf import FlaskForm
from sqlalchemy.orm import Session
from wtforms import HiddenField, IntegerField, SelectField, StringField, TextAreaField

from carbon_market.entrypoints.web.actor import web_actor
from carbon_market.entrypoints.web.views import bp, load_form, query_args, render, requested_page
from carbon_market.kernel.access.policy import is_allowed
from carbon_market.kernel.access.roles import Actor
from carbon_market.kernel.errors import DomainError, FieldError, ValidationFailed
from carbon_market.kernel.http import db_session
from carbon_market.ledger import queries
from carbon_market.ledger import transactions as svc
from carbon_market.ledger.accounts import service as accounts
from carbon_market.ledger.enums import OPEN_STATUSES, TransactionKind, TransactionStatus
from carbon_market.ledger.models import LedgerTransaction
from carbon_market.ledger.schemas import (
    TransactionQueryArgsSchema,
    TransactionSchema,
    TransferCreateSchema,
)
from carbon_market.ledger.transactions.idempotency import run_idempotent

#: The list's filters (the API's query parameters of the same names).
FILTERS = ("status", "kind", "account")

#: The decisions on one transaction: the service functions the API's
#: ``POST /transactions/<id>/<decision>`` calls.
DECISIONS: dict[str, Callable[[Session, Actor, int], LedgerTransaction]] = {
    "approve": svc.approve,
    "reject": svc.reject,
    "cancel": svc.cancel,
}

#: The transfer's fields, named as the API's body (``TransferCreateSchema``) names them, so
#: that a service's pointer (``#/quantity``) names the form field to show its error beside.
TRANSFER_FIELDS = ("from_account", "to_account", "unit_kind", "vintage", "quantity", "memo")
#: Where ``run_idempotent`` points a bad or reused key.
KEY_POINTER = "#/headers/Idempotency-Key"


@bp.get("/transactions", endpoint="transactions")
def transaction_list() -> str:
    """The transactions the user may see (an enterprise: those touching its accounts),
    newest first, 50 a page, filtered as ``GET /api/v1/transactions`` is."""
    actor = web_actor()  # signed in before the form is read: a stranger is sent to sign in
    filters = query_args(TransactionQueryArgsSchema(only=FILTERS), FILTERS)
    page = queries.list_transactions(
        db_session(), actor, filters=queries.TransactionFilter(**filters), page=requested_page()
    )
    return render(
        "transactions.html", page=page, transactions=TransactionSchema(many=True).dump(page.items),
        form={name: request.args.get(name, "").strip() for name in FILTERS},
        statuses=list(TransactionStatus), kinds=list(TransactionKind),
        can_transfer=is_allowed(actor, "ledger.transfer"),
    )  # fmt: skip


def _transaction_page(tx_id: int, refusal: DomainError | None = None) -> str:
    """One transaction with its postings; the buttons of the decisions its status still
    allows, for a role that may take them (whether this user may is the service's call)."""
    session, actor = db_session(), web_actor()
    tx = queries.get_transaction(session, actor, tx_id)
    return render(
        "transaction.html", tx=TransactionSchema().dump(tx),
        postings=queries.transaction_postings(session, actor, tx_id),
        can_decide=tx.status is TransactionStatus.PENDING_APPROVAL
        and is_allowed(actor, "ledger.decide"),
        can_cancel=tx.status in OPEN_STATUSES and is_allowed(actor, "ledger.transfer"),
        refusal=refusal,
    )  # fmt: skip


@bp.get("/transactions/<int:tx_id>", endpoint="transaction")
def transaction_detail(tx_id: int) -> str:
    return _transaction_page(tx_id)


@bp.post("/transactions/<int:tx_id>/<any(approve, reject, cancel):decision>", endpoint="decide")
def decide(tx_id: int, decision: str) -> Any:
    """Approve, reject or cancel (``POST /api/v1/transactions/<id>/<decision>``). A refusal
    (the initiator's own approval, a decided transaction) is the transaction's page again
    with the service's message and status; one the user may not see is the 404 page."""
    actor = web_actor()  # outside the try: a lapsed sign-in goes to the sign-in page
    try:
        tx = DECISIONS[decision](db_session(), actor, tx_id)
    except DomainError as exc:
        return _transaction_page(tx_id, refusal=exc), exc.status
    flash(f"Transaction {tx.id} is now {tx.status.value}.")
    return redirect(url_for("web.transaction", tx_id=tx.id), 303)


class TransferForm(FlaskForm):
    """The transfer's fields. Only their types are checked here (a whole number is a whole
    number); what is allowed is the API's schema's and the service's to say."""

    from_account = SelectField("From account 转出账户", validate_choice=False)
    to_account = StringField("To account number 转入账户")
    unit_kind = SelectField("Unit kind 单位类型", validate_choice=False)
    vintage = IntegerField("Vintage 年份")
    quantity = IntegerField("Quantity (t) 数量（吨）")
    memo = TextAreaField("Memo 备注")
    #: Drawn with the form (uuid4): the form's every submission is one transfer.
    idempotency_key = HiddenField()


def _transfer_form(session: Session, actor: Actor) -> TransferForm:
    """The form with its choices: the accounts the user may move units out of (refused,
    403, for a role without ``ledger.transfer``) and the active unit kinds."""
    form = TransferForm()
    form.from_account.choices = [
        (account.number, f"{account.number} · {account.kind.value}")
        for account in accounts.transfer_sources(session, actor)
    ]
    form.unit_kind.choices = [
        (kind.code, f"{kind.code} · {kind.label_zh}")
        for kind in accounts.list_unit_kinds(session)
        if kind.is_active
    ]
    return form


def _request_transfer(session: Session, actor: Actor, form: TransferForm) -> tuple[int, bool]:
    """``POST /api/v1/transfers`` with the form's key as its ``Idempotency-Key``: the API's
    schema reads the body, the same service moves the units, the same record replays.
    Returns (the transaction's id, whether this was a replay)."""
    data = load_form(TransferCreateSchema(), {name: form[name].data for name in TRANSFER_FIELDS})
    body, replayed = run_idempotent(
        session, actor, key=form.idempotency_key.data, operation="transfer", payload=data,
        work=lambda: svc.request_transfer(session, actor, **data),
        render=TransactionSchema().dump,
    )  # fmt: skip
    return int(body["id"]), replayed


def _form_again(form: TransferForm, refusal: DomainError) -> tuple[str, int]:
    """The form as sent, the refusal's message above it and each field's error beside the
    field; errors that name no field (the key) are listed with the message. A key refused
    (reused with other values, e.g. after going back) is replaced: sending again is a new
    transfer."""
    general: list[FieldError] = []
    for error in refusal.errors:
        name = error.pointer.removeprefix("#/")
        if name in TRANSFER_FIELDS:
            form[name].errors = [*form[name].errors, error.detail]
        else:
            general.append(error)
    if any(error.pointer == KEY_POINTER for error in refusal.errors):
        form.idempotency_key.data = str(uuid.uuid4())
    page = render("transfer.html", form=form, refusal=refusal, general=general)
    return page, refusal.status


@bp.route("/transfers/new", methods=["GET", "POST"], endpoint="new_transfer")
def new_transfer() -> Any:
    """GET: the form, with a fresh idempotency key. POST: request the transfer, then the
    new transaction's page (303); a refusal is the form again, nothing moved."""
    session, actor = db_session(), web_actor()
    form = _transfer_form(session, actor)
    if request.method == "GET":
        form.idempotency_key.data = str(uuid.uuid4())
        return render("transfer.html", form=form)
    if not form.validate():  # the fields' types (the blueprint checked the CSRF token)
        return _form_again(form, ValidationFailed("Some fields are not filled in correctly."))
    try:
        tx_id, replayed = _request_transfer(session, actor, form)
    except DomainError as exc:
        return _form_again(form, exc)
    if replayed:
        flash(f"This form was already sent: transaction {tx_id}. Nothing was moved again.")
    else:
        flash(f"Transfer requested: transaction {tx_id}.")
    return redirect(url_for("web.transaction", tx_id=tx_id), 303)
