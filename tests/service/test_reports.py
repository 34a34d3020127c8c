"""The emission reports service: workflow, refusals that change nothing, tenancy, history."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal as D
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from carbon_market.kernel.access.roles import Actor, Role
from carbon_market.kernel.audit.models import AuditEvent
from carbon_market.kernel.auth.service import actor_for
from carbon_market.kernel.errors import (
    Conflict,
    DomainError,
    NotFound,
    PermissionDenied,
    RuleViolation,
    ValidationFailed,
)
from carbon_market.kernel.pagination import PageRequest
from carbon_market.mrv.factors.models import EmissionFactorSet
from carbon_market.mrv.reports import workflow as svc
from carbon_market.mrv.reports.enums import ReportStatus
from carbon_market.mrv.reports.models import EmissionReport, ReportStream
from tests.factories import make_enterprise, make_user

YEAR = 2025
#: Worked example, cn-default factors (GB/T 32150 defaults; grid 0.5366 tCO2/MWh):
#:   natural gas 100 × 10^4 Nm3: 100 × 389.31 GJ = 38 931 GJ; × 0.01530 tC/GJ = 595.6443 tC;
#:     × 0.99 = 589.687857 tC; × 44/12 = 2162.188809 tCO2 (exact: 25 946.265708 / 12);
#:   electricity filed by month: January 400 MWh × 0.5366 = 214.64 t,
#:     February 600 MWh × 0.5366 = 321.96 t;
#:   reported co2_t = 2162.188809 + 214.64 + 321.96 = 2698.788809 t.
STREAMS: list[dict[str, Any]] = [
    {"kind": "fuel", "fuel": "natural_gas", "quantity": "100", "unit": "10^4 Nm3"},
    {"kind": "electricity", "quantity": "400", "unit": "MWh", "month": 1, "evidence": "1月电费单"},
    {"kind": "electricity", "quantity": "600", "unit": "MWh", "month": 2, "evidence": "2月电费单"},
]
REPORTED = D("2698.788809")


@dataclass
class People:
    own: Actor
    other: Actor
    regulator: Actor
    verifier: Actor
    second_verifier: Actor
    auditor: Actor
    credit_code: str
    other_credit_code: str


@pytest.fixture
def people(session: Session, regulator: Any, auditor: Any) -> People:
    own = make_enterprise(session, name="北京甲热电有限公司")
    other = make_enterprise(session, name="北京乙水泥有限公司", sector="cement")
    return People(
        own=actor_for(make_user(session, role=Role.ENTERPRISE, name="alpha", enterprise=own)),
        other=actor_for(make_user(session, role=Role.ENTERPRISE, name="beta", enterprise=other)),
        regulator=actor_for(regulator),
        verifier=actor_for(make_user(session, role=Role.VERIFIER, name="verifier-1")),
        second_verifier=actor_for(make_user(session, role=Role.VERIFIER, name="verifier-2")),
        auditor=actor_for(auditor),
        credit_code=own.credit_code,
        other_credit_code=other.credit_code,
    )


def _draft(session: Session, p: People, **overrides: Any) -> EmissionReport:
    values: dict[str, Any] = {"enterprise": p.credit_code, "year": YEAR, "streams": STREAMS}
    return svc.create_report(session, p.own, **(values | overrides))


def _verified(session: Session, p: People, figure: D = D("2698.5")) -> EmissionReport:
    report = _draft(session, p)
    svc.submit_report(session, p.own, report.id)
    svc.assign_verifier(session, p.regulator, report.id, verifier="verifier-1")
    return svc.verify_report(session, p.verifier, report.id, verified_co2_t=figure, opinion="符合")


@pytest.fixture
def snapshot_of(session: Session) -> Callable[[], tuple[Any, ...]]:
    """Everything a refused call must leave as it was."""

    def state() -> tuple[Any, ...]:
        session.expire_all()
        reports = session.execute(
            select(
                EmissionReport.id,
                EmissionReport.status,
                EmissionReport.co2_t,
                EmissionReport.verifier_id,
                EmissionReport.verified_co2_t,
                EmissionReport.obligation_t,
            )
        ).all()
        streams = session.execute(select(ReportStream.report_id, ReportStream.quantity)).all()
        frozen = session.execute(select(EmissionFactorSet.id, EmissionFactorSet.is_frozen)).all()
        events = session.scalar(select(func.count()).select_from(AuditEvent))
        return sorted(reports), sorted(streams), sorted(frozen), events

    return state


def test_draft_sums_monthly_streams_into_the_annual_figure_of_the_worked_example(
    session: Session, people: People
) -> None:
    report = _draft(session, people)

    assert report.status is ReportStatus.DRAFT
    assert report.version == 1
    assert report.co2_t == REPORTED
    assert [s["co2_t"] for s in report.breakdown["streams"]] == [
        "2162.188809",
        "214.640000",
        "321.960000",
    ]
    assert [(s.month, s.evidence) for s in report.streams] == [
        (None, None),
        (1, "1月电费单"),
        (2, "2月电费单"),
    ]


def test_whole_workflow_ends_with_the_obligation_rounded_once_half_up(
    session: Session, people: People
) -> None:
    report = _verified(session, people, D("2698.5"))
    approved = svc.approve_report(session, people.regulator, report.id)

    # obligation_t = verified 2698.5 t rounded once, half up (四舍五入) = 2699 t
    # (banker's rounding would give 2698; the reported 2698.788809 plays no part).
    assert approved.status is ReportStatus.APPROVED
    assert approved.verified_co2_t == D("2698.5")
    assert approved.obligation_t == 2699
    actions = session.scalars(
        select(AuditEvent.action).where(AuditEvent.entity_type == "emission_report")
    ).all()
    assert actions == [
        "emission_report:create",
        "emission_report:submit",
        "emission_report:assign",
        "emission_report:verify",
        "emission_report:approve",
    ]


def test_submitting_freezes_the_factor_set_the_report_used(
    session: Session, people: People
) -> None:
    report = _draft(session, people)
    svc.submit_report(session, people.own, report.id)

    factor_set = session.get(EmissionFactorSet, report.factor_set_id)
    assert factor_set is not None
    assert factor_set.is_frozen


def test_editing_a_draft_replaces_its_streams_and_recomputes(
    session: Session, people: People
) -> None:
    report = _draft(session, people)
    # 2000 MWh × 0.5366 tCO2/MWh = 1073.2 t
    edited = svc.update_report(
        session,
        people.own,
        report.id,
        streams=[{"kind": "electricity", "quantity": "2000", "unit": "MWh"}],
    )
    assert edited.co2_t == D("1073.2")
    assert session.scalar(select(func.count()).select_from(ReportStream)) == 1


@pytest.mark.parametrize(
    ("stream", "pointer"),
    [
        ({"kind": "electricity", "quantity": "-5", "unit": "MWh"}, "#/streams/0/quantity"),
        ({"kind": "electricity", "quantity": "lots", "unit": "MWh"}, "#/streams/0/quantity"),
        ({"kind": "fuel", "fuel": "unobtainium", "quantity": "1", "unit": "t"}, "#/streams/0/fuel"),
        ({"kind": "electricity", "quantity": "1", "unit": "furlong"}, "#/streams/0/unit"),
        ({"kind": "fuel", "fuel": "raw_coal", "quantity": "1", "unit": "MWh"}, "#/streams/0/unit"),
        ({"kind": "heat", "quantity": "1.0000001", "unit": "GJ"}, "#/streams/0/quantity"),
        ({"kind": "heat", "quantity": "1", "unit": "GJ", "month": 13}, "#/streams/0/month"),
        ({"kind": "heat", "quantity": "1", "unit": "GJ", "facility": 999}, "#/streams/0/facility"),
        # 999 999 999 999 t × 100 000 tCO2/t ≈ 1E17 t: each value is accepted, but the total
        # is beyond what a report stores (below 1E12 t, as a verified figure); it used to be
        # a 500 when the row was written.
        (
            {
                "kind": "process",
                "activity": "limestone",
                "quantity": "999999999999",
                "unit": "t",
                "factors": {"factor": "100000"},
            },
            "#/streams",
        ),
    ],
    ids=[
        "negative",
        "non-numeric",
        "unknown-fuel",
        "unknown-unit",
        "unit-misfit",
        "too-many-places",
        "month-13",
        "foreign-facility",
        "total-beyond-storage",
    ],
)
def test_bad_stream_is_refused_with_its_pointer_and_nothing_is_stored(
    session: Session,
    people: People,
    snapshot_of: Callable[[], tuple[Any, ...]],
    stream: dict[str, Any],
    pointer: str,
) -> None:
    before = snapshot_of()
    with pytest.raises(ValidationFailed) as info:
        _draft(session, people, streams=[stream])
    assert [e.pointer for e in info.value.errors] == [pointer]
    assert snapshot_of() == before


def test_every_bad_stream_is_reported_at_once(session: Session, people: People) -> None:
    streams = [
        {"kind": "electricity", "quantity": "-5", "unit": "MWh"},
        {"kind": "heat", "quantity": "1", "unit": "GJ", "month": 0},
    ]
    with pytest.raises(ValidationFailed) as info:
        _draft(session, people, streams=streams)
    assert {e.pointer for e in info.value.errors} == {
        "#/streams/0/quantity",
        "#/streams/1/month",
    }


def test_a_year_with_no_factor_set_is_refused(
    session: Session, people: People, snapshot_of: Callable[[], tuple[Any, ...]]
) -> None:
    before = snapshot_of()
    with pytest.raises(ValidationFailed) as info:
        _draft(session, people, year=2031)
    assert [e.pointer for e in info.value.errors] == ["#/year"]
    assert snapshot_of() == before


def _submitted(session: Session, p: People) -> EmissionReport:
    report = _draft(session, p)
    return svc.submit_report(session, p.own, report.id)


def _assigned(session: Session, p: People) -> EmissionReport:
    report = _submitted(session, p)
    return svc.assign_verifier(session, p.regulator, report.id, verifier="verifier-1")


def _approved(session: Session, p: People) -> EmissionReport:
    return svc.approve_report(session, p.regulator, _verified(session, p).id)


REFUSALS: list[tuple[str, Callable[[Session, People], EmissionReport], Any, type]] = [
    ("submit twice", _submitted, lambda s, p, r: svc.submit_report(s, p.own, r.id), Conflict),
    (
        "verify a report not assigned to you",
        _assigned,
        lambda s, p, r: svc.verify_report(
            s, p.second_verifier, r.id, verified_co2_t=D("1"), opinion="x"
        ),
        NotFound,
    ),
    (
        "verify a report assigned to nobody",
        _submitted,
        lambda s, p, r: svc.verify_report(s, p.verifier, r.id, verified_co2_t=D("1"), opinion="x"),
        NotFound,
    ),
    (
        "approve an unverified report",
        _assigned,
        lambda s, p, r: svc.approve_report(s, p.regulator, r.id),
        Conflict,
    ),
    (
        "edit an approved report",
        _approved,
        lambda s, p, r: svc.update_report(s, p.own, r.id, streams=STREAMS),
        Conflict,
    ),
    (
        "edit a submitted report",
        _submitted,
        lambda s, p, r: svc.update_report(s, p.own, r.id, streams=STREAMS),
        Conflict,
    ),
    (
        "return an approved report",
        _approved,
        lambda s, p, r: svc.return_report(s, p.regulator, r.id, reasons=["x"]),
        Conflict,
    ),
    (
        "assign a user who is not a verifier",
        _submitted,
        lambda s, p, r: svc.assign_verifier(s, p.regulator, r.id, verifier="alpha"),
        ValidationFailed,
    ),
    (
        "another enterprise reads the report",
        _draft,
        lambda s, p, r: svc.get_report(s, p.other, r.id),
        NotFound,
    ),
    (
        "another enterprise submits the report",
        _draft,
        lambda s, p, r: svc.submit_report(s, p.other, r.id),
        NotFound,
    ),
    (
        "a regulator submits for the enterprise",
        _draft,
        lambda s, p, r: svc.submit_report(s, p.regulator, r.id),
        PermissionDenied,
    ),
    (
        "a second open version of the same year",
        _submitted,
        lambda s, p, r: _draft(s, p),
        Conflict,
    ),
]


@pytest.mark.parametrize(
    ("make", "act", "error"),
    [pytest.param(make, act, error, id=name) for name, make, act, error in REFUSALS],
)
def test_refused_step_raises_and_changes_nothing(
    session: Session,
    people: People,
    snapshot_of: Callable[[], tuple[Any, ...]],
    make: Callable[[Session, People], EmissionReport],
    act: Callable[[Session, People, EmissionReport], Any],
    error: type[DomainError],
) -> None:
    report = make(session, people)
    before = snapshot_of()
    with pytest.raises(error):
        act(session, people, report)
    assert snapshot_of() == before


def test_a_difference_beyond_the_threshold_needs_a_reason(session: Session, people: People) -> None:
    report = _assigned(session, people)
    # 5 % of 2698.788809 = 134.93944045; 2500 differs by 198.788809 > 134.939..., so a reason
    # is required; 2600 differs by 98.788809 and needs none.
    with pytest.raises(RuleViolation) as info:
        svc.verify_report(
            session, people.verifier, report.id, verified_co2_t=D("2500"), opinion="偏差较大"
        )
    assert [e.pointer for e in info.value.errors] == ["#/reason"]
    verified = svc.verify_report(
        session,
        people.verifier,
        report.id,
        verified_co2_t=D("2500"),
        opinion="偏差较大",
        reason="天然气计量表校准偏差",
    )
    assert verified.reason == "天然气计量表校准偏差"


def test_the_threshold_is_a_fraction_of_the_reported_figure() -> None:
    assert not svc.is_beyond_threshold(D("100"), D("105"), D("0.05"))
    assert svc.is_beyond_threshold(D("100"), D("105.000001"), D("0.05"))
    assert svc.is_beyond_threshold(D("0"), D("0.000001"), D("0.05"))


def test_a_returned_report_is_edited_and_submitted_again(session: Session, people: People) -> None:
    report = _verified(session, people)
    returned = svc.return_report(session, people.regulator, report.id, reasons=["缺少2月电费单"])
    assert returned.status is ReportStatus.RETURNED
    assert returned.verified_co2_t is None
    assert returned.return_reasons == ["缺少2月电费单"]

    svc.update_report(session, people.own, report.id, streams=STREAMS[:1])
    resubmitted = svc.submit_report(session, people.own, report.id)
    assert resubmitted.status is ReportStatus.SUBMITTED
    assert resubmitted.co2_t == D("2162.188809")


def test_a_correction_of_an_approved_report_is_a_new_version_and_history_is_kept(
    session: Session, people: People
) -> None:
    first = _approved(session, people)
    second = _draft(session, people, streams=STREAMS[:1])

    assert second.version == 2
    assert second.status is ReportStatus.DRAFT
    session.expire_all()
    kept = session.get(EmissionReport, first.id)
    assert kept is not None
    assert (kept.status, kept.obligation_t, kept.co2_t) == (ReportStatus.APPROVED, 2699, REPORTED)


def test_each_role_lists_only_the_reports_it_may_see(session: Session, people: People) -> None:
    mine = _assigned(session, people)
    theirs = svc.create_report(
        session, people.regulator, enterprise=people.other_credit_code, year=YEAR, streams=STREAMS
    )
    page = PageRequest(page=1, page_size=50)
    filters = svc.ReportFilter()

    def ids(actor: Actor) -> set[int]:
        return {r.id for r in svc.list_reports(session, actor, filters=filters, page=page).items}

    assert ids(people.own) == {mine.id}
    assert ids(people.other) == {theirs.id}
    assert ids(people.verifier) == {mine.id}
    assert ids(people.second_verifier) == set()
    assert ids(people.regulator) == ids(people.auditor) == {mine.id, theirs.id}
    only_theirs = svc.ReportFilter(enterprise=people.other_credit_code, year=YEAR)
    listed = svc.list_reports(session, people.regulator, filters=only_theirs, page=page)
    assert [r.id for r in listed.items] == [theirs.id]
