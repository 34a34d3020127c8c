"""A frozen emission factor set is guarded by the database, not only by the service: a
report's figures must always recompute from the values it was computed with."""

from __future__ import annotations

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import DatabaseError

from carbon_market.mrv.factors.models import EmissionFactor, EmissionFactorSet


def _frozen_set(session) -> EmissionFactorSet:
    factor_set = session.scalar(select(EmissionFactorSet).order_by(EmissionFactorSet.id))
    session.execute(
        text("UPDATE emission_factor_set SET is_frozen = :yes WHERE id = :id"),
        {"yes": True, "id": factor_set.id},
    )
    session.commit()
    return factor_set


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE emission_factor SET value = value + 1 WHERE set_id = :id",
        "DELETE FROM emission_factor WHERE set_id = :id",
        "UPDATE emission_factor_set SET name = 'changed' WHERE id = :id",
        "UPDATE emission_factor_set SET is_frozen = :no WHERE id = :id",
        "DELETE FROM emission_factor_set WHERE id = :id",
    ],
    ids=["change-a-value", "delete-factors", "rename-set", "unfreeze", "delete-set"],
)
def test_the_database_refuses_any_change_to_a_frozen_set(session, statement):
    factor_set = _frozen_set(session)
    before = sorted(
        (f.code, f.parameter, f.value)
        for f in session.scalars(
            select(EmissionFactor).where(EmissionFactor.set_id == factor_set.id)
        )
    )

    with pytest.raises(DatabaseError, match="frozen"):
        session.execute(text(statement), {"id": factor_set.id, "no": False})
    session.rollback()

    after = sorted(
        (f.code, f.parameter, f.value)
        for f in session.scalars(
            select(EmissionFactor).where(EmissionFactor.set_id == factor_set.id)
        )
    )
    assert after == before


def test_the_database_refuses_a_new_factor_in_a_frozen_set(session):
    factor_set = _frozen_set(session)

    with pytest.raises(DatabaseError, match="frozen"):
        session.execute(
            text(
                "INSERT INTO emission_factor (set_id, category, code, parameter, value, unit, "
                "source) VALUES (:id, 'fuel', 'peat', 'ncv', 1, 'GJ/t', 'test')"
            ),
            {"id": factor_set.id},
        )
    session.rollback()


def test_an_unfrozen_set_can_still_be_changed_by_the_database(session):
    # The guard is about frozen sets only: the migration seed and drafts stay writable.
    factor_set = session.scalar(select(EmissionFactorSet).order_by(EmissionFactorSet.id))
    assert not factor_set.is_frozen
    session.execute(
        text("UPDATE emission_factor_set SET name = name WHERE id = :id"), {"id": factor_set.id}
    )
    session.rollback()
