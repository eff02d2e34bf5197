"""The API's own answers: 404 for an entry the path names, 409 for a missing parent. The common
answers (400, 401, 413, 422, 503) are `tally.sdk`'s and tested there."""

from __future__ import annotations

from collections.abc import Callable

import msgspec
import pytest

from tally.api.problems import conflict, not_found
from tally.sdk import Rejected


@pytest.mark.parametrize(
    ("answer", "status", "error"), [(not_found, 404, "not_found"), (conflict, 409, "conflict")]
)
def test_the_answer_names_the_missing_entry_and_its_id(
    answer: Callable[[str, str, str], Rejected], status: int, error: str
) -> None:
    response = answer("site 'p9' does not exist", "site", "p9").response()

    assert response.status_code == status
    assert msgspec.json.decode(response.body) == {
        "error": error,
        "detail": "site 'p9' does not exist",
        "field": "site",
        "value": "p9",
    }
