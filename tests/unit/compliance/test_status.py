"""The status of one enterprise from its facts (pure): every status, first match wins."""

from __future__ import annotations

from datetime import date

import pytest

from carbon_market.compliance.rules.status import Standing, standing

DEADLINE = date(2026, 6, 30)
BEFORE, AFTER = date(2026, 6, 1), date(2026, 7, 1)


@pytest.mark.parametrize(
    ("facts", "expected"),
    [
        ({"exempt": True, "obligation_t": 100, "today": AFTER}, ("exempt", 0)),
        ({"report_status": None}, ("not_reported", 0)),
        ({"report_status": "draft"}, ("not_reported", 0)),
        ({"report_status": "submitted"}, ("reported", 0)),
        ({"report_status": "returned"}, ("reported", 0)),
        ({"report_status": "verified"}, ("verified", 0)),
        ({"report_status": "submitted", "today": AFTER}, ("reported", 0)),  # flags do this
        ({"obligation_t": 100}, ("verified", 0)),
        ({"obligation_t": 100, "surrendered_t": 40}, ("in_progress", 0)),
        ({"obligation_t": 100, "surrendered_t": 100}, ("compliant", 0)),
        ({"obligation_t": 0}, ("compliant", 0)),
        ({"obligation_t": 100, "surrendered_t": 100, "on_time": False}, ("late", 0)),
        # 100 due, 40 surrendered, the deadline passed: 60 t short.
        ({"obligation_t": 100, "surrendered_t": 40, "today": AFTER}, ("shortfall", 60)),
        ({"obligation_t": 100, "today": AFTER}, ("shortfall", 100)),
        ({"obligation_t": 100, "today": DEADLINE}, ("verified", 0)),  # the deadline day
    ],
)
def test_standing(facts: dict[str, object], expected: tuple[str, int]) -> None:
    on_time = bool(facts.pop("on_time", True))
    values: dict[str, object] = {
        "exempt": False,
        "report_status": "approved",
        "obligation_t": None,
        "surrendered_t": 0,
        "deadline": DEADLINE,
        "today": BEFORE,
        **facts,
    }
    result = standing(completed_on_time=lambda: on_time, **values)  # type: ignore[arg-type]
    assert isinstance(result, Standing)
    assert (result.status.value, result.shortfall_t) == expected
