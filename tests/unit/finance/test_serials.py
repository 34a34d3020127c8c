"""Serial ranges of green certificates: carving and coverage."""

from __future__ import annotations

import pytest

from finance.greenpower.serials import SerialRange, carve, covers_exactly


def test_carving_leaves_the_parts_before_and_after() -> None:
    block = SerialRange(1, 1000)
    assert carve(block, SerialRange(201, 300)) == (SerialRange(1, 200), SerialRange(301, 1000))
    assert carve(block, SerialRange(1, 300)) == (None, SerialRange(301, 1000))
    assert carve(block, SerialRange(900, 1000)) == (SerialRange(1, 899), None)
    assert carve(block, block) == (None, None)
    with pytest.raises(ValueError, match="not inside"):
        carve(block, SerialRange(990, 1001))


def test_counts_and_overlaps() -> None:
    assert SerialRange(101, 400).count == 300
    assert SerialRange(1, 10).overlaps(SerialRange(10, 20))
    assert not SerialRange(1, 10).overlaps(SerialRange(11, 20))
    for start, end in [(0, 5), (5, 4)]:
        with pytest.raises(ValueError, match="not a range"):
            SerialRange(start, end)


@pytest.mark.parametrize(
    ("blocks", "covered"),
    [
        ([(1, 100), (101, 200)], True),  # adjacent blocks cover 51-150
        ([(1, 100), (102, 200)], False),  # serial 101 is missing
        ([(60, 200)], False),  # 51-59 missing
        ([(1, 120)], False),  # 121-150 missing
        ([], False),
    ],
)
def test_coverage_without_gaps(blocks: list[tuple[int, int]], covered: bool) -> None:
    ranges = [SerialRange(s, e) for s, e in blocks]
    assert covers_exactly(ranges, SerialRange(51, 150)) is covered
