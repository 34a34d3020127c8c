"""``carbon-market allocation compute``: the engine offline, from files to a CSV."""

from __future__ import annotations

import csv
import json
from decimal import Decimal as D

from tests.unit.allocation.test_plan import EXAMPLE

FACILITIES = (
    "facility_id,enterprise,sector,category,emissions_2022,emissions_2023,emissions_2024,"
    "output_2022,output_2023,output_2024,output_2025,cooling,heat_supply_ratio,load_rate,"
    "heat_supplied_gj\n"
    "1,甲水泥,cement,,1000,1100,1300,,,,,,,,\n"
    "2,乙电厂,power,coal_300mw_plus,,,,,,,1000,air,0,0.82,\n"
    "3,丙电厂,power,coal_unconventional,,,,,,,500,,,,\n"
    "4,丁水泥,cement,,,,,,,,,,,,\n"
)


def test_compute_writes_one_row_per_facility_with_reasons_for_the_unallocated(run_cli, tmp_path):
    plan, facilities, out = tmp_path / "plan.json", tmp_path / "f.csv", tmp_path / "out.csv"
    plan.write_text(json.dumps(EXAMPLE))
    facilities.write_text(FACILITIES, encoding="utf-8")

    result = run_cli("allocation", "compute", "--plan", str(plan), "--facilities", str(facilities),
                     "--out", str(out))  # fmt: skip

    assert result.exit_code == 0, result.stderr
    with out.open(encoding="utf-8") as fh:
        rows = {r["facility_id"]: r for r in csv.DictReader(fh)}
    assert list(rows) == ["1", "2", "3", "4"]
    # 1: (1000 + 1100 + 1300) / 3 = 1133.333333 × 0.97 = 1099.333333; 2: 838.255950 (see
    # test_methods). Sum 1937.589283: no scaling; floors 1099 + 838 = 1937 = floor(sum).
    assert (rows["1"]["free_allocation"], rows["1"]["allocation"]) == ("1099.333333", "1099")
    assert (rows["2"]["free_allocation"], rows["2"]["allocation"]) == ("838.255950", "838")
    assert rows["2"]["scale_factor"] == "1"
    assert rows["3"]["allocation"] == ""
    assert rows["3"]["note"] == "no benchmark for category 'coal_unconventional'"
    assert rows["4"]["note"] == "no verified emissions in the base years 2022–2024"
    assert "2 of 4 facilities allocated" in result.stdout


def test_a_malformed_plan_exits_1_with_one_line_on_stderr(run_cli, tmp_path):
    plan, facilities = tmp_path / "plan.json", tmp_path / "f.csv"
    plan.write_text(json.dumps({**EXAMPLE, "reserve_share": "0.99"}))
    facilities.write_text(FACILITIES, encoding="utf-8")

    result = run_cli("allocation", "compute", "--plan", str(plan), "--facilities",
                     str(facilities), "--out", str(tmp_path / "out.csv"))  # fmt: skip

    assert result.exit_code == 1
    assert result.stderr.count("\n") == 1
    assert "#/auction_share" in result.stderr
    assert not (tmp_path / "out.csv").exists()


def test_a_negative_emission_in_the_file_exits_1_naming_the_cell(run_cli, tmp_path):
    plan, facilities = tmp_path / "plan.json", tmp_path / "f.csv"
    plan.write_text(json.dumps(EXAMPLE))
    facilities.write_text(FACILITIES.replace("1000,1100", "-1000,1100"), encoding="utf-8")

    result = run_cli("allocation", "compute", "--plan", str(plan), "--facilities",
                     str(facilities), "--out", str(tmp_path / "out.csv"))  # fmt: skip

    assert result.exit_code == 1
    assert result.stderr.strip() == (
        "error: Validation failed: the facilities file has 1 bad cell(s) "
        "(#/facilities/rows/2/emissions_2022: must not be negative)"
    )


def test_auction_commands_open_refuse_an_early_clear_then_clear_and_settle(
    run_cli, session, fresh_session
):
    from datetime import UTC, datetime, timedelta

    from allocation.models import Auction, AuctionStatus
    from carbon_market.kernel.access.roles import Role
    from tests.factories import make_user

    make_user(session, role=Role.REGULATOR, name="reg")
    session.commit()
    now = datetime.now(UTC)
    opened = run_cli(
        "allocation", "auction", "open", "--year", "2026", "--volume", "100",
        "--reserve-price", "50.00", "--bidder-limit", "10", "--opens", now.isoformat(),
        "--closes", (now + timedelta(hours=1)).isoformat(), "--as", "reg",
    )  # fmt: skip
    assert opened.exit_code == 0, opened.stderr
    assert "100 allowance 2026 from 50.00" in opened.stdout
    auction_id = opened.stdout.split()[1]

    early = run_cli("allocation", "auction", "clear", auction_id, "--as", "reg")
    assert early.exit_code == 1
    assert "closes at" in early.stderr
    unsettled = run_cli("allocation", "auction", "settle", auction_id, "--as", "reg")
    assert unsettled.exit_code == 1

    # An auction whose window is over (written as a row: nobody may open one in the past).
    with fresh_session() as s:
        past = Auction(
            year=2026, unit_kind="allowance", vintage=2026, volume=10,
            reserve_price=D("50.00"), bidder_limit=10, status=AuctionStatus.OPEN,
            opens_at=now - timedelta(hours=2), closes_at=now - timedelta(hours=1),
            created_at=now, created_by="reg",
        )  # fmt: skip
        s.add(past)
        s.commit()
        past_id = str(past.id)
    cleared = run_cli("allocation", "auction", "clear", past_id, "--as", "reg")
    assert cleared.exit_code == 0, cleared.stderr
    assert cleared.stdout.strip() == f"auction {past_id} cleared: 0 sold at none"
    settled = run_cli("allocation", "auction", "settle", past_id, "--as", "reg")
    assert settled.stdout.strip() == (
        "settled 0 bid(s), 0 units, 0.00 CNY due; 0 were settled before"
    )


def test_pre_allocate_and_true_up_commands_report_what_moved(run_cli, session):
    from allocation import service
    from carbon_market.kernel.access.roles import Actor, Role
    from tests.factories import make_user

    make_user(session, role=Role.REGULATOR, name="reg")
    plan = service.create_plan(session, Actor.system(), document=EXAMPLE)
    service.approve_plan(session, Actor.system(name="system:approver"), plan.id)
    session.commit()

    early = run_cli("allocation", "true-up", str(plan.id), "--as", "reg")
    assert early.exit_code == 1
    assert "no pre-allocation" in early.stderr
    pre = run_cli("allocation", "pre-allocate", str(plan.id), "--as", "reg")
    assert pre.exit_code == 0, pre.stderr
    # No facility in this registry: nothing to move, but the stage is recorded.
    assert pre.stdout.startswith("pre_allocation: 0 facilit(ies) moved, 0 allowances issued")
    trued = run_cli("allocation", "true-up", str(plan.id), "--as", "reg")
    assert trued.exit_code == 0, trued.stderr
    assert trued.stdout.startswith("true_up: 0 facilit(ies) moved")


def _reserve_plan(session, *, facility_type):
    """An approved EXAMPLE plan with 10,000 allowances issued for its reserve, one power
    facility of ``facility_type`` and two regulators, ``reg`` and ``reg2``."""
    from allocation import service
    from carbon_market.emitters import service as emitters
    from carbon_market.kernel.access.roles import Actor, Role
    from carbon_market.ledger import transactions as ledger
    from tests.factories import make_enterprise, make_user

    make_user(session, role=Role.REGULATOR, name="reg")
    make_user(session, role=Role.REGULATOR, name="reg2")
    firm = make_enterprise(session, name="北京电厂", sector="power")
    unit = emitters.add_facility(
        session, Actor.system(), firm.id, name="1号机组", facility_type=facility_type
    )
    ledger.issue(session, Actor.system(), unit_kind="allowance", vintage=2025, quantity=10000)
    plan = service.create_plan(session, Actor.system(), document=EXAMPLE)
    service.approve_plan(session, Actor.system(name="system:approver"), plan.id)
    session.commit()
    return plan, unit


def test_new_entrant_and_reduction_commands_record_and_a_second_regulator_decides(run_cli, session):
    plan, unit = _reserve_plan(session, facility_type="gas")

    # Gas 10,000 MWh × 0.3305 = 3,305 t a year; from 1 November: 2 months → 550.833333 → 550.
    result = run_cli("allocation", "new-entrant", str(plan.id), "--facility", str(unit.id),
                     "--output", "10000", "--start", "2025-11-01", "--as", "reg")  # fmt: skip
    assert result.exit_code == 0, result.stderr
    assert f"new_entrant 1: 550 allowances for facility {unit.id} (2 months), pending" in (
        result.stdout
    )
    own = run_cli("allocation", "approve-record", str(plan.id), "1", "--as", "reg")
    assert own.exit_code == 1
    assert own.stderr.startswith("error: A second person must approve:")
    approved = run_cli("allocation", "approve-record", str(plan.id), "1", "--as", "reg2")
    assert approved.exit_code == 0, approved.stderr
    assert approved.stdout.startswith("new_entrant 1 approved: 550 allowances, transaction ")

    # 2,000 MWh removed from 1 December: 2,000 × 0.3305 = 661 t a year × 1/12 = 55.083333
    # → 55 to return.
    reduced = run_cli("allocation", "capacity-reduction", str(plan.id), "--facility",
                      str(unit.id), "--output", "2000", "--effective", "2025-12-01",
                      "--as", "reg")  # fmt: skip
    assert reduced.exit_code == 0, reduced.stderr
    assert f"capacity_reduction 2: 55 allowances to return from facility {unit.id}" in (
        reduced.stdout
    )
    wrong = run_cli("allocation", "reject-record", str(plan.id), "2", "--as", "reg2")
    assert wrong.exit_code == 1  # record 2 is a reduction, not a new entrant
    assert "no new_entrant record 2" in wrong.stderr
    # A reason longer than the record keeps is refused whole, not cut to fit.
    long = run_cli("allocation", "reject-record", str(plan.id), "2", "--kind",
                   "capacity-reduction", "--reason", "x" * 501, "--as", "reg2")  # fmt: skip
    assert long.exit_code == 1
    assert long.stderr.startswith("error: Validation failed: a reason is at most 500 characters")
    rejected = run_cli("allocation", "reject-record", str(plan.id), "2", "--kind",
                       "capacity-reduction", "--reason", "typo", "--as", "reg2")  # fmt: skip
    assert rejected.exit_code == 0, rejected.stderr
    assert rejected.stdout.strip() == "capacity_reduction 2 rejected"
    bad = run_cli("allocation", "capacity-reduction", str(plan.id), "--facility", str(unit.id),
                  "--output", "lots", "--effective", "2025-12-01", "--as", "reg")  # fmt: skip
    assert bad.exit_code != 0


def test_reserve_record_commands_take_the_power_corrections_the_api_takes(run_cli, session):
    plan, unit = _reserve_plan(session, facility_type="coal")
    corrections = ["--category", "coal_300mw_plus", "--heat-gj", "100", "--cooling", "air",
                   "--heat-supply-ratio", "0", "--load-rate", "0.82"]  # fmt: skip

    # Air-cooled, pure condensing, 1,000 MWh at F = 82 %, 100 GJ of heat:
    # 1000 × 0.7950 × 1.05 × 1 × 1.0042 + 100 × 0.1260 = 838.25595 + 12.6 = 850.855950 t a
    # year; from 15 September, 4 months: 850.855950 × 4 / 12 = 283.618650 → 283.
    added = run_cli("allocation", "new-entrant", str(plan.id), "--facility", str(unit.id),
                    "--output", "1000", "--start", "2025-09-15", *corrections,
                    "--as", "reg")  # fmt: skip
    assert added.exit_code == 0, added.stderr
    assert "new_entrant 1: 283 allowances" in added.stdout
    approved = run_cli("allocation", "approve-record", str(plan.id), "1", "--as", "reg2")
    assert approved.exit_code == 0, approved.stderr
    # Removed from 1 December, the same figures: 850.855950 × 1 / 12 = 70.904662 → 70.
    removed = run_cli("allocation", "capacity-reduction", str(plan.id), "--facility",
                      str(unit.id), "--output", "1000", "--effective", "2025-12-01",
                      *corrections, "--as", "reg")  # fmt: skip
    assert removed.exit_code == 0, removed.stderr
    assert "capacity_reduction 2: 70 allowances to return" in removed.stdout

    # The API schema's checks, named by option; nothing is recorded.
    bad = run_cli("allocation", "capacity-reduction", str(plan.id), "--facility", str(unit.id),
                  "--output", "lots", "--effective", "2025-12-01", "--cooling", "sea",
                  "--load-rate", "1.5", "--as", "reg")  # fmt: skip
    assert bad.exit_code == 1
    title, *errors = bad.stderr.splitlines()
    assert title == "error: Validation failed: the record's figures are not valid"
    assert sorted(errors) == [
        "  --cooling: Must be one of: air, water.",
        "  --load-rate: Must be greater than or equal to 0 and less than or equal to 1.",
        "  --output: Not a valid number.",
    ]
    from sqlalchemy import func, select

    from allocation.models import AllocationAdjustment

    session.expire_all()
    assert session.scalar(select(func.count()).select_from(AllocationAdjustment)) == 2


def test_auction_open_refuses_a_reserve_price_of_nan_or_past_the_bound(run_cli, session):
    # The command line hands the price to the service as a Decimal: NaN once raised
    # InvalidOperation at the service's comparison (a traceback, not an error line).
    from datetime import UTC, datetime, timedelta

    from allocation.models import Auction
    from carbon_market.kernel.access.roles import Role
    from tests.factories import make_user

    make_user(session, role=Role.REGULATOR, name="reg")
    session.commit()
    now = datetime.now(UTC)
    for price in ("NaN", "Infinity", "1000000.00"):
        result = run_cli(
            "allocation", "auction", "open", "--year", "2026", "--volume", "100",
            "--reserve-price", price, "--bidder-limit", "10", "--opens", now.isoformat(),
            "--closes", (now + timedelta(hours=1)).isoformat(), "--as", "reg",
        )  # fmt: skip
        assert result.exit_code == 1, (price, result.stdout)
        assert "#/reserve_price: must be positive, below 1000000" in result.stderr, price
    assert session.query(Auction).count() == 0


def test_an_id_or_year_beyond_what_is_stored_is_a_usage_error_not_a_crash(run_cli, session):
    from carbon_market.kernel.access.roles import Role
    from tests.factories import make_user

    make_user(session, role=Role.REGULATOR, name="reg")
    session.commit()
    # 2^63 overflowed the database driver (a traceback); click now refuses it (exit 2).
    for args in (
        ("allocation", "true-up", str(2**63)),
        ("allocation", "approve-record", "1", str(2**63)),
        ("allocation", "auction", "open", "--year", "99999999999", "--volume", "1",
         "--reserve-price", "1", "--bidder-limit", "1", "--opens", "2026-01-01T00:00",
         "--closes", "2026-01-02T00:00"),
    ):  # fmt: skip
        result = run_cli(*args, "--as", "reg")
        assert result.exit_code == 2, (args, result.stderr)
        assert "is not in the range" in result.stderr
