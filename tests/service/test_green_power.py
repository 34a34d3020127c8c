"""Green power: plants, trades recorded once, certificate serial ranges that never overlap,
transfers that split blocks, claims made once, and claims lowering report emissions."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal as D
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from carbon_market.kernel.access.roles import Actor, Role
from carbon_market.kernel.auth.service import actor_for
from carbon_market.kernel.errors import Conflict, NotFound, RuleViolation, ValidationFailed
from carbon_market.kernel.pagination import PageRequest
from carbon_market.mrv.reports import workflow as report_service
from finance.greenpower import certificates as certs
from finance.greenpower import registry
from finance.greenpower.models import (
    CertificateBlock,
    CertificateStatus,
    GreenClaim,
    PlantKind,
    TargetMetric,
)
from tests.factories import make_enterprise, make_user

PAGE = PageRequest(1, 100)


@dataclass
class World:
    regulator: Actor
    alpha: Actor
    beta: Actor
    alpha_code: str
    beta_code: str
    alpha_id: int
    beta_id: int
    hebei_wind: int
    beijing_solar: int


@pytest.fixture
def world(session: Session, regulator: Any) -> World:
    alpha = make_enterprise(session, name="北京甲数据中心有限公司", sector="services")
    beta = make_enterprise(session, name="北京乙汽车有限公司", sector="services")
    reg = actor_for(regulator)
    wind = registry.create_plant(
        session, reg, name="张北风电场", kind=PlantKind.WIND, capacity_mw=D("100"),
        province="hebei", grid_region="north_china", commissioned_on=date(2023, 6, 1),
    )  # fmt: skip
    solar = registry.create_plant(
        session, reg, name="延庆光伏电站", kind=PlantKind.SOLAR, capacity_mw=D("50.5"),
        province="beijing", grid_region="north_china", commissioned_on=date(2024, 3, 1),
    )  # fmt: skip
    return World(
        regulator=reg,
        alpha=actor_for(make_user(session, role=Role.ENTERPRISE, name="alpha", enterprise=alpha)),
        beta=actor_for(make_user(session, role=Role.ENTERPRISE, name="beta", enterprise=beta)),
        alpha_code=alpha.credit_code,
        beta_code=beta.credit_code,
        alpha_id=alpha.id,
        beta_id=beta.id,
        hebei_wind=wind.id,
        beijing_solar=solar.id,
    )


def _issue(session: Session, w: World, start: int, end: int, **extra: Any) -> CertificateBlock:
    values = {"plant": w.hebei_wind, "generation_year": 2025, "holder": w.alpha_code} | extra
    return certs.issue_certificates(
        session, w.regulator, serial_start=start, serial_end=end, **values
    )


def _blocks(session: Session) -> list[tuple[int, int, int | None, str]]:
    session.expire_all()
    rows = session.scalars(select(CertificateBlock).order_by(CertificateBlock.serial_start))
    return [(b.serial_start, b.serial_end, b.holder_id, str(b.status)) for b in rows]


@pytest.fixture
def state(session: Session) -> Callable[[], Any]:
    def now() -> Any:
        claims = session.scalar(select(func.count()).select_from(GreenClaim))
        return _blocks(session), claims

    return now


def test_overlapping_serials_are_refused_and_change_nothing(
    session: Session, world: World, state: Callable[[], Any]
) -> None:
    _issue(session, world, 1, 1000)
    before = state()
    for start, end in [(1000, 1500), (500, 600), (1, 1)]:
        with pytest.raises(Conflict, match="overlap"):
            _issue(session, world, start, end)
    assert state() == before
    _issue(session, world, 1001, 1500)  # adjacent is fine
    assert [b[:2] for b in _blocks(session)] == [(1, 1000), (1001, 1500)]


def test_a_transfer_of_part_of_a_block_splits_it_and_conserves_every_serial(
    session: Session, world: World
) -> None:
    _issue(session, world, 1, 1000)
    certs.transfer_certificates(
        session, world.alpha, serial_start=201, serial_end=300, to=world.beta_code
    )
    a, b = world.alpha_id, world.beta_id
    assert _blocks(session) == [
        (1, 200, a, "active"),
        (201, 300, b, "active"),
        (301, 1000, a, "active"),
    ]
    # 200 + 100 + 700 = 1000 certificates, none lost, none doubled.
    assert sum(end - start + 1 for start, end, *_ in _blocks(session)) == 1000


def test_a_transfer_across_two_blocks_and_one_not_held(
    session: Session, world: World, state: Callable[[], Any]
) -> None:
    _issue(session, world, 1, 100)
    _issue(session, world, 101, 200)
    certs.transfer_certificates(
        session, world.alpha, serial_start=51, serial_end=150, to=world.beta_code
    )
    assert [(s, e, h) for s, e, h, _ in _blocks(session)] == [
        (1, 50, world.alpha_id),
        (51, 100, world.beta_id),
        (101, 150, world.beta_id),
        (151, 200, world.alpha_id),
    ]
    before = state()
    # alpha no longer holds 51-150, and 201-250 were never issued.
    for start, end in [(40, 60), (190, 250)]:
        with pytest.raises(RuleViolation, match="not all held"):
            certs.transfer_certificates(
                session, world.alpha, serial_start=start, serial_end=end, to=world.beta_code
            )
    assert state() == before


def test_a_certificate_is_claimed_once(
    session: Session, world: World, state: Callable[[], Any]
) -> None:
    _issue(session, world, 1, 1000)
    claim = certs.claim_certificates(
        session, world.alpha, enterprise=world.alpha_code, year=2025,
        serial_start=101, serial_end=400, purpose="2025年外购电力绿电抵扣",
    )  # fmt: skip
    assert claim.mwh == 300  # 400 - 101 + 1
    a = world.alpha_id
    assert _blocks(session) == [
        (1, 100, a, "active"),
        (101, 400, a, "claimed"),
        (401, 1000, a, "active"),
    ]
    before = state()
    with pytest.raises(Conflict, match="already claimed"):
        certs.claim_certificates(
            session, world.alpha, enterprise=world.alpha_code, year=2025,
            serial_start=350, serial_end=450, purpose="again",
        )  # fmt: skip
    with pytest.raises(Conflict, match="already claimed"):  # nor can they move
        certs.transfer_certificates(
            session, world.alpha, serial_start=101, serial_end=101, to=world.beta_code
        )
    assert state() == before


def test_claims_beyond_holdings_for_others_or_out_of_validity_are_refused(
    session: Session, world: World, state: Callable[[], Any]
) -> None:
    _issue(session, world, 1, 100)
    _issue(session, world, 101, 200, generation_year=2023)
    before = state()
    with pytest.raises(RuleViolation, match="not all held"):  # 101-300: 201-300 do not exist
        certs.claim_certificates(
            session, world.alpha, enterprise=world.alpha_code, year=2025,
            serial_start=1, serial_end=300, purpose="too many",
        )  # fmt: skip
    with pytest.raises(NotFound):  # alpha's user may not claim for beta
        certs.claim_certificates(
            session, world.alpha, enterprise=world.beta_code, year=2025,
            serial_start=1, serial_end=10, purpose="for beta",
        )  # fmt: skip
    with pytest.raises(RuleViolation, match="2023"):  # valid for 2023 and 2024 only
        certs.claim_certificates(
            session, world.alpha, enterprise=world.alpha_code, year=2025,
            serial_start=101, serial_end=110, purpose="stale",
        )  # fmt: skip
    with pytest.raises(ValidationFailed):
        certs.claim_certificates(
            session, world.alpha, enterprise=world.alpha_code, year=2025,
            serial_start=50, serial_end=10, purpose="reversed",
        )  # fmt: skip
    assert state() == before
    certs.claim_certificates(
        session, world.alpha, enterprise=world.alpha_code, year=2024,
        serial_start=101, serial_end=110, purpose="2024",
    )  # fmt: skip


def test_a_trade_is_recorded_once_and_bounds_its_certificates(
    session: Session, world: World
) -> None:
    values: dict[str, Any] = {
        "reference": "BJ-GT-2025-0001",
        "plant": world.hebei_wind,
        "buyer": world.alpha_code,
        "period_start": date(2025, 1, 1),
        "period_end": date(2025, 3, 31),
        "mwh": D("300.5"),
        "price_cny_per_mwh": D("372.00"),
        "green_premium_cny_per_mwh": D("8.50"),
    }
    trade, new = registry.record_trade(session, world.regulator, **values)
    again, new_again = registry.record_trade(session, world.regulator, **values)
    assert (new, new_again, again.id) == (True, False, trade.id)
    with pytest.raises(Conflict, match="other values"):
        registry.record_trade(session, world.regulator, **(values | {"mwh": D("301")}))

    # 300.5 MWh earn 300 certificates: 1-300 fit, one more does not.
    block = _issue(session, world, 1, 300, trade=trade.id, holder=None)
    assert block.holder_id == world.alpha_id  # the buyer
    with pytest.raises(RuleViolation, match="300 whole MWh"):
        _issue(session, world, 301, 301, trade=trade.id, holder=None)
    with pytest.raises(ValidationFailed):  # the trade is from the wind farm
        _issue(session, world, 301, 301, trade=trade.id, plant=world.beijing_solar, holder=None)


def test_a_claim_lowers_the_open_reports_electricity_emissions(
    session: Session, world: World
) -> None:
    streams = [{"kind": "electricity", "quantity": "1000", "unit": "MWh"}]
    report = report_service.create_report(
        session, world.alpha, enterprise=world.alpha_code, year=2025, streams=streams
    )
    # Before: 1000 MWh × 0.5366 = 536.6 t.
    assert report.co2_t == D("536.6")
    _issue(session, world, 1, 1000)
    certs.claim_certificates(
        session, world.alpha, enterprise=world.alpha_code, year=2025,
        serial_start=1, serial_end=300, purpose="2025",
    )  # fmt: skip
    session.expire_all()
    report = report_service.get_report(session, world.regulator, report.id)
    # After claiming 300 MWh: (1000 − 300) × 0.5366 = 375.62 t.
    assert report.co2_t == D("375.62")
    green = report.breakdown["green_power"]
    assert (green["claimed_mwh"], green["deducted_mwh"], green["unused_mwh"]) == ("300", "300", "0")
    assert [(c["serial_start"], c["serial_end"], c["mwh"]) for c in green["certificates"]] == [
        (1, 300, 300)
    ]
    assert report.breakdown["streams"][0]["factors_used"]["green_power_mwh"] == "300"

    # Once submitted, a later claim leaves the filed figures alone.
    report_service.submit_report(session, world.alpha, report.id)
    certs.claim_certificates(
        session, world.alpha, enterprise=world.alpha_code, year=2025,
        serial_start=301, serial_end=400, purpose="late",
    )  # fmt: skip
    session.expire_all()
    assert report_service.get_report(session, world.regulator, report.id).co2_t == D("375.62")


def test_a_claim_made_while_submitted_counts_when_the_returned_report_is_filed_again(
    session: Session, world: World
) -> None:
    streams = [{"kind": "electricity", "quantity": "1000", "unit": "MWh"}]
    report = report_service.create_report(
        session, world.alpha, enterprise=world.alpha_code, year=2025, streams=streams
    )
    report_service.submit_report(session, world.alpha, report.id)
    _issue(session, world, 1, 1000)
    certs.claim_certificates(
        session, world.alpha, enterprise=world.alpha_code, year=2025,
        serial_start=1, serial_end=300, purpose="while submitted",
    )  # fmt: skip
    session.expire_all()
    # The submitted version keeps what was filed: 1000 MWh × 0.5366 = 536.6 t.
    assert report_service.get_report(session, world.regulator, report.id).co2_t == D("536.6")

    report_service.return_report(session, world.regulator, report.id, reasons=["复核"])
    report_service.submit_report(session, world.alpha, report.id)  # filed again, unedited
    session.expire_all()
    filed = report_service.get_report(session, world.regulator, report.id)
    # Filed again, the same version deducts the claim once: (1000 − 300) × 0.5366 = 375.62 t.
    # It used to keep 536.6 t, so the 300 certificates were spent and never deducted.
    assert filed.co2_t == D("375.62")
    green = filed.breakdown["green_power"]
    assert (green["claimed_mwh"], green["deducted_mwh"]) == ("300", "300")
    assert [(c["serial_start"], c["serial_end"]) for c in green["certificates"]] == [(1, 300)]


def test_more_claimed_than_bought_deducts_only_what_was_bought(
    session: Session, world: World
) -> None:
    _issue(session, world, 1, 1000)
    certs.claim_certificates(
        session, world.alpha, enterprise=world.alpha_code, year=2025,
        serial_start=1, serial_end=500, purpose="2025",
    )  # fmt: skip
    streams = [{"kind": "electricity", "quantity": "200", "unit": "MWh"}]
    report = report_service.create_report(
        session, world.alpha, enterprise=world.alpha_code, year=2025, streams=streams
    )
    # 200 MWh bought, 500 claimed: (200 − 200) × 0.5366 = 0 t, 300 MWh unused.
    assert report.co2_t == D("0")
    assert report.breakdown["green_power"]["unused_mwh"] == "300"


def test_targets_show_progress_from_the_records(session: Session, world: World) -> None:
    for ref, plant, mwh in [("T1", world.hebei_wind, "600"), ("T2", world.beijing_solar, "400")]:
        registry.record_trade(
            session, world.regulator, reference=ref, plant=plant, buyer=world.alpha_code,
            period_start=date(2025, 5, 1), period_end=date(2025, 5, 31), mwh=D(mwh),
            price_cny_per_mwh=D("350"), green_premium_cny_per_mwh=D("5"),
        )  # fmt: skip

    def progress(metric: TargetMetric, value: str, **extra: Any) -> D:
        target = registry.create_target(
            session, world.regulator, name=f"{metric}-{value}", metric=metric, year=2025,
            target_value=D(value), **extra,
        )  # fmt: skip
        return registry.achieved(session, target)

    # Imported: only the Hebei wind farm's 600 MWh; traded: 600 + 400 = 1000 MWh.
    assert progress(TargetMetric.GREEN_POWER_IMPORTED_MWH, "1000") == D("600")
    assert progress(TargetMetric.GREEN_POWER_TRADED_MWH, "2000") == D("1000")
    # Capacity in Beijing commissioned by 2025-12-31: the 50.5 MW solar plant only.
    assert progress(TargetMetric.INSTALLED_CAPACITY_MW, "100") == D("50.5")
    assert progress(TargetMetric.INSTALLED_CAPACITY_MW, "60", plant_kind=PlantKind.WIND) == D(0)
    with pytest.raises(ValidationFailed):
        progress(TargetMetric.GREEN_POWER_TRADED_MWH, "5", plant_kind=PlantKind.WIND)


def test_enterprises_see_only_their_own_records(session: Session, world: World) -> None:
    _issue(session, world, 1, 10)
    _issue(session, world, 11, 20, holder=world.beta_code)
    seen = certs.list_certificates(
        session, world.beta, filters=certs.CertificateFilter(), page=PAGE
    )
    assert [(b.serial_start, b.status) for b in seen.items] == [(11, CertificateStatus.ACTIVE)]
    everything = certs.list_certificates(
        session, world.regulator, filters=certs.CertificateFilter(), page=PAGE
    )
    assert len(everything.items) == 2
