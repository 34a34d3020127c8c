"""The compliance sweep: every covered enterprise's status for a year, set-based.

Seven aggregate queries (covered enterprises, reports, allocations, surrenders, gas units,
extensions, exemptions) read everything the statuses depend on; plain dicts and the pure
rules decide each row; one bulk replace (DELETE of the year, executemany INSERT, in one unit
of work) writes ``compliance_status``. The cost does not grow with round trips: 100,000
enterprises take a few seconds on SQLite (``bench/compliance.py``).
Running it twice for the same day writes the same rows.
"""

from __future__ import annotations

from datetime import UTC, date
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from carbon_market.compliance import queries
from carbon_market.compliance.enums import ComplianceStatusKind
from carbon_market.compliance.models import ComplianceStatus, ComplianceYear
from carbon_market.compliance.rules.obligations import ObligationInput, obligation
from carbon_market.compliance.rules.status import standing
from carbon_market.emitters.models import Enterprise
from carbon_market.kernel.access.policy import authorize, tenant_scope
from carbon_market.kernel.access.roles import Actor
from carbon_market.kernel.audit.service import record
from carbon_market.kernel.db import clock_of, each_in_own_unit, transactional
from carbon_market.kernel.errors import Conflict

#: What the sweep writes for each row besides the keys.
UPDATED = (
    "obligation_t",
    "surrendered_t",
    "offsets_surrendered_t",
    "shortfall_t",
    "status",
    "adjustment",
    "as_of",
    "computed_at",
)


#: A status row as the sweep writes it, in :data:`COLUMNS` order.
Row = tuple[Any, ...]


def compute(
    session: Session, found: ComplianceYear, today: date, enterprise_id: int | None = None
) -> list[Row]:
    """The status rows of every covered enterprise (or only ``enterprise_id``) on ``today``
    (nothing written), as tuples in :data:`COLUMNS` order: 100,000 of them are built in the
    sweep's hot loop."""
    year = found.year
    book = queries.book_of(found)
    caps = book.obligation_caps
    capped = caps.gas_capped_at_allocation or year in caps.shortfall_cap_years
    every_year_capped = year in caps.shortfall_cap_years
    now = clock_of(session).now()
    only = enterprise_id
    enterprises = queries.covered(session, only)
    reports = queries.reports(session, year, only)
    allocations = queries.allocations(session, year, only) if capped else {}
    surrenders = queries.surrenders(session, year, only)
    gas = queries.gas_units(session, only) if caps.gas_capped_at_allocation else set()
    extensions = queries.extensions(session, year, only)
    exempt = queries.exemptions(session, year, only)
    bounds: dict[date, Any] = {}

    def on_time(last: Any, deadline: date) -> bool:
        if last is None:
            return True
        if deadline not in bounds:
            bounds[deadline] = queries.utc_bound(session, deadline)
        return bool(last < bounds[deadline])

    none = queries.SurrenderFacts()
    approved, latest = reports.approved_t, reports.latest_status
    rows: list[Row] = []
    for owner in enterprises:
        verified = approved.get(owner)
        done = surrenders.get(owner, none)
        due, why = verified, None
        if verified is not None and (every_year_capped or owner in gas):
            duty = obligation(
                ObligationInput(year, verified, allocations.get(owner), owner in gas), book
            )
            due, why = duty.obligation_t, duty.adjustment
        deadline = extensions.get(owner, found.surrender_deadline)
        surrendered = done.allowances_t + done.offsets_t
        result = standing(
            exempt=owner in exempt,
            report_status=latest.get(owner),
            obligation_t=due,
            surrendered_t=surrendered,
            completed_on_time=lambda: on_time(done.last_completed_at, deadline),  # noqa: B023
            deadline=deadline,
            today=today,
        )
        rows.append(
            (
                year, owner, due or 0, surrendered, done.offsets_t, result.shortfall_t,
                result.status.value, why, today, now,
            )
        )  # fmt: skip
    return rows


COLUMNS = ("year", "enterprise_id", *UPDATED)
STATUS = COLUMNS.index("status")


def _replace(
    session: Session, year: int, rows: list[Row], enterprise_id: int | None = None
) -> None:
    """The year's rows replaced in one unit of work: a DELETE of the year, then one
    executemany INSERT on the session connection's DB-API cursor, the values already in the
    stored form (naive-UTC timestamps, ISO dates on SQLite) the ORM's column types write.

    The upsert in effect (readers see the old rows or the new, never a mix), measured a
    third faster than ``INSERT … ON CONFLICT DO UPDATE`` over 100,000 rows on SQLite, and
    it drops the rows of enterprises no longer covered on the way. With ``enterprise_id``
    only that enterprise's row is replaced (a correction's re-run)."""
    connection = session.connection()
    dialect = connection.dialect.name
    mark = "%s" if dialect == "postgresql" else "?"
    cursor = connection.connection.driver_connection.cursor()  # type: ignore[union-attr]
    try:
        only = "" if enterprise_id is None else f" AND enterprise_id = {mark}"
        params = (year,) if enterprise_id is None else (year, enterprise_id)
        cursor.execute(f"DELETE FROM compliance_status WHERE year = {mark}{only}", params)  # noqa: S608
        if not rows:
            return
        as_of, computed = rows[0][-2], rows[0][-1].astimezone(UTC).replace(tzinfo=None)
        if dialect == "sqlite":
            as_of, computed = as_of.isoformat(), computed.strftime("%Y-%m-%d %H:%M:%S.%f")
        cursor.executemany(
            f"INSERT INTO compliance_status ({', '.join(COLUMNS)}) "  # noqa: S608  (constants)
            f"VALUES ({', '.join([mark] * len(COLUMNS))})",
            [(*row[:-2], as_of, computed) for row in rows],
        )
    finally:
        cursor.close()


@transactional
def sweep(session: Session, actor: Actor, year: int, today: date) -> dict[str, Any]:
    """Recompute every covered enterprise's status in ``year`` as of ``today`` and store
    it; rows of enterprises no longer covered go. Returns the count per status."""
    authorize(actor, "compliance.manage")
    found = queries.load_year(session, year)
    rows = compute(session, found, today)
    _replace(session, year, rows)
    counts = {kind.value: 0 for kind in ComplianceStatusKind}
    for row in rows:
        counts[row[STATUS]] += 1
    record(
        session,
        actor,
        action="compliance_year:sweep",
        entity_type="compliance_year",
        entity_id=year,
        after={"as_of": today.isoformat(), "enterprises": len(rows), "statuses": counts},
    )
    return {"year": year, "as_of": today, "enterprises": len(rows), "statuses": counts}


def sweep_one(session: Session, year: int, enterprise_id: int, today: date) -> Row | None:
    """Recompute and store one enterprise's row of ``year`` as of ``today`` (the corrections
    cascade; the caller authorised and audits). Returns the row, None if not covered."""
    found = queries.load_year(session, year)
    rows = compute(session, found, today, enterprise_id)
    _replace(session, year, rows, enterprise_id)
    return rows[0] if rows else None


def sweep_open_years(session: Session, actor: Actor, today: date) -> list[dict[str, Any]]:
    """Sweep every year open on ``today`` (:func:`queries.open_years`); one unit of work
    per year."""
    years = [found.year for found in queries.open_years(session, today)]
    return each_in_own_unit(session, years, lambda year: sweep(session, actor, year, today))


def list_status(
    session: Session,
    actor: Actor,
    year: int,
    *,
    sector: str | None = None,
    district: str | None = None,
    status: ComplianceStatusKind | None = None,
) -> list[dict[str, Any]]:
    """The status table of ``year`` as the last sweep left it (an enterprise user: its own
    row), with each enterprise's credit code, name, sector and district."""
    authorize(actor, "compliance.read")
    queries.load_year(session, year)
    return _rows(session, year, tenant_scope(actor), sector, district, status)


def list_results(session: Session, actor: Actor, year: int) -> list[dict[str, Any]]:
    """The published results of ``year``: every covered enterprise's final standing, for
    every signed-in user, once the surrender deadline has passed (Conflict before)."""
    authorize(actor, "compliance.results")
    found = queries.load_year(session, year)
    if queries.today_of(session) <= found.surrender_deadline:
        raise Conflict(
            f"the results of {year} are published after the surrender deadline "
            f"({found.surrender_deadline})"
        )
    return _rows(session, year, None, None, None, None)


def _rows(
    session: Session,
    year: int,
    enterprise_id: int | None,
    sector: str | None,
    district: str | None,
    status: ComplianceStatusKind | None,
) -> list[dict[str, Any]]:
    query = (
        select(
            Enterprise.credit_code.label("enterprise"),
            Enterprise.name,
            Enterprise.sector,
            Enterprise.district,
            ComplianceStatus.obligation_t,
            ComplianceStatus.surrendered_t,
            ComplianceStatus.offsets_surrendered_t,
            ComplianceStatus.shortfall_t,
            ComplianceStatus.status,
            ComplianceStatus.as_of,
        )
        .join(Enterprise, Enterprise.id == ComplianceStatus.enterprise_id)
        .where(ComplianceStatus.year == year)
        .order_by(Enterprise.credit_code)
    )
    for column, value in (
        (ComplianceStatus.enterprise_id, enterprise_id),
        (Enterprise.sector, sector),
        (Enterprise.district, district),
        (ComplianceStatus.status, status),
    ):
        if value is not None:
            query = query.where(column == value)
    return [dict(row._mapping) for row in session.execute(query)]
