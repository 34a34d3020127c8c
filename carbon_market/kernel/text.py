"""Platform-written text: fitted into its column visibly, and written as JSON text.

Memos, job summaries, rejection reasons and allocation notes are written by the platform,
not typed by a user (a user's text over a limit is refused, never cut). They are kept in
columns of bounded length; one longer than its column must neither fail the job that wrote
it nor lose its end without a sign.

The bulk paths that write JSON columns on the raw cursor (``kernel/rawsql.py``) and the
ledger's hash chain build their JSON text by hand with :func:`json_text`, exactly as
``json.dumps`` writes it, at a fraction of its cost.
"""

from __future__ import annotations

import functools
import json
import re

ELLIPSIS = "…"


def clip(text: str, limit: int = 500) -> str:
    """``text`` whole when it fits in ``limit`` characters; else its first ``limit - 1`` and
    an ellipsis, so a reader sees that the end was cut."""
    return text if len(text) <= limit else text[: limit - 1] + ELLIPSIS


def clip_start(text: str, limit: int) -> str:
    """``text`` whole when it fits; else an ellipsis and its last ``limit - 1`` characters,
    for text whose end matters most (a traceback's last lines name the failure)."""
    return text if len(text) <= limit else ELLIPSIS + text[len(text) - limit + 1 :]


_PLAIN = re.compile(r"[A-Za-z0-9_.:+ -]*")


def json_text(value: str) -> str:
    """``json.dumps(value)`` of a string, without the encoder for plain ones."""
    return f'"{value}"' if _PLAIN.fullmatch(value) else json.dumps(value)


#: :func:`json_text` of the names a bulk intake repeats (account numbers, unit kinds,
#: transaction kinds): a few hundred distinct values across 100,000 transfers.
json_name = functools.lru_cache(maxsize=4096)(json_text)
