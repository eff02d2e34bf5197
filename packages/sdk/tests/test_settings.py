"""Settings from the environment: typed, prefixed, and loud when missing or garbled."""

from __future__ import annotations

from typing import Annotated

import msgspec
import pytest

from tally.sdk import SettingsError, load_settings


class Example(msgspec.Struct, frozen=True, kw_only=True):
    nats_url: str
    batch_size: int = 100
    ratio: float = 0.5
    verbose: bool = False
    label: str | None = None


def test_values_are_converted_from_strings_and_defaults_fill_the_rest() -> None:
    settings = load_settings(
        Example,
        "APP_",
        {"APP_NATS_URL": "nats://x:1", "APP_BATCH_SIZE": "7", "APP_VERBOSE": "true"},
    )
    assert settings == Example(nats_url="nats://x:1", batch_size=7, verbose=True)


def test_a_missing_required_setting_names_the_variable() -> None:
    with pytest.raises(SettingsError, match=r"missing required setting\(s\): APP_NATS_URL \(str\)"):
        load_settings(Example, "APP_", {})


def test_a_garbled_value_names_the_variable_and_the_value() -> None:
    with pytest.raises(SettingsError, match=r"APP_BATCH_SIZE='lots' is not valid: Expected `int`"):
        load_settings(Example, "APP_", {"APP_NATS_URL": "n", "APP_BATCH_SIZE": "lots"})


def test_an_empty_value_counts_as_unset() -> None:
    settings = load_settings(Example, "APP_", {"APP_NATS_URL": "n", "APP_LABEL": ""})
    assert settings.label is None


class Secret(msgspec.Struct, frozen=True, kw_only=True):
    admin_token: Annotated[str, msgspec.Meta(min_length=24)]


def test_a_secret_is_never_echoed_and_annotated_types_read_plainly() -> None:
    with pytest.raises(SettingsError, match=r"APP_ADMIN_TOKEN \(str\)"):
        load_settings(Secret, "APP_", {})
    with pytest.raises(SettingsError, match=r"APP_ADMIN_TOKEN=\(hidden\) is not valid") as raised:
        load_settings(Secret, "APP_", {"APP_ADMIN_TOKEN": "short-secret"})
    assert "short-secret" not in str(raised.value)
