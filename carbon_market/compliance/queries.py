"""The aggregate reads compliance decides on: a handful of GROUP BY queries, each for one
enterprise (a surrender) or for all of them at once (the sweep), never one per enterprise.

They go to the DB-API cursor of the session's connection (same transaction) as plain SQL,
as the ledger's hot path does: over 100,000 enterprises SQLAlchemy's per-row result
processing (enums, timestamps) cost more than the database did (``bench/compliance.py``).
The SQL is portable; only the parameter style differs (``?`` / ``%s``).

* **Reports**: the latest version's status and the latest *approved* version's obligation
  (a correction in progress does not hide the figure that stands).
* **Free allocation**: the completed ``allocation`` transactions of vintage ``year`` into the
  enterprise's compliance account, less their completed reversals. The ledger is what the
  enterprise actually received; the allocation engine's results may not have been issued.
* **Surrenders**: the ``compliance_surrender`` rows of the year with their transaction's
  status: pending ones (``pending_approval``, ``delayed``) count as already surrendering
  when a new surrender is checked; only completed ones count towards the status.
* **Gas units**: an enterprise whose facilities are all ``gas_unit`` (the national gas cap).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from carbon_market.compliance.models import ComplianceYear
from carbon_market.compliance.rules.rulebook import Rulebook, parse_rulebook
from carbon_market.kernel.clock import local_date
from carbon_market.kernel.db import clock_of, config_of
from carbon_market.kernel.errors import NotFound


def today_of(session: Session) -> date:
    """Today in the deadline time zone, by the injected clock."""
    return local_date(clock_of(session).now(), config_of(session).deadline_tz)


def load_year(session: Session, year: int, *, for_update: bool = False) -> ComplianceYear:
    query = select(ComplianceYear).where(ComplianceYear.year == year)
    if for_update:
        query = query.with_for_update()
    found = session.scalar(query)
    if found is None:
        raise NotFound(f"compliance year {year} has not been opened")
    return found


#: How long a year stays open after its surrender deadline: late surrenders, corrections and
#: the flags that follow them still change it meanwhile. 366 days so that a leap year in
#: between still leaves a full year.
OPEN_AFTER_DEADLINE = timedelta(days=366)


def open_years(session: Session, today: date) -> list[ComplianceYear]:
    """The compliance years open on ``today``, oldest first: the one definition the daily
    sweep, the deadline reminders, the overdue and shortfall flags and the forecast share.

    A year is open once it has begun (``year <= today.year``) and until its surrender
    deadline is more than :data:`OPEN_AFTER_DEADLINE` behind ``today``: deadline 2026-06-30
    is open through 2027-07-01 (366 days later) and closed on 2027-07-02. Extensions do not
    stretch it. The flags read the status rows the sweep writes, so they must not run on a
    year the sweep has stopped refreshing.
    """
    return list(
        session.scalars(
            select(ComplianceYear)
            .where(
                ComplianceYear.year <= today.year,
                ComplianceYear.surrender_deadline >= today - OPEN_AFTER_DEADLINE,
            )
            .order_by(ComplianceYear.year)
        )
    )


def book_of(year: ComplianceYear) -> Rulebook:
    """The year's rulebook as stored (the shipped default as the regulator edited it)."""
    return parse_rulebook(year.document)


def _fetch(session: Session, sql: str, params: tuple[Any, ...]) -> list[tuple[Any, ...]]:
    connection = session.connection()
    if connection.dialect.name == "postgresql":
        sql = sql.replace("?", "%s")
    cursor = connection.connection.driver_connection.cursor()  # type: ignore[union-attr]
    try:
        cursor.execute(sql, params)
        return list(cursor.fetchall())
    finally:
        cursor.close()


def _only(column: str, enterprise_id: int | None) -> tuple[str, tuple[Any, ...]]:
    """No restriction for the sweep (all enterprises); one enterprise for a surrender."""
    return ("", ()) if enterprise_id is None else (f" AND {column} = ?", (enterprise_id,))


def _date(value: Any) -> date:
    """A DATE as the driver returns it (text on SQLite)."""
    return value if isinstance(value, date) else date.fromisoformat(value)


def covered(session: Session, enterprise_id: int | None = None) -> list[int]:
    """Covered enterprises: every registered one that has not exited the scheme."""
    only, param = _only("id", enterprise_id)
    rows = _fetch(session, f"SELECT id FROM enterprise WHERE status <> 'exited'{only}", param)  # noqa: S608
    return [owner for (owner,) in rows]


@dataclass(frozen=True)
class ReportFacts:
    #: Status of each enterprise's latest version (enterprises with a report only).
    latest_status: dict[int, str]
    #: Obligation of each enterprise's latest approved version.
    approved_t: dict[int, int]


_LATEST = (
    "SELECT r.enterprise_id, r.{column} FROM emission_report r JOIN ("
    "SELECT enterprise_id, MAX(version) AS version FROM emission_report "
    "WHERE year = ?{where}{only} GROUP BY enterprise_id) m "
    "ON m.enterprise_id = r.enterprise_id AND m.version = r.version WHERE r.year = ?"
)


def reports(session: Session, year: int, enterprise_id: int | None = None) -> ReportFacts:
    """The latest status and the latest approved figure (a correction in progress does not
    hide the figure that stands), per enterprise with a report for ``year``."""
    only, param = _only("enterprise_id", enterprise_id)
    latest = _LATEST.format(column="status", where="", only=only)
    approved = _LATEST.format(
        column="obligation_t", where=" AND status = 'approved' AND obligation_t IS NOT NULL",
        only=only,
    )  # fmt: skip
    return ReportFacts(
        dict(_fetch(session, latest, (year, *param, year))),
        dict(_fetch(session, approved, (year, *param, year))),
    )


_ALLOCATED = (
    "SELECT a.enterprise_id, SUM(t.quantity) FROM ledger_transaction t "
    "JOIN account a ON a.id = t.to_account_id "
    "WHERE t.kind = 'allocation' AND t.status = 'completed' AND t.vintage = ? "
    "AND t.unit_kind = 'allowance' AND a.kind = 'enterprise_compliance'{only} "
    "GROUP BY a.enterprise_id"
)
_REVERSED = (
    "SELECT a.enterprise_id, SUM(r.quantity) FROM ledger_transaction r "
    "JOIN ledger_transaction t ON t.id = r.reverses_id "
    "JOIN account a ON a.id = t.to_account_id "
    "WHERE r.kind = 'reversal' AND r.status = 'completed' AND t.kind = 'allocation' "
    "AND t.vintage = ? AND t.unit_kind = 'allowance' "
    "AND a.kind = 'enterprise_compliance'{only} GROUP BY a.enterprise_id"
)


def allocations(session: Session, year: int, enterprise_id: int | None = None) -> dict[int, int]:
    """Free allocation of vintage ``year`` received per enterprise (see the module doc)."""
    only, param = _only("a.enterprise_id", enterprise_id)
    totals: dict[int, int] = defaultdict(int)
    for owner, quantity in _fetch(session, _ALLOCATED.format(only=only), (year, *param)):
        totals[owner] += int(quantity)
    for owner, quantity in _fetch(session, _REVERSED.format(only=only), (year, *param)):
        totals[owner] -= int(quantity)
    return dict(totals)


@dataclass
class SurrenderFacts:
    """Surrendered tonnes of one enterprise for one year, completed and pending."""

    allowances_t: int = 0
    offsets_t: int = 0
    outside_offsets_t: int = 0
    pending_allowances_t: int = 0
    pending_offsets_t: int = 0
    pending_outside_offsets_t: int = 0
    #: When the last completed surrender completed, as the driver returns the UTC
    #: timestamp (text on SQLite); compare it with :func:`utc_bound`. None: none has.
    last_completed_at: Any = field(default=None)

    @property
    def completed_t(self) -> int:
        return self.allowances_t + self.offsets_t


#: A completed surrender counts unless a completed reversal undid it (a correction's
#: return of excess units, or a regulator's reversal).
#: The subquery repeats the live-reversal partial index's condition word for word so that
#: SQLite uses that index (otherwise it scans every transaction per surrender).
_DONE = (
    "t.status = 'completed' AND NOT EXISTS (SELECT 1 FROM ledger_transaction r "
    "WHERE r.reverses_id = t.id AND r.reverses_id IS NOT NULL "
    "AND r.status IN ('pending_approval', 'delayed', 'completed') AND r.status = 'completed')"
)
#: When the enterprise last surrendered: its own completed surrenders, reversed or not; a
#: correction's re-surrender restates units surrendered earlier and does not move it.
_ACTED = "t.status = 'completed' AND s.correction_id IS NULL"
_OPEN = "t.status IN ('pending_approval', 'delayed')"
_OFFSET = "s.counts_as = 'offset'"
_SURRENDERED = (
    "SELECT s.enterprise_id, "  # noqa: S608  (constant fragments, no input)
    f"SUM(CASE WHEN {_DONE} AND s.counts_as = 'allowance' THEN s.quantity ELSE 0 END), "
    f"SUM(CASE WHEN {_DONE} AND {_OFFSET} THEN s.quantity ELSE 0 END), "
    f"SUM(CASE WHEN {_DONE} AND {_OFFSET} AND s.is_outside THEN s.quantity ELSE 0 END), "
    f"SUM(CASE WHEN {_OPEN} AND s.counts_as = 'allowance' THEN s.quantity ELSE 0 END), "
    f"SUM(CASE WHEN {_OPEN} AND {_OFFSET} THEN s.quantity ELSE 0 END), "
    f"SUM(CASE WHEN {_OPEN} AND {_OFFSET} AND s.is_outside THEN s.quantity ELSE 0 END), "
    f"MAX(CASE WHEN {_ACTED} THEN t.completed_at END) "
    "FROM compliance_surrender s JOIN ledger_transaction t ON t.id = s.transaction_id "
    "WHERE s.year = ? AND t.status IN ('completed', 'pending_approval', 'delayed'){only} "
    "GROUP BY s.enterprise_id"
)


def surrenders(
    session: Session, year: int, enterprise_id: int | None = None
) -> dict[int, SurrenderFacts]:
    """Per enterprise: what it surrendered for ``year``, by how it counts and by status
    (pending: ``pending_approval`` or ``delayed``; rejected, cancelled or expired ones
    count for nothing)."""
    only, param = _only("s.enterprise_id", enterprise_id)
    rows = _fetch(session, _SURRENDERED.format(only=only), (year, *param))
    return {
        owner: SurrenderFacts(int(a), int(o), int(oo), int(pa), int(po), int(poo), last)
        for owner, a, o, oo, pa, po, poo, last in rows
    }


def utc_bound(session: Session, deadline: date) -> Any:
    """The first instant after ``deadline`` (midnight in the deadline time zone), in UTC,
    in the form the driver returns ``completed_at``: a completion compares below it iff it
    happened on or before the deadline's local date."""
    tz = config_of(session).deadline_tz
    bound = datetime.combine(deadline + timedelta(days=1), time(0), tzinfo=tz)
    naive = bound.astimezone(UTC).replace(tzinfo=None)
    if session.get_bind().dialect.name == "sqlite":
        return naive.strftime("%Y-%m-%d %H:%M:%S.%f")
    return naive


def gas_units(session: Session, enterprise_id: int | None = None) -> set[int]:
    """Enterprises whose facilities (at least one) are all gas units."""
    only, param = _only("enterprise_id", enterprise_id)
    sql = (
        f"SELECT enterprise_id FROM facility WHERE 1 = 1{only} GROUP BY enterprise_id "  # noqa: S608
        "HAVING SUM(CASE WHEN facility_type = 'gas_unit' THEN 1 ELSE 0 END) = COUNT(*)"
    )
    return {owner for (owner,) in _fetch(session, sql, param)}


def extensions(session: Session, year: int, enterprise_id: int | None = None) -> dict[int, date]:
    """Per enterprise granted one: the extended surrender deadline."""
    only, param = _only("enterprise_id", enterprise_id)
    sql = f"SELECT enterprise_id, until FROM compliance_extension WHERE year = ?{only}"  # noqa: S608
    return {owner: _date(until) for owner, until in _fetch(session, sql, (year, *param))}


def exemptions(session: Session, year: int, enterprise_id: int | None = None) -> set[int]:
    only, param = _only("enterprise_id", enterprise_id)
    sql = f"SELECT enterprise_id FROM compliance_exemption WHERE year = ?{only}"  # noqa: S608
    return {owner for (owner,) in _fetch(session, sql, (year, *param))}


def status_of(session: Session, year: int, enterprise_id: int) -> str | None:
    """The enterprise's status in ``year`` as the last sweep left it (None: no row)."""
    rows = _fetch(
        session,
        "SELECT status FROM compliance_status WHERE year = ? AND enterprise_id = ?",
        (year, enterprise_id),
    )
    return str(rows[0][0]) if rows else None
