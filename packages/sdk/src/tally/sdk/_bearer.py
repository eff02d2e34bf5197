"""Bearer tokens: ``Authorization: Bearer <token>``, the scheme spelt in any case."""

from __future__ import annotations


def bearer_token(authorization: str | None) -> str | None:
    """The token of an Authorization header; None when the header carries no bearer token.

    What a missing token means (and says) is the caller's: usually `unauthorized(...)`.
    """
    scheme, _, token = (authorization or "").partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token:
        return None
    return token
