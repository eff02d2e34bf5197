"""Tokens: what is stored of one is its SHA-256, the same for whoever hashes it."""

from __future__ import annotations

import hashlib

from tally.sdk import TOKEN_HASH_BYTES, new_token, token_hash


def test_the_stored_hash_is_the_tokens_sha256() -> None:
    assert token_hash("tly_abc") == hashlib.sha256(b"tly_abc").digest()
    assert len(token_hash("x")) == TOKEN_HASH_BYTES


def test_new_tokens_are_long_random_and_say_their_kind() -> None:
    tokens = {new_token("tly_") for _ in range(100)}

    assert len(tokens) == 100
    assert all(t.startswith("tly_") and len(t) >= 4 + 43 for t in tokens)
