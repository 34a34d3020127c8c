"""API token generation and hashing (pure)."""

from __future__ import annotations

import hashlib
import secrets

TOKEN_PREFIX = "cm_"  # noqa: S105  (a prefix that lets secret scanners spot tokens)


def generate_token() -> str:
    """A fresh bearer token: a recognisable prefix and 256 random bits."""
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def display_prefix(token: str) -> str:
    return token[:10]
