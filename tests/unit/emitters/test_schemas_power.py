"""A facility's power category is checked against the allocation rulebook's categories."""

from __future__ import annotations

import subprocess
import sys

from allocation.rules.rulebook import default_corrections
from carbon_market.emitters.schemas import power_categories


def test_the_registry_knows_the_categories_the_rulebook_corrects() -> None:
    # The registry states them itself (it may not import allocation, nor read its files);
    # the rulebook's own parser must find the same four.
    assert power_categories() == sorted(default_corrections().fuel_of_category)
    assert power_categories() == [
        "coal_300mw_below", "coal_300mw_plus", "coal_unconventional", "gas",
    ]  # fmt: skip


def test_allocation_can_be_imported_before_the_platform() -> None:
    # The benchmarks and the offline compute import allocation first; a cycle through the
    # registry's schemas once broke them.
    done = subprocess.run(
        [
            sys.executable,
            "-c",
            "import allocation.rules.engine, allocation.files, allocation.service",
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
