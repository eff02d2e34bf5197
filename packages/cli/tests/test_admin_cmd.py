"""`tally admin`: options become registry records, with the records' defaults and checks."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path

import asyncpg
import pytest

from tally.cli.__main__ import main

pytestmark = pytest.mark.integration

Tally = Callable[..., tuple[int, str, str]]


@pytest.fixture
def tally(
    nats_url: str,
    scratch_database_url: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> Tally:
    """`tally ARGS…` against a migrated database of this test's own: (exit code, out, err)."""
    monkeypatch.setenv("TALLY_NATS_URL", nats_url)
    monkeypatch.setenv("TALLY_OWNER_DATABASE_URL", scratch_database_url)
    monkeypatch.setenv("TALLY_STATE_DIR", str(tmp_path))

    def run(*argv: str) -> tuple[int, str, str]:
        with pytest.raises(SystemExit) as exited:
            main(list(argv))
        out, err = capsys.readouterr()
        return int(exited.value.code or 0), out, err

    assert run("migrate")[0] == 0
    return run


def test_a_fleet_added_piece_by_piece_is_listed(tally: Tally) -> None:
    steps = [
        ("tenant", "add", "acme", "--name", "Acme", "--rate", "500"),
        ("site", "add", "acme", "p1", "--name", "Plant", "--timezone", "Europe/Berlin"),
        ("line", "add", "acme", "l1", "--site", "p1", "--name", "Line 1"),
        ("machine", "add", "acme", "l1-cw", "--line", "l1", "--kind", "checkweigher"),
        (
            "article",
            "add",
            "acme",
            "ham-200",
            "--name",
            "Ham",
            "--nominal-g",
            "200",
            "--ideal-rate",
            "110",
        ),
    ]
    saved = [tally("admin", *step)[1] for step in steps]
    assert saved == [
        "tenant acme saved\n",
        "site acme/p1 saved\n",
        "line acme/l1 saved\n",
        "machine acme/l1-cw saved\n",
        "article acme/ham-200 saved\n",
    ]
    code, out, _ = tally("admin", "machines", "acme")
    assert code == 0
    assert out.split() == ["p1", "l1", "l1-cw", "checkweigher"]


def test_an_invalid_value_is_named_with_where_to_look(tally: Tally) -> None:
    assert tally("admin", "tenant", "add", "acme", "--name", "Acme")[0] == 0
    code, _, err = tally(
        "admin", "machine", "add", "acme", "m1", "--line", "l1", "--kind", "toaster"
    )
    assert code == 1
    assert "Invalid enum value 'toaster' - at `$.kind`" in err
    assert "see `tally admin machine add --help`" in err


def test_a_machine_on_a_line_not_added_yet_says_so(tally: Tally) -> None:
    assert tally("admin", "tenant", "add", "acme", "--name", "Acme")[0] == 0
    code, _, err = tally(
        "admin", "machine", "add", "acme", "m1", "--line", "nowhere", "--kind", "checkweigher"
    )
    assert code == 1
    assert err.startswith("tally: ")
    assert err.rstrip().endswith("add it first")


def test_revoking_a_machines_tokens_leaves_none_live(
    tally: Tally, scratch_database_url: str
) -> None:
    for step in [
        ("tenant", "add", "acme", "--name", "Acme"),
        ("site", "add", "acme", "p1", "--name", "Plant", "--timezone", "Europe/Berlin"),
        ("line", "add", "acme", "l1", "--site", "p1", "--name", "Line 1"),
        ("machine", "add", "acme", "l1-cw", "--line", "l1", "--kind", "checkweigher"),
        ("token", "issue", "acme", "l1-cw"),
        ("token", "issue", "acme", "l1-cw"),  # the first one is revoked already
    ]:
        assert tally("admin", *step)[0] == 0
    assert asyncio.run(live_tokens(scratch_database_url)) == 1

    code, out, _ = tally("admin", "token", "revoke", "acme", "l1-cw")

    assert code == 0
    assert out == "tokens of acme/l1-cw revoked; issue a new one to let it upload again\n"
    assert asyncio.run(live_tokens(scratch_database_url)) == 0


async def live_tokens(database_url: str) -> int:
    connection = await asyncpg.connect(database_url)
    try:
        live: int = await connection.fetchval(
            "SELECT count(*) FROM machine_tokens WHERE revoked_at IS NULL"
        )
    finally:
        await connection.close()
    return live
