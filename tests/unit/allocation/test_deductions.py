"""Deductions for uncorrected shortfalls, taken facility by facility."""

from __future__ import annotations

import numpy as np
import pandas as pd

from allocation.rules.deductions import apply_deductions


def _results() -> tuple[pd.DataFrame, np.ndarray]:
    results = pd.DataFrame(
        {
            "facility_id": [1, 2, 3, 4, 5],
            "allocation": pd.array([300, 500, 200, None, 900], dtype="Int64"),
            "note": ["", "", "", "no verified data", ""],
        }
    )
    #: Facilities 1 and 2 are enterprise 7's, 3 and 4 enterprise 8's, 5 enterprise 9's.
    return results, np.array([7, 7, 8, 8, 9], dtype=np.int64)


def test_a_deduction_is_taken_from_the_facilities_in_order():
    results, owners = _results()
    # Enterprise 7 owes 650 t: facility 1 300 → 0 (300 taken), facility 2 500 → 150 (350).
    # Enterprise 8 owes 1 000 t: facility 3 200 → 0; facility 4 has no allocation; 800 t
    # find nothing to come off. Enterprise 9 owes nothing: 900 stays. 300 + 350 + 200 = 850.
    out, total = apply_deductions(results, owners, {7: 650, 8: 1_000}, shortfall_year=2025)
    assert total == 850
    assert list(out["allocation"].astype(object).where(out["allocation"].notna(), None)) == [
        0, 150, 0, None, 900,
    ]  # fmt: skip
    assert out["note"][0] == "less 300 deducted for the uncorrected 2025 shortfall"
    assert out["note"][1] == "less 350 deducted for the uncorrected 2025 shortfall"
    assert "800 t of the deduction found no allocation" in out["note"][2]
    assert out["note"][3] == "no verified data"
    assert out["note"][4] == ""
    # The input is left as it was.
    assert list(results["allocation"].fillna(-1)) == [300, 500, 200, -1, 900]


def test_no_deductions_change_nothing():
    results, owners = _results()
    out, total = apply_deductions(results, owners, {}, shortfall_year=2025)
    assert total == 0
    assert out is results
