"""Secrets sent by callers — machine tokens, API keys, session ids — and what is stored of them.

    token = new_token()             # shown once to whoever it is issued to
    stored = token_hash(token)      # all that is ever stored, and what a lookup is keyed by

Every scheme that checks such a secret hashes it here, and so does everything that issues one,
so the two sides cannot drift apart. SHA-256 suffices because these secrets are random and long
(256 bits): no dictionary reaches them, which is what slow hashes such as argon2 are for —
passwords people choose need those.
"""

from __future__ import annotations

import hashlib
import secrets

# The length of every `token_hash`, for those who must tell a hash from other bytes.
TOKEN_HASH_BYTES = 32


def token_hash(token: str) -> bytes:
    """What is stored of `token`: its SHA-256."""
    return hashlib.sha256(token.encode()).digest()


def new_token(prefix: str = "") -> str:
    """A new random secret of 256 bits, URL-safe, after `prefix` (which tells its kind, such as
    ``tly_`` for machine tokens, to someone who finds one in a log)."""
    return prefix + secrets.token_urlsafe(32)
