"""Typed settings read from the environment, once, at start-up.

A settings class is a frozen msgspec Struct; each field is read from ``PREFIX + FIELD`` (upper
case). A missing required setting or an unreadable value stops the service at start-up with the
variable's name — never a silent fallback. A field typed `Secret` or `SecretUrl` is read from a
plain variable and never shown, in errors either.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any, TypeVar

import msgspec

from tally.sdk._errors import SettingsError
from tally.sdk._secrets import Secret

S = TypeVar("S", bound=msgspec.Struct)


def load_settings(kind: type[S], prefix: str, environ: Mapping[str, str] | None = None) -> S:
    """Build `kind` from environment variables named ``{prefix}{FIELD}``."""
    env = os.environ if environ is None else environ
    raw: dict[str, str] = {}
    missing: list[str] = []
    for field in msgspec.structs.fields(kind):
        variable = f"{prefix}{field.name.upper()}"
        value = env.get(variable)
        if value is not None and value != "":
            raw[field.name] = value
        elif field.required:
            missing.append(f"{variable} ({_type_name(field.type)})")
    if missing:
        raise SettingsError(f"missing required setting(s): {', '.join(missing)}")
    try:
        return msgspec.convert(raw, kind, strict=False, dec_hook=_secret)
    except msgspec.ValidationError as error:
        raise SettingsError(_explain(error, prefix, raw, _secret_fields(kind))) from error


# Names that smell of a secret even where a plain str was declared.
_SECRET_WORDS = ("token", "password", "secret", "key", "url")


def _secret(kind: Any, value: Any) -> Any:
    if isinstance(kind, type) and issubclass(kind, Secret) and isinstance(value, str):
        return kind(value)
    raise TypeError(f"cannot read a {getattr(kind, '__name__', kind)} from a variable")


def _secret_fields(kind: type[msgspec.Struct]) -> set[str]:
    return {
        field.name
        for field in msgspec.structs.fields(kind)
        if "Secret" in str(field.type) or any(word in field.name for word in _SECRET_WORDS)
    }


def _explain(
    error: msgspec.ValidationError, prefix: str, raw: Mapping[str, str], hidden: set[str]
) -> str:
    # msgspec names the path as "$.field"; name the variable and the offending value instead —
    # unless the value is a secret, which must not end up in a log.
    message = str(error)
    if " - at `$." in message:
        reason, _, path = message.partition(" - at `$.")
        name = path.rstrip("`").split(".")[0].split("[")[0]
        shown = "(hidden)" if name in hidden else repr(raw.get(name, ""))
        return f"{prefix}{name.upper()}={shown} is not valid: {reason}"
    return f"settings with prefix {prefix}: {message}"


def _type_name(kind: object) -> str:
    # Annotated[int, Meta(...)] shows as its underlying type.
    origin = getattr(kind, "__origin__", None)
    if origin is not None and getattr(kind, "__metadata__", None) is not None:
        return _type_name(origin)
    return getattr(kind, "__name__", None) or str(kind)
