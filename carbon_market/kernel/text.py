"""Platform-written text fitted into its column, visibly.

Memos, job summaries, rejection reasons and allocation notes are written by the platform,
not typed by a user (a user's text over a limit is refused, never cut). They are kept in
columns of bounded length; one longer than its column must neither fail the job that wrote
it nor lose its end without a sign.
"""

from __future__ import annotations

ELLIPSIS = "…"


def clip(text: str, limit: int = 500) -> str:
    """``text`` whole when it fits in ``limit`` characters; else its first ``limit - 1`` and
    an ellipsis, so a reader sees that the end was cut."""
    return text if len(text) <= limit else text[: limit - 1] + ELLIPSIS


def clip_start(text: str, limit: int) -> str:
    """``text`` whole when it fits; else an ellipsis and its last ``limit - 1`` characters,
    for text whose end matters most (a traceback's last lines name the failure)."""
    return text if len(text) <= limit else ELLIPSIS + text[len(text) - limit + 1 :]
