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


def a_line(tally: Tally) -> None:
    for step in [
        ("tenant", "add", "acme", "--name", "Acme"),
        ("site", "add", "acme", "p1", "--name", "Plant", "--timezone", "Europe/Berlin"),
        ("line", "add", "acme", "l1", "--site", "p1", "--name", "Line 1"),
        ("line", "add", "acme", "l2", "--site", "p1", "--name", "Line 2"),
        ("machine", "add", "acme", "tf", "--line", "l1", "--kind", "thermoformer"),
        ("machine", "add", "acme", "cw", "--line", "l1", "--kind", "checkweigher"),
    ]:
        assert tally("admin", *step)[0] == 0


PLAN = '{"name": "early", "shifts": [{"name": "early", "start": "06:00", "hours": 8}]}'


def test_a_plan_is_set_from_a_file_and_shown(tally: Tally, tmp_path: Path) -> None:
    a_line(tally)
    path = tmp_path / "plan.json"
    path.write_text(PLAN)
    assert tally("admin", "plan", "set", "acme", "p1", str(path)) == (0, "plan acme/p1 saved\n", "")
    path.write_text(PLAN.replace('"hours": 8', '"hours": 9'))
    assert tally("admin", "plan", "set", "acme", "p1", str(path), "--from", "2025-07-01")[0] == 0
    code, out, _ = tally("admin", "plan", "show", "acme", "p1")
    assert code == 0
    assert "# acme/p1 since always" in out
    assert "# acme/p1 from 2025-07-01" in out
    assert '"hours": 9' in out
    path.write_text(PLAN.replace('"hours": 8', '"hours": 25'))
    code, _, err = tally("admin", "plan", "set", "acme", "p1", str(path))
    assert code == 1
    assert "invalid plan: Expected `float` <= 24.0 - at `$.shifts[0].hours`" in err
    path.write_text(PLAN.replace('"06:00"', '"23:00"'))  # runs past the 06:00 day start
    code, _, err = tally("admin", "plan", "set", "acme", "p1", str(path))
    assert code == 1
    assert "shifts[0] (23:00 for 480 min) runs past the start of the next production day" in err


def test_settings_change_only_what_is_given(tally: Tally, tmp_path: Path) -> None:
    a_line(tally)
    rules = tmp_path / "rules.json"
    rules.write_text('[{"category": "running", "model": "vendor", "names": ["AUTO"]}]')
    code, out, _ = tally(
        "admin",
        "settings",
        "set",
        "acme",
        "--micro-stop-seconds",
        "90",
        "--changeover-is-loss",
        "no",
        "--pack-counter",
        "slicer=portions",
        "--rules",
        str(rules),
    )
    assert (code, out) == (0, "settings acme saved\n")
    shown = tally("admin", "settings", "show", "acme")[1]
    assert '"micro_stop_seconds": 90' in shown
    assert '"gap_seconds": 60' in shown
    assert '"changeover_is_loss": false' in shown
    assert '"slicer": "portions"' in shown
    assert '"thermoformer": "packs_total"' in shown
    assert '"AUTO"' in shown
    rules.write_text('[{"category": "running"}]')
    code, _, err = tally("admin", "settings", "set", "acme", "--rules", str(rules))
    assert code == 1
    assert "would match every state" in err
    assert "- at `$.state_rules[0]`" in err


def test_a_machine_moves_and_its_history_is_shown(tally: Tally) -> None:
    a_line(tally)
    at = "2025-06-02T06:00:00+02:00"
    assert tally("admin", "machine", "move", "acme", "tf", "--line", "l2", "--at", at)[0] == 0
    code, out, _ = tally("admin", "machine", "moves", "acme", "tf")
    assert code == 0
    assert out.split() == ["since", "always", "l1", "2025-06-02T04:00:00+00:00", "l2"]
    naive = "2025-06-02T06:00"
    code, _, err = tally("admin", "machine", "move", "acme", "tf", "--line", "l1", "--at", naive)
    assert code == 2
    assert "'2025-06-02T06:00' has no UTC offset" in err
    assert tally("admin", "machine", "unmove", "acme", "tf", "--at", at)[0] == 0
    assert tally("admin", "machine", "moves", "acme", "tf")[1].split() == ["since", "always", "l1"]


def test_article_versions_are_added_and_listed(tally: Tally) -> None:
    a_line(tally)
    add = ("article", "add", "acme", "ham", "--name", "Ham", "--nominal-g", "200")
    assert tally("admin", *add, "--ideal-rate", "110", "--price-per-kg", "12")[0] == 0
    code, _, _ = tally(
        "admin",
        "article",
        "version",
        "acme",
        "ham",
        "--from",
        "2025-07-01T00:00:00Z",
        "--nominal-g",
        "150",
        "--ideal-rate",
        "120",
        "--price-per-kg",
        "13.5",
    )
    assert code == 0
    out = tally("admin", "article", "versions", "acme", "ham")[1].splitlines()
    assert out[1].split() == ["since", "always", "200.0", "191.0", "182.0", "110.00", "12.00"]
    assert out[2].split() == [
        "2025-07-01T00:00:00+00:00",
        "150.0",
        "143.2",
        "136.4",
        "120.00",
        "13.50",
    ]


def test_line_roles_are_set_and_refuse_an_unknown_machine(tally: Tally) -> None:
    a_line(tally)
    roles = ("admin", "line", "roles", "acme", "l1")
    assert tally(*roles, "--constraint", "tf", "--end-of-line", "cw") == (
        0,
        "line acme/l1 roles saved\n",
        "",
    )
    code, _, err = tally(*roles, "--constraint", "nope")
    assert code == 1
    assert "constraint_machine = 'nope' is not a machine of tenant 'acme'" in err
