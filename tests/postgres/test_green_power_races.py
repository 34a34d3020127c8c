"""Green certificates under concurrency (PostgreSQL): serials issued once, claimed once."""

from __future__ import annotations

import itertools
import threading
from collections import Counter
from decimal import Decimal as D

import pytest
from flask import Flask
from sqlalchemy import select, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from carbon_market.kernel.access.roles import Actor
from finance.greenpower import certificates, registry
from finance.greenpower.models import CertificateBlock, GreenClaim, PlantKind
from tests.factories import make_enterprise
from tests.postgres.test_concurrency import _race

pytestmark = pytest.mark.postgres
SYSTEM = Actor.system(name="system:race")


def _plant(session: Session) -> int:
    plant = registry.create_plant(
        session, SYSTEM, name="竞争风电", kind=PlantKind.WIND, capacity_mw=D("10"),
        province="hebei", grid_region="north_china",
    )  # fmt: skip
    return plant.id


def test_concurrent_overlapping_issuances_issue_each_serial_once(app: Flask, session: Session):
    plant = _plant(session)
    session.commit()
    starts = itertools.count(1, 10)  # 1-100, 11-110, 21-120, …: every pair overlaps
    lock = threading.Lock()

    def issue(s: Session) -> None:
        with lock:
            start = next(starts)
        certificates.issue_certificates(
            s, SYSTEM, plant=plant, generation_year=2025, serial_start=start,
            serial_end=start + 99,
        )  # fmt: skip

    outcomes = _race(app, issue)
    assert outcomes == Counter({"ok": 1, "Conflict": 7})
    session.expire_all()
    assert len(session.scalars(select(CertificateBlock)).all()) == 1


def test_concurrent_claims_of_the_same_serials_claim_them_once(app: Flask, session: Session):
    plant = _plant(session)
    holder = make_enterprise(session, name="竞争用电企业")
    certificates.issue_certificates(
        session, SYSTEM, plant=plant, generation_year=2025, serial_start=1, serial_end=1000,
        holder=holder.credit_code,
    )  # fmt: skip
    session.commit()

    def claim(s: Session) -> None:
        certificates.claim_certificates(
            s, SYSTEM, enterprise=holder.credit_code, year=2025, serial_start=101,
            serial_end=300, purpose="race",
        )  # fmt: skip

    outcomes = _race(app, claim)
    assert outcomes == Counter({"ok": 1, "Conflict": 7})
    session.expire_all()
    assert [c.mwh for c in session.scalars(select(GreenClaim))] == [200]
    spans = session.execute(
        select(CertificateBlock.serial_start, CertificateBlock.serial_end).order_by(
            CertificateBlock.serial_start
        )
    ).all()
    assert [tuple(r) for r in spans] == [(1, 100), (101, 300), (301, 1000)]


def test_concurrent_claims_of_disjoint_parts_of_one_block_all_succeed(app: Flask, session: Session):
    plant = _plant(session)
    holder = make_enterprise(session, name="分段用电企业")
    certificates.issue_certificates(
        session, SYSTEM, plant=plant, generation_year=2025, serial_start=1, serial_end=1000,
        holder=holder.credit_code,
    )  # fmt: skip
    session.commit()
    starts = itertools.count(1, 100)  # 1-100, 101-200, …, 701-800: no two overlap
    lock = threading.Lock()

    def claim(s: Session) -> None:
        with lock:
            start = next(starts)
        certificates.claim_certificates(
            s, SYSTEM, enterprise=holder.credit_code, year=2025, serial_start=start,
            serial_end=start + 99, purpose="part",
        )  # fmt: skip

    # Each claim waits for the one carving the block before it; the waiter must then see
    # the remainder the other wrote, not refuse its serials as "not all held".
    outcomes = _race(app, claim)
    assert outcomes == Counter({"ok": 8})
    session.expire_all()
    assert sorted(c.mwh for c in session.scalars(select(GreenClaim))) == [100] * 8
    spans = session.execute(
        select(CertificateBlock.serial_start, CertificateBlock.serial_end).order_by(
            CertificateBlock.serial_start
        )
    ).all()
    assert [tuple(r) for r in spans] == [(s, s + 99) for s in range(1, 801, 100)] + [(801, 1000)]


def test_the_database_itself_refuses_overlapping_blocks(session: Session):
    plant = _plant(session)
    certificates.issue_certificates(
        session, SYSTEM, plant=plant, generation_year=2025, serial_start=1, serial_end=10
    )
    session.commit()
    with pytest.raises(IntegrityError, match="ex_green_certificate_serials"):
        session.execute(
            text(
                "INSERT INTO green_certificate (plant_id, generation_year, serial_start, "
                "serial_end, status, issued_at, updated_at) VALUES "
                "(:plant, 2025, 5, 15, 'active', now(), now())"
            ),
            {"plant": plant},
        )
    session.rollback()
