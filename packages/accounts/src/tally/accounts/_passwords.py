"""Passwords people choose, hashed with argon2id (memory-hard: a stolen table is slow to guess
through, on graphics cards too). Hashing takes tens of milliseconds of CPU on purpose, so it
runs in a worker thread, never on the event loop.
"""

from __future__ import annotations

import asyncio

from argon2 import PasswordHasher, Type
from argon2.exceptions import InvalidHashError, VerificationError

from tally.accounts._errors import AccountError

# argon2-cffi's defaults are RFC 9106's second recommendation (t=3, 64 MiB, p=4); only the
# variant is pinned here, so that a hash never silently becomes argon2i or argon2d.
_HASHER = PasswordHasher(type=Type.ID)
SHORTEST_PASSWORD = 10
# Longer adds nothing a person would type, and hashing megabytes is a denial of service.
LONGEST_PASSWORD = 1024
# Verified against when there is no such user, so that an unknown email takes as long as a
# wrong password and the timing does not tell which of the two was wrong.
_NOBODY = _HASHER.hash("no user has this password")


def check_password(password: str) -> None:
    """`AccountError` naming the field (never echoing it) when `password` is unacceptable."""
    if not SHORTEST_PASSWORD <= len(password) <= LONGEST_PASSWORD:
        raise AccountError(
            f"a password has {SHORTEST_PASSWORD} to {LONGEST_PASSWORD} characters",
            field="password",
        )
    try:
        password.encode()
    except UnicodeEncodeError:
        raise AccountError("a password is text: no lone surrogates", field="password") from None


async def hash_password(password: str) -> str:
    """The argon2id hash of `password` in PHC format (salt and parameters included)."""
    check_password(password)
    return await asyncio.to_thread(_HASHER.hash, password)


async def verify_password(stored: str | None, password: str) -> bool:
    """Whether `password` matches `stored` (None: nobody's; checked all the same, for time)."""
    if len(password) > LONGEST_PASSWORD:
        return False
    return await asyncio.to_thread(_verify, stored, password)


def needs_rehash(stored: str) -> bool:
    """Whether `stored` was made with other parameters than today's (rehash at login)."""
    return _HASHER.check_needs_rehash(stored)


def _verify(stored: str | None, password: str) -> bool:
    try:
        # verify() returns True or raises; the dummy's match is nobody's.
        _HASHER.verify(_NOBODY if stored is None else stored, password)
    except (VerificationError, InvalidHashError, UnicodeEncodeError):
        # UnicodeEncodeError: a lone surrogate, which no password set here holds.
        return False
    return stored is not None
