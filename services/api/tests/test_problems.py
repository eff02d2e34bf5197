"""Error answers carry the offending value, short and as JSON can write it."""

from __future__ import annotations

import msgspec

from tally.sdk import invalid, presentable


def test_an_answer_names_field_and_value() -> None:
    response = invalid("too long", "name", "x").response()

    assert response.status_code == 422
    assert msgspec.json.decode(response.body) == {
        "error": "invalid",
        "detail": "too long",
        "field": "name",
        "value": "x",
    }


def test_values_are_echoed_short() -> None:
    assert presentable("ok") == "ok"
    assert presentable(float("nan")) == "NaN"
    assert presentable(list(range(1000))) == "<array of 1000 items>"
    assert presentable({str(i): i for i in range(100)}) == "<object with 100 fields>"
    assert str(presentable("x" * 1000)).endswith("...")
