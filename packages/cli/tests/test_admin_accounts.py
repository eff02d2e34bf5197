"""`tally admin user|key`: users and API keys of a tenant from the command line."""

from __future__ import annotations

import io

import pytest

from packages.cli.tests.test_admin_cmd import Tally, tally

pytestmark = pytest.mark.integration
__all__ = ["tally"]  # the fixture, shared with the registry's commands


def _stdin(monkeypatch: pytest.MonkeyPatch, text: str) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO(text))


def test_users_and_keys_are_managed(tally: Tally, monkeypatch: pytest.MonkeyPatch) -> None:
    assert tally("admin", "tenant", "add", "acme", "--name", "Acme")[0] == 0
    _stdin(monkeypatch, "correct horse battery\n")
    code, out, err = tally(
        "admin", "user", "add", "acme", "Ana@Acme.example", "--name", "Ana", "--role", "admin",
        "--password-stdin",
    )  # fmt: skip
    assert (code, err) == (0, ""), err
    assert "acme/ana@acme.example added as admin" in out
    assert "correct horse" not in out
    assert tally("admin", "user", "role", "acme", "ana@acme.example", "viewer")[0] == 0
    assert tally("admin", "user", "disable", "acme", "ana@acme.example")[0] == 0
    listed = tally("admin", "user", "list", "acme")[1]
    assert "ana@acme.example" in listed
    assert "viewer" in listed
    assert "disabled" in listed
    _stdin(monkeypatch, "short\n")
    code, _, err = tally(
        "admin", "user", "password", "acme", "ana@acme.example", "--password-stdin"
    )
    assert code != 0
    assert "password" in err
    assert "short" not in err
    code, _, err = tally("admin", "user", "role", "acme", "nobody@acme.example", "admin")
    assert code != 0
    assert "no user" in err

    code, out, _ = tally("admin", "key", "create", "acme", "--name", "ERP")
    assert code == 0
    key = out.strip().splitlines()[-1]
    assert key.startswith("tk_")
    key_id = key.split("_")[1]
    listed = tally("admin", "key", "list", "acme")[1]
    assert key_id in listed
    assert "live" in listed
    assert key.rpartition("_")[2] not in listed
    assert tally("admin", "key", "revoke", "acme", key_id)[0] == 0
    assert "revoked" in tally("admin", "key", "list", "acme")[1]
    assert tally("admin", "key", "revoke", "acme", "0123456789abcdef")[0] != 0
