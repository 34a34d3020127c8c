"""Registry account numbers with ISO 7064 MOD 97-10 check digits (pure: no database).

Shape: ``BJ`` + a two-digit kind code + a ten-digit serial + two check digits, e.g.
``BJ10 0012 3456 78 xx``. The check digits make the whole number ≡ 1 (mod 97) once letters are
read as 10..35 (as IBAN does), so every single-character error and every swap of two adjacent
characters is rejected instead of sending units to the wrong account.
"""

from __future__ import annotations

import re
from functools import lru_cache

JURISDICTION = "BJ"
_SHAPE = re.compile(r"^[A-Z]{2}[0-9]{14}$")


def _as_digits(text: str) -> str:
    return "".join(str(int(ch, 36)) for ch in text)


def check_digits(body: str) -> str:
    """The two MOD 97-10 check digits to append to ``body``."""
    return f"{98 - int(_as_digits(body + '00')) % 97:02d}"


def make_account_number(kind_code: str, serial: int) -> str:
    if not (len(kind_code) == 2 and kind_code.isdigit()) or not 0 <= serial < 10**10:
        raise ValueError("kind code is two digits and serial is below 10^10")
    body = f"{JURISDICTION}{kind_code}{serial:010d}"
    return body + check_digits(body)


def normalize_account_number(raw: str) -> str:
    """Strip spaces and dashes people type for readability; upper-case."""
    return re.sub(r"[\s-]", "", raw).upper()


@lru_cache(maxsize=4096)
def is_valid_account_number(raw: str) -> bool:
    """Whether ``raw`` is a well-formed number with matching check digits. Cached: the
    same few thousand accounts are checked on every transfer, and a bank of them costs
    microseconds a time on the hot path."""
    number = normalize_account_number(raw)
    return bool(_SHAPE.match(number)) and int(_as_digits(number)) % 97 == 1
