"""Settings nobody may read in a log: `Secret` and `SecretUrl`.

    class ApiSettings(msgspec.Struct, frozen=True, kw_only=True):
        admin_token: Secret                 # TALLY_API_ADMIN_TOKEN

    settings.admin_token                    # Secret('***') in repr, str, f-strings and errors
    settings.admin_token.reveal()           # the value, for the one call that needs it

A `SecretUrl` shows the URL with its password (or a NATS token standing alone in the userinfo)
replaced by ``***``, so a message may name the server it could not reach. `load_settings` reads
both from plain environment variables. What a secret hides is also scrubbed from every log line
the service writes (`configure_logging(hidden=...)`), in case a library repeats it in an error.
"""

from __future__ import annotations

import hmac
from collections.abc import Iterable
from typing import Final
from urllib.parse import SplitResult, unquote, urlsplit, urlunsplit

REDACTED: Final = "***"
# Where a lone user in a URL is a credential (NATS's token form), not a name.
_TOKEN_SCHEMES = ("nats", "tls", "ws", "wss")


class Secret:
    """A secret setting: shown as ``***`` everywhere; `reveal()` gives the value."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        """The secret itself: pass it straight to the client that needs it, never to a log."""
        return self._value

    def hidden_parts(self) -> list[str]:
        """What a log line must never hold: the value (for a URL, its password or token)."""
        return [self._value]

    def __repr__(self) -> str:
        return f"{type(self).__name__}({str(self)!r})"

    def __str__(self) -> str:
        return REDACTED

    def __format__(self, spec: str) -> str:
        return format(str(self), spec)

    def __eq__(self, other: object) -> bool:
        if type(other) is not type(self):
            return NotImplemented
        assert isinstance(other, Secret)
        return hmac.compare_digest(self._value.encode(), other._value.encode())

    def __hash__(self) -> int:
        return hash((type(self), self._value))

    def __len__(self) -> int:
        return len(self._value)


class SecretUrl(Secret):
    """A URL with a password in it: shown with the password as ``***`` (see `redact_url`)."""

    __slots__ = ()

    def __str__(self) -> str:
        return redact_url(self._value)

    def hidden_parts(self) -> list[str]:
        return sorted({part for url in _urls(self._value) for part in _credentials(url)})


def redact_url(url: str) -> str:
    """`url` fit for a log: a password, or a NATS token, replaced by ``***``. Several URLs
    separated by commas (a NATS cluster) are each redacted."""
    return ",".join(_redact_one(part) for part in url.split(","))


def secret_values(settings: Iterable[object]) -> list[str]:
    """Every hidden part of the `Secret` fields of the given settings objects."""
    found: set[str] = set()
    for value in settings:
        for name in getattr(value, "__struct_fields__", ()):
            field = getattr(value, name)
            if isinstance(field, Secret):
                found.update(field.hidden_parts())
    return sorted(found)


def _redact_one(url: str) -> str:
    parts = _split(url)
    if parts is None:
        return REDACTED  # unreadable: it may hold anything
    if "@" not in parts.netloc:
        return url
    user, _, host = parts.netloc.rpartition("@")
    name, colon, _ = user.partition(":")
    if colon:
        login = f"{name}:{REDACTED}"
    elif parts.scheme in _TOKEN_SCHEMES:
        login = REDACTED
    else:
        return url
    return urlunsplit(parts._replace(netloc=f"{login}@{host}"))


def _credentials(url: str) -> list[str]:
    parts = _split(url.strip())
    if parts is None or "@" not in parts.netloc:
        return []
    user = parts.netloc.rpartition("@")[0]
    name, colon, password = user.partition(":")
    secret = password if colon else (name if parts.scheme in _TOKEN_SCHEMES else "")
    return [s for s in {secret, unquote(secret)} if s]


def _urls(value: str) -> list[str]:
    return [part.strip() for part in value.split(",") if part.strip()]


def _split(url: str) -> SplitResult | None:
    try:
        return urlsplit(url.strip())
    except ValueError:  # not a URL at all: nothing to show apart
        return None
