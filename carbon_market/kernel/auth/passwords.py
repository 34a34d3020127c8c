"""argon2id password hashing (argon2-cffi's defaults follow RFC 9106's recommendations)."""

from __future__ import annotations

import functools

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

_hasher = PasswordHasher()

MIN_PASSWORD_LENGTH = 10


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


@functools.cache
def dummy_hash() -> str:
    """A valid hash of a fixed string: verifying against it when the user does not exist keeps
    the response time the same, so login timing does not reveal which user names exist.

    Made on first use rather than at import: an argon2 hash costs ~0.1 s, which every
    command-line run would otherwise pay."""
    return _hasher.hash("not-a-real-password-0123456789")
