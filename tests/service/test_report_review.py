"""Report output and intensities, review flags, partial edits, the monthly series, and the
rule that the regulator who filed a report does not approve it."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal as D
from typing import Any

import pytest
from sqlalchemy.orm import Session

from carbon_market.kernel.access.roles import Actor, Role
from carbon_market.kernel.auth.service import actor_for
from carbon_market.kernel.errors import FourEyesViolation
from carbon_market.kernel.pagination import PageRequest
from carbon_market.mrv.reports import workflow as svc
from carbon_market.mrv.reports.enums import ReportStatus
from carbon_market.mrv.reports.models import EmissionReport
from carbon_market.mrv.reports.output import Output
from tests.factories import make_enterprise, make_user

#: cn-default: electricity 400 MWh × 0.5366 = 214.64 t (January), 600 × 0.5366 = 321.96 t
#: (February); natural gas 100 × 10^4 Nm3 = 2162.188809 t for the year: 2698.788809 t.
STREAMS: list[dict[str, Any]] = [
    {"kind": "fuel", "fuel": "natural_gas", "quantity": "100", "unit": "10^4 Nm3"},
    {"kind": "electricity", "quantity": "400", "unit": "MWh", "month": 1},
    {"kind": "electricity", "quantity": "600", "unit": "MWh", "month": 2},
]
#: Raw coal with a supplied NCV of 35 GJ/t, above the expected 11.5–32.2 GJ/t.
ODD_COAL = {
    "kind": "fuel",
    "fuel": "raw_coal",
    "quantity": "10",
    "unit": "t",
    "factors": {"ncv": "35"},
}


@dataclass
class People:
    own: Actor
    regulator: Actor
    second_regulator: Actor
    verifier: Actor
    credit_code: str


@pytest.fixture
def people(session: Session, regulator: Any) -> People:
    own = make_enterprise(session, name="北京丙水泥有限公司", sector="cement")
    return People(
        own=actor_for(make_user(session, role=Role.ENTERPRISE, name="gamma", enterprise=own)),
        regulator=actor_for(regulator),
        second_regulator=actor_for(make_user(session, role=Role.REGULATOR, name="reg-2")),
        verifier=actor_for(make_user(session, role=Role.VERIFIER, name="verifier-1")),
        credit_code=own.credit_code,
    )


def _file(
    session: Session, p: People, year: int, streams: list[dict[str, Any]], **extra: Any
) -> EmissionReport:
    actor = extra.pop("actor", p.own)
    return svc.create_report(
        session, actor, enterprise=p.credit_code, year=year, streams=streams, **extra
    )


def test_output_is_stored_and_a_partial_edit_keeps_what_it_does_not_name(
    session: Session, people: People
) -> None:
    output = Output(D("1350"), "t clinker", D("4500"))
    report = _file(session, people, 2025, STREAMS, output=output)
    assert report.output() == output

    # Streams only: the output stays.
    svc.update_report(session, people.own, report.id, streams=STREAMS[:1])
    assert report.output() == output
    assert report.co2_t == D("2162.188809")
    # Output only: the streams and figures stay.
    svc.update_report(session, people.own, report.id, output=Output(value_10k_cny=D("10")))
    assert report.output() == Output(value_10k_cny=D("10"))
    assert report.co2_t == D("2162.188809")
    assert len(report.streams) == 1
    # None clears the output.
    svc.update_report(session, people.own, report.id, output=None)
    assert report.output() == Output()


def test_flags_are_stored_with_the_report_and_lists_filter_on_them(
    session: Session, people: People
) -> None:
    quiet = _file(session, people, 2024, STREAMS)
    odd = _file(session, people, 2025, [*STREAMS, ODD_COAL])

    assert quiet.flags == []
    assert quiet.flag_count == 0
    assert odd.flag_count == 1
    assert odd.flags[0]["code"] == "fuel_range"
    assert odd.flags[0]["pointer"] == "#/streams/3/factors/ncv"

    def ids(flagged: bool) -> list[int]:
        page = svc.list_reports(
            session,
            people.regulator,
            filters=svc.ReportFilter(flagged=flagged),
            page=PageRequest(1, 50),
        )
        return [r.id for r in page.items]

    assert ids(True) == [odd.id]
    assert ids(False) == [quiet.id]
    # Editing the odd stream away clears the flag.
    svc.update_report(session, people.own, odd.id, streams=STREAMS)
    assert odd.flag_count == 0
    assert ids(True) == []


def test_a_january_that_jumps_against_last_years_filed_january_is_flagged(
    session: Session, people: People
) -> None:
    # 2024 January: 400 MWh (filed and submitted). 2025 January 700 MWh > 1.5 × 400 = 600.
    last_year = _file(session, people, 2024, STREAMS)
    this_year = [{"kind": "electricity", "quantity": "700", "unit": "MWh", "month": 1}]

    # While last year's report is a draft it is not history yet: no flag.
    assert _file(session, people, 2025, this_year).flag_count == 0

    svc.submit_report(session, people.own, last_year.id)
    (report,) = svc.list_reports(
        session, people.own, filters=svc.ReportFilter(year=2025), page=PageRequest(1, 5)
    ).items
    svc.update_report(session, people.own, report.id, streams=this_year)
    assert [(f["code"], f["stream"], f["value"]) for f in report.flags] == [
        ("monthly_jump", 0, "700")
    ]
    assert "2024-01" in report.flags[0]["detail"]

    # 590 MWh is within 1.5 × 400 and above 400 ÷ 1.5: no flag.
    calmer = [{"kind": "electricity", "quantity": "590", "unit": "MWh", "month": 1}]
    svc.update_report(session, people.own, report.id, streams=calmer)
    assert report.flags == []


def test_units_are_compared_in_the_base_unit(session: Session, people: People) -> None:
    # 2024 January 400 MWh; 2025 January 500 000 kWh = 500 MWh, within 1.5 × 400: no flag,
    # although 500 000 is far above 400 as a bare number.
    svc.submit_report(session, people.own, _file(session, people, 2024, STREAMS).id)
    this_year = [{"kind": "electricity", "quantity": "500000", "unit": "kWh", "month": 1}]
    assert _file(session, people, 2025, this_year).flags == []


def test_the_regulator_who_filed_a_report_cannot_approve_it(
    session: Session, people: People
) -> None:
    report = _file(session, people, 2025, STREAMS, actor=people.regulator)
    svc.submit_report(session, people.own, report.id)
    svc.assign_verifier(session, people.regulator, report.id, verifier="verifier-1")
    svc.verify_report(
        session, people.verifier, report.id, verified_co2_t=D("2698.5"), opinion="符合"
    )

    with pytest.raises(FourEyesViolation, match="another regulator"):
        svc.approve_report(session, people.regulator, report.id)
    session.expire_all()
    assert session.get(EmissionReport, report.id).status is ReportStatus.VERIFIED  # type: ignore[union-attr]

    approved = svc.approve_report(session, people.second_regulator, report.id)
    assert approved.obligation_t == 2699  # 2698.5 half up


def test_the_monthly_series_is_the_latest_versions_co2_by_month(
    session: Session, people: People
) -> None:
    assert svc.monthly_series(session, people.regulator, 1, 2025) == {}
    report = _file(session, people, 2025, STREAMS)
    series = svc.monthly_series(session, people.regulator, report.enterprise_id, 2025)
    # January 400 × 0.5366 = 214.64 t; February 600 × 0.5366 = 321.96 t; the gas filed
    # for the whole year is in no month.
    assert series == {1: D("214.64"), 2: D("321.96")}


def test_every_enterprises_months_are_read_at_once(session: Session, people: People) -> None:
    from carbon_market.mrv.reports.monthly import monthly_by_enterprise

    other = make_enterprise(session, name="北京丁热力有限公司", sector="heat")
    other_user = actor_for(make_user(session, role=Role.ENTERPRISE, name="delta", enterprise=other))
    mine = _file(session, people, 2025, STREAMS)
    # The other files March only: 1 000 MWh × 0.5366 = 536.6 t; and a 2024 report that must
    # not appear in 2025's figures.
    march = [{"kind": "electricity", "quantity": "1000", "unit": "MWh", "month": 3}]
    theirs = svc.create_report(
        session, other_user, enterprise=other.credit_code, year=2025, streams=march
    )
    svc.create_report(session, other_user, enterprise=other.credit_code, year=2024, streams=march)

    figures = monthly_by_enterprise(session, 2025)
    assert set(figures) == {mine.enterprise_id, theirs.enterprise_id}
    assert figures[mine.enterprise_id].months == {1: D("214.64"), 2: D("321.96")}
    assert figures[mine.enterprise_id].annual == D("2162.188809")
    assert figures[theirs.enterprise_id].months == {3: D("536.6")}
    assert figures[theirs.enterprise_id].annual == 0
    # The same months as the one-report series gives.
    assert figures[mine.enterprise_id].months == svc.monthly_series(
        session, people.regulator, mine.enterprise_id, 2025
    )
    assert monthly_by_enterprise(session, 2023) == {}
