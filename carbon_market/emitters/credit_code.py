"""The unified social credit code (统一社会信用代码), GB 32100-2015 (pure: no database).

18 characters from a 31-character alphabet (digits and capitals without I, O, S, V, Z):
registration authority (1), organisation type (1), administrative division (6 digits),
organisation code (9) and a check character computed over the first 17 with weights
3^i mod 31. A mistyped code is caught here, before it can create a duplicate enterprise.
"""

from __future__ import annotations

import re

ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
_SHAPE = re.compile(r"^[0-9A-HJ-NPQRTUWXY]{2}[0-9]{6}[0-9A-HJ-NPQRTUWXY]{10}$")


class InvalidCreditCode(ValueError):
    """Carries a machine-readable ``code`` beside the human message."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


def check_character(first17: str) -> str:
    """The GB 32100 check character for the first 17 characters of a code."""
    total = sum(ALPHABET.index(ch) * w for ch, w in zip(first17, WEIGHTS, strict=True))
    return ALPHABET[(31 - total % 31) % 31]


def normalize_credit_code(raw: str) -> str:
    """Trim and upper-case, then validate; return the canonical code or raise."""
    code = raw.strip().upper()
    if len(code) != 18:
        raise InvalidCreditCode("credit_code.length", f"must be 18 characters, got {len(code)}")
    if not _SHAPE.match(code):
        raise InvalidCreditCode(
            "credit_code.charset",
            "may use digits and capitals except I, O, S, V, Z; characters 3-8 are digits",
        )
    expected = check_character(code[:17])
    if code[17] != expected:
        raise InvalidCreditCode("credit_code.check_char", f"check character should be {expected!r}")
    return code


def make_credit_code(first17: str) -> str:
    """Complete 17 characters with their check character (for fixtures and demo data)."""
    return first17 + check_character(first17)
