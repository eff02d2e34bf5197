"""What the accounts hold, as the api answers it: users and keys, never a hash."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Annotated

import msgspec

from tally.sdk import STORABLE_TEXT


class Role(enum.StrEnum):
    """What a user or key may do in its tenant."""

    ADMIN = "admin"  # everything of the tenant: figures, users, keys
    VIEWER = "viewer"  # read only


# The login name; stored lower-cased. Deliberately loose: the mail server is the judge. No NUL
# or lone surrogate, which PostgreSQL cannot store (see STORABLE_TEXT), and no "/", since the
# email is a path segment of /v1/users/{email} (RFC 5322 allows it; no one uses it).
Email = Annotated[
    str,
    msgspec.Meta(
        min_length=3,
        max_length=254,
        pattern=r"^[^@\s/\x00\ud800-\udfff]+@[^@\s/\x00\ud800-\udfff]+$",
    ),
]
# A password as an answer's document describes it: the limits are checked by
# `check_password`, not by the decoder, whose refusals echo the value.
Password = Annotated[str, msgspec.Meta(extra_json_schema={"minLength": 10, "maxLength": 1024})]
Name = Annotated[str, msgspec.Meta(min_length=1, max_length=200, pattern=STORABLE_TEXT)]
KeyId = Annotated[str, msgspec.Meta(pattern=r"^[0-9a-f]{16}$")]


class User(msgspec.Struct, frozen=True, kw_only=True):
    tenant: str
    email: str
    name: str
    role: Role
    disabled: bool
    created_at: datetime
    password_changed_at: datetime


class ApiKey(msgspec.Struct, frozen=True, kw_only=True):
    """A key as listed: its id (the public part of the key), never the key itself."""

    tenant: str
    key_id: str
    name: str
    role: Role
    created_at: datetime
    created_by: str
    last_used_at: datetime | None
    revoked: bool


class NewKey(msgspec.Struct, frozen=True, kw_only=True):
    """A key just made: `key` is shown this once and stored only as a hash."""

    tenant: str
    key_id: str
    name: str
    role: Role
    key: str


class SessionView(msgspec.Struct, frozen=True, kw_only=True):
    """Who a session is, and the CSRF token its pages send back with every change."""

    tenant: str
    email: str
    role: Role
    csrf_token: str
    expires_at: datetime
