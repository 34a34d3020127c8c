"""The ledger's several hash chains: where transactions go, and what verify checks."""

from __future__ import annotations

from sqlalchemy import select, text

from carbon_market.kernel.access.roles import Actor
from carbon_market.kernel.db import transactional
from carbon_market.ledger import transactions as ledger
from carbon_market.ledger.models import ChainHead, LedgerTransaction
from carbon_market.ledger.posting.chain import (
    CHAIN_STRIPES,
    GENESIS,
    STRIPE_SPAN,
    chain_of,
    stripe_of,
)
from carbon_market.ledger.verify import verify_ledger
from tests.ledger.conftest import RETIREMENT


def _completed(session):
    session.expire_all()
    return session.scalars(
        select(LedgerTransaction).where(LedgerTransaction.seq.is_not(None))
    ).all()


def test_the_migration_seeds_one_empty_head_per_chain(session):
    heads = session.execute(select(ChainHead.id, ChainHead.seq, ChainHead.hash)).all()
    # Chain c starts at (c - 1) × 10^15 with the genesis hash.
    assert sorted(tuple(h) for h in heads) == [
        (c, (c - 1) * STRIPE_SPAN, GENESIS) for c in range(1, CHAIN_STRIPES + 1)
    ]


def test_a_transaction_joins_the_chain_its_uuid_selects_and_its_head_follows(world):
    world.fund(world.alpha, 100)
    for tx in _completed(world.session):
        assert chain_of(tx.seq) == stripe_of(tx.uuid)
        head = world.session.get(ChainHead, chain_of(tx.seq))
        last = max(t.seq for t in _completed(world.session) if chain_of(t.seq) == head.id)
        assert head.seq == last
    assert verify_ledger(world.session) == []


def test_a_unit_of_work_posting_several_transactions_keeps_to_one_chain(world):
    world.fund(world.alpha, 100)
    system = Actor.system(name="system:batch")

    @transactional
    def retire_five(session):
        return [
            ledger.request_transfer(
                session,
                system,
                from_account=world.alpha.account,
                to_account=RETIREMENT,
                unit_kind="allowance",
                vintage=2025,
                quantity=1,
            )
            for _ in range(5)
        ]

    posted = retire_five(world.session)
    chains = {chain_of(tx.seq) for tx in posted}
    # One head held for the whole unit: the five are consecutive in the first one's chain.
    assert chains == {stripe_of(posted[0].uuid)}
    seqs = [tx.seq for tx in posted]
    assert seqs == list(range(seqs[0], seqs[0] + 5))
    assert verify_ledger(world.session) == []


def test_a_head_rolled_back_behind_the_platforms_back_is_found(world):
    world.fund(world.alpha, 100)
    tx = _completed(world.session)[-1]
    chain = chain_of(tx.seq)
    world.session.execute(
        text("UPDATE ledger_chain_head SET seq = seq - 1 WHERE id = :id"), {"id": chain}
    )
    problems = verify_ledger(world.session)
    assert [p.detail for p in problems if p.check == "chain"] == [
        f"the head of chain {chain} does not point at its last transaction"
    ]
    world.session.rollback()


def test_a_sequence_number_beyond_the_last_chain_is_found(world):
    world.fund(world.alpha, 100)
    tx = _completed(world.session)[-1]
    world.session.execute(
        text("UPDATE ledger_transaction SET seq = :seq WHERE id = :id"),
        {"seq": CHAIN_STRIPES * STRIPE_SPAN + 1, "id": tx.id},
    )
    problems = [p for p in verify_ledger(world.session) if p.check == "chain"]
    assert f"transaction {tx.id} is in no chain" in [p.detail for p in problems]
    world.session.rollback()
