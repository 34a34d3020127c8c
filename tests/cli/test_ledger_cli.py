"""``carbon-market ledger verify`` and ``ledger run-due`` from the command line."""

from __future__ import annotations

from sqlalchemy import select, text

from carbon_market.kernel.access.roles import Actor, Role
from carbon_market.kernel.auth.service import actor_for
from carbon_market.ledger import transactions as ledger
from carbon_market.ledger.accounts.service import GOVERNMENT_ACCOUNTS
from carbon_market.ledger.enums import AccountKind, TransactionStatus
from carbon_market.ledger.models import LedgerTransaction
from tests.factories import make_enterprise, make_user

SYSTEM = Actor.system(name="system:test")
RESERVE = GOVERNMENT_ACCOUNTS[AccountKind.GOVERNMENT_RESERVE]


def _fund(session, quantity=500):
    ledger.issue(session, SYSTEM, unit_kind="allowance", vintage=2025, quantity=quantity)
    firm = make_enterprise(session)
    ledger.request_transfer(
        session,
        SYSTEM,
        from_account=RESERVE,
        to_account=firm.compliance_account.number,
        unit_kind="allowance",
        vintage=2025,
        quantity=quantity,
    )
    return firm


def test_verify_passes_on_a_sound_ledger(run_cli, session):
    _fund(session)

    result = run_cli("ledger", "verify")

    assert result.exit_code == 0, result.stderr
    assert "ledger verified: 2 transactions" in result.stdout


def test_verify_exits_1_naming_the_first_transaction_whose_posting_was_edited(run_cli, session):
    _fund(session)
    allocation = session.scalar(select(LedgerTransaction).order_by(LedgerTransaction.id.desc()))
    # Behind the platform's back: lift the append-only guard and change one posting.
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("ALTER TABLE posting DISABLE TRIGGER posting_no_change"))
        session.execute(
            text(
                "UPDATE posting SET quantity = quantity + 1 "
                "WHERE transaction_id = :id AND quantity > 0"
            ),
            {"id": allocation.id},
        )
        session.execute(text("ALTER TABLE posting ENABLE TRIGGER posting_no_change"))
    else:
        session.execute(text("DROP TRIGGER posting_no_update"))
        session.execute(
            text(
                "UPDATE posting SET quantity = quantity + 1 "
                "WHERE transaction_id = :id AND quantity > 0"
            ),
            {"id": allocation.id},
        )
    session.commit()

    result = run_cli("ledger", "verify")

    assert result.exit_code == 1
    first_line = result.stderr.splitlines()[0]
    assert first_line.startswith(
        f"error: ledger verification failed at transaction {allocation.id}:"
    )


def test_run_due_releases_a_transfer_whose_delay_is_over(run_cli, session, fresh_session):
    # The test clock stands at 2026-06-01; the CLI runs on the system clock, months later,
    # so the 26-hour delay of a transfer approved "on 2026-06-01" is long over for it.
    firm = _fund(session)
    other = make_enterprise(session)
    initiator = actor_for(make_user(session, role=Role.ENTERPRISE, enterprise=firm))
    approver = actor_for(make_user(session, role=Role.ENTERPRISE, enterprise=firm))
    tx = ledger.request_transfer(
        session,
        initiator,
        from_account=firm.compliance_account.number,
        to_account=other.compliance_account.number,
        unit_kind="allowance",
        vintage=2025,
        quantity=40,
    )
    assert ledger.approve(session, approver, tx.id).status is TransactionStatus.DELAYED

    result = run_cli("ledger", "run-due")

    assert result.exit_code == 0, result.stderr
    assert result.stdout.strip() == "released 1 delayed and expired 0 pending transfers"
    with fresh_session() as check:
        assert check.get_one(LedgerTransaction, tx.id).status is TransactionStatus.COMPLETED
