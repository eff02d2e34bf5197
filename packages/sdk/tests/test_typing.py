"""Type tests: mypy accepts the API's intended use and rejects mismatched topics and handlers.

Each `fail_*.py` marks the lines that must fail with ``# E: <code> [message fragment]``; the
test fails when mypy reports anything else, or misses one of them.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from mypy import api

CASES = Path(__file__).parent / "typing"
_EXPECTED = re.compile(r"#\s*E:\s*(?P<code>[a-z-]+)(?:\s+(?P<fragment>.+))?$")
_REPORTED = re.compile(
    r"^(?P<file>[^:]+):(?P<line>\d+): error: (?P<message>.*)\s+\[(?P<code>[a-z-]+)\]$"
)


def _mypy(path: Path) -> list[tuple[int, str, str]]:
    stdout, _, _ = api.run(
        [
            str(path),
            "--config-file",
            str(CASES.parents[3] / "pyproject.toml"),
            "--no-error-summary",
            "--hide-error-context",
            "--no-pretty",
            "--show-absolute-path",
        ]
    )
    found = []
    for line in stdout.splitlines():
        match = _REPORTED.match(line.strip())
        if match:
            found.append((int(match["line"]), match["code"], match["message"]))
    return found


def _expected(path: Path) -> list[tuple[int, str, str | None]]:
    expected = []
    for number, text in enumerate(path.read_text().splitlines(), start=1):
        match = _EXPECTED.search(text)
        if match:
            expected.append((number, match["code"], match["fragment"]))
    return expected


def test_the_intended_use_type_checks() -> None:
    assert _mypy(CASES / "pass_api.py") == []


@pytest.mark.parametrize("case", sorted(CASES.glob("fail_*.py")), ids=lambda p: p.stem)
def test_mismatches_fail_to_type_check_for_the_right_reason(case: Path) -> None:
    expected = _expected(case)
    assert expected, f"{case.name} marks no expected error"
    reported = _mypy(case)
    assert [(line, code) for line, code, _ in reported] == [
        (line, code) for line, code, _ in expected
    ]
    for (_, _, message), (_, _, fragment) in zip(reported, expected, strict=True):
        if fragment:
            assert fragment in message
