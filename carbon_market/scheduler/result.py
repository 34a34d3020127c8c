"""What a job's run function may return besides a plain summary line."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class JobResult:
    """What a run did: a summary line, counts by name, and whether it failed although it
    ran to the end (its session's work is kept: e.g. the notification of a failed check)."""

    summary: str
    counts: dict[str, int] = field(default_factory=dict)
    failed: bool = False
