"""Only the administrators' token passes."""

from __future__ import annotations

import pytest

from tally.api.auth import check_admin
from tally.sdk import Rejected

_TOKEN = b"s3cret-admin-token-of-some-length"


@pytest.mark.parametrize("scheme", ["Bearer", "bearer", "BEARER"])
def test_the_admin_token_passes_with_any_spelling_of_bearer(scheme: str) -> None:
    check_admin(_TOKEN, f"{scheme} {_TOKEN.decode()}")


@pytest.mark.parametrize(
    "authorization",
    [None, "", "Bearer", "Bearer wrong", f"Basic {_TOKEN.decode()}", "Bearer " + "ü" * 40],
)
def test_anything_else_is_401(authorization: str | None) -> None:
    with pytest.raises(Rejected) as caught:
        check_admin(_TOKEN, authorization)

    assert caught.value.status == 401
    assert caught.value.headers == {"WWW-Authenticate": "Bearer"}
