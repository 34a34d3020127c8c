"""Serial-number ranges of green certificates: one certificate per MWh, one serial each.

Pure: no database, no web: values in, values out.

Certificates are kept as blocks of consecutive serials with one holder and one status. A
transfer or a claim of part of a block carves the block into the part and what is left
before and after it, so no serial is ever in two blocks and none is lost.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, order=True)
class SerialRange:
    """Serials ``start`` to ``end``, both included."""

    start: int
    end: int

    def __post_init__(self) -> None:
        if self.start < 1 or self.end < self.start:
            raise ValueError(f"serials {self.start}-{self.end} are not a range")

    @property
    def count(self) -> int:
        return self.end - self.start + 1

    def overlaps(self, other: SerialRange) -> bool:
        return self.start <= other.end and other.start <= self.end

    def contains(self, other: SerialRange) -> bool:
        return self.start <= other.start and other.end <= self.end

    def __str__(self) -> str:
        return f"{self.start}-{self.end}"


def carve(block: SerialRange, part: SerialRange) -> tuple[SerialRange | None, SerialRange | None]:
    """What is left of ``block`` before and after ``part`` (which it must contain)."""
    if not block.contains(part):
        raise ValueError(f"{part} is not inside {block}")
    before = SerialRange(block.start, part.start - 1) if part.start > block.start else None
    after = SerialRange(part.end + 1, block.end) if part.end < block.end else None
    return before, after


def covers_exactly(blocks: list[SerialRange], wanted: SerialRange) -> bool:
    """Whether ``blocks`` (sorted, disjoint) cover every serial of ``wanted`` without a gap."""
    position = wanted.start
    for block in blocks:
        if block.start > position:
            return False
        position = max(position, block.end + 1)
        if position > wanted.end:
            return True
    return position > wanted.end
