"""Bearer tokens: the scheme in any case, the token trimmed, anything else none."""

from __future__ import annotations

import pytest

from tally.sdk import bearer_token


@pytest.mark.parametrize("scheme", ["Bearer", "bearer", "BEARER"])
def test_the_token_follows_the_scheme_in_any_spelling(scheme: str) -> None:
    assert bearer_token(f"{scheme} s3cret ") == "s3cret"


@pytest.mark.parametrize("header", [None, "", "Bearer", "Bearer   ", "Basic Z29vZA==", "s3cret"])
def test_a_header_without_a_bearer_token_has_none(header: str | None) -> None:
    assert bearer_token(header) is None
