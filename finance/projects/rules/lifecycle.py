"""The project lifecycle and the instrument rules of a financing record (pure).

Lifecycle: ``proposed → admitted → financed → under_construction → operating → closed``,
one step at a time, and ``withdrawn`` from any status before ``closed``. ``closed`` and
``withdrawn`` are final. Both the API and the bulk import check financings with
:func:`financing_errors`, so the two paths cannot drift apart.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from itertools import pairwise

from finance.projects.enums import INTEREST_BEARING, Instrument, ProjectStatus

S = ProjectStatus
_LADDER = [S.PROPOSED, S.ADMITTED, S.FINANCED, S.UNDER_CONSTRUCTION, S.OPERATING, S.CLOSED]
FINAL = frozenset({S.CLOSED, S.WITHDRAWN})

#: Which status may follow which.
STATUS_TRANSITIONS: dict[ProjectStatus, frozenset[ProjectStatus]] = {
    **{here: frozenset({after, S.WITHDRAWN}) for here, after in pairwise(_LADDER)},
    S.CLOSED: frozenset(),
    S.WITHDRAWN: frozenset(),
}


def is_allowed_transition(current: ProjectStatus, target: ProjectStatus) -> bool:
    return target in STATUS_TRANSITIONS[current]


def financing_errors(
    *,
    instrument: Instrument,
    rate: Decimal | None,
    end_date: date | None,
    has_disclosure: bool,
) -> list[tuple[str, str]]:
    """(field, reason) for every field the instrument forbids or needs.

    Equity, grants and insurance bear no interest, so a rate is refused rather than
    ignored. A support-tool loan needs its rate and end date (the refinancing interest is
    computed over the loan's term) and the emission-reduction disclosure the tool requires;
    no other instrument carries that disclosure.
    """
    errors = []
    if rate is not None and instrument not in INTEREST_BEARING:
        errors.append(("rate", f"a {instrument} bears no interest rate"))
    if instrument is Instrument.CARBON_REDUCTION_SUPPORT_TOOL:
        if rate is None:
            errors.append(("rate", "a support-tool loan needs its rate"))
        if end_date is None:
            errors.append(("end_date", "a support-tool loan needs its end date"))
        if not has_disclosure:
            errors.append(("disclosure", "a support-tool loan needs its reduction disclosure"))
    elif has_disclosure:
        errors.append(("disclosure", "only support-tool loans carry a reduction disclosure"))
    return errors
