"""Secrets in settings: never shown by repr, str, formatting, errors or a log line."""

from __future__ import annotations

import json
import logging
import sys

import msgspec
import pytest

from tally.sdk import (
    RuntimeSettings,
    Secret,
    SecretUrl,
    SettingsError,
    load_settings,
    log_context,
    redact_url,
)
from tally.sdk._logs import JsonFormatter
from tally.sdk._secrets import secret_values

PASSWORD = "pw-0f3e9a"
TOKEN = "tok-77c1b2d4e5"


def test_a_secret_shows_stars_everywhere_and_reveals_its_value_on_request() -> None:
    secret = Secret(TOKEN)
    for shown in (repr(secret), str(secret), f"{secret}", f"{secret!r}", f"{secret}"):
        assert TOKEN not in shown
    assert str(secret) == "***"
    assert secret.reveal() == TOKEN
    assert secret == Secret(TOKEN)
    assert secret != Secret("other")
    assert len(secret) == len(TOKEN)


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        (
            f"postgresql://tally_app:{PASSWORD}@db:5432/tally",
            "postgresql://tally_app:***@db:5432/tally",
        ),
        ("postgresql://tally_app@db/tally", "postgresql://tally_app@db/tally"),
        (f"nats://{TOKEN}@n1:4222", "nats://***@n1:4222"),
        (
            f"nats://u:{PASSWORD}@n1:4222, nats://u:{PASSWORD}@n2:4222",
            "nats://u:***@n1:4222,nats://u:***@n2:4222",
        ),
        ("nats://127.0.0.1:4222", "nats://127.0.0.1:4222"),
        # Percent-encoded characters and an '@' in the password stay hidden whole.
        ("postgresql://a:p%40ss@w@h/db", "postgresql://a:***@h/db"),
        ("postgresql://a:p@[::1/db", "***"),  # unreadable: hidden whole
    ],
)
def test_a_url_shows_its_server_but_not_its_password_or_token(url: str, shown: str) -> None:
    assert redact_url(url) == shown
    assert str(SecretUrl(url)) == shown
    assert repr(SecretUrl(url)) == f"SecretUrl({shown!r})"


def test_what_a_url_hides_is_its_password_in_both_spellings_and_a_lone_token() -> None:
    assert SecretUrl("postgresql://a:p%40ss@h/db").hidden_parts() == ["p%40ss", "p@ss"]
    assert SecretUrl(f"nats://{TOKEN}@n1,nats://{TOKEN}@n2").hidden_parts() == [TOKEN]
    assert SecretUrl("postgresql://a@h/db").hidden_parts() == []


class Settings(msgspec.Struct, frozen=True, kw_only=True):
    url: SecretUrl
    token: Secret
    optional: Secret | None = None
    batch_size: int = 1


def test_settings_read_secrets_from_plain_variables_and_never_show_them() -> None:
    url = f"postgresql://tally_app:{PASSWORD}@db/tally"
    settings = load_settings(Settings, "APP_", {"APP_URL": url, "APP_TOKEN": TOKEN})
    assert settings.url.reveal() == url
    assert settings.token.reveal() == TOKEN
    assert settings.optional is None
    assert PASSWORD not in repr(settings)
    assert TOKEN not in repr(settings)
    assert "postgresql://tally_app:***@db/tally" in repr(settings)
    assert secret_values([settings]) == sorted([PASSWORD, TOKEN])


def test_a_settings_error_never_echoes_a_secret() -> None:
    with pytest.raises(SettingsError) as raised:
        load_settings(Settings, "APP_", {"APP_URL": "u", "APP_TOKEN": TOKEN, "APP_BATCH_SIZE": "x"})
    assert "APP_BATCH_SIZE='x'" in str(raised.value)
    assert TOKEN not in str(raised.value)


def test_the_runtime_settings_hide_the_passwords_of_both_urls() -> None:
    runtime = load_settings(
        RuntimeSettings,
        "TALLY_",
        {
            "TALLY_NATS_URL": f"nats://u:{PASSWORD}@n:4222",
            "TALLY_DATABASE_URL": f"postgresql://tally_app:{TOKEN}@db/tally",
        },
    )
    assert PASSWORD not in repr(runtime)
    assert TOKEN not in repr(runtime)
    assert sorted(secret_values([runtime])) == sorted([PASSWORD, TOKEN])


def _line(formatter: JsonFormatter, message: str, *args: object, error: bool = False) -> str:
    exc_info = None
    if error:
        try:
            raise ConnectionError(f"lost postgresql://a:{PASSWORD}@h/db")
        except ConnectionError:
            exc_info = sys.exc_info()
    record = logging.LogRecord("x", logging.ERROR, __file__, 1, message, args, exc_info)
    return formatter.format(record)


def test_the_log_scrubs_what_secrets_hide_from_messages_fields_and_tracebacks() -> None:
    formatter = JsonFormatter("probe", hidden=[PASSWORD, TOKEN, "ab"])
    with log_context(url=f"nats://{TOKEN}@n"):
        line = _line(formatter, "cannot use %s (ab)", f"postgresql://a:{PASSWORD}@h", error=True)
    assert PASSWORD not in line
    assert TOKEN not in line
    entry = json.loads(line)
    assert entry["msg"] == "cannot use postgresql://a:***@h (ab)"  # too short to scrub: "ab"
    assert entry["url"] == "nats://***@n"
    assert "ConnectionError: lost postgresql://a:***@h/db" in entry["error"]
