"""An enterprise's compliance status for a year, from the facts (pure).

The statuses, first match wins:

* ``exempt``: a regulator exempted it for the year;
* no approved report: ``not_reported`` (nothing filed, or only a draft), ``reported``
  (submitted or returned, awaiting verification), ``verified`` (the verifier stated a figure,
  awaiting the regulator's approval);
* approved, all units due surrendered: ``compliant`` if the last surrender completed on or
  before the (possibly extended) surrender deadline, else ``late``;
* approved, units still due, the deadline passed: ``shortfall`` with the missing tonnes;
* approved, units still due, before the deadline: ``in_progress`` once anything has been
  surrendered, else ``verified`` (the figure stands, surrendering has not begun).

Only completed surrenders count; a surrender still pending approval has moved nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

from carbon_market.compliance.enums import ComplianceStatusKind as S
from carbon_market.mrv.reports.enums import ReportStatus

BEFORE_APPROVAL: dict[str, S] = {
    ReportStatus.SUBMITTED.value: S.REPORTED,
    ReportStatus.RETURNED.value: S.REPORTED,
    ReportStatus.VERIFIED.value: S.VERIFIED,
}


@dataclass(frozen=True)
class Standing:
    status: S
    shortfall_t: int = 0


def standing(
    *,
    exempt: bool,
    report_status: str | None,
    obligation_t: int | None,
    surrendered_t: int,
    completed_on_time: Callable[[], bool],
    deadline: date,
    today: date,
) -> Standing:
    """The status on ``today``; ``deadline`` is the enterprise's surrender deadline (its
    extension if it has one); ``completed_on_time()`` says whether the last completed
    surrender completed on or before it (asked only when the obligation is met)."""
    if exempt:
        return Standing(S.EXEMPT)
    if obligation_t is None:
        return Standing(BEFORE_APPROVAL.get(report_status or "", S.NOT_REPORTED))
    if surrendered_t >= obligation_t:
        return Standing(S.COMPLIANT if completed_on_time() else S.LATE)
    if today > deadline:
        return Standing(S.SHORTFALL, obligation_t - surrendered_t)
    return Standing(S.IN_PROGRESS if surrendered_t > 0 else S.VERIFIED)
