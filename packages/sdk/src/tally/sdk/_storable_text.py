"""Text that every hop can carry and PostgreSQL can store.

PostgreSQL's `text` refuses the NUL character, and UTF-8 — which msgspec, asyncpg and the
database all speak — has no encoding for a lone surrogate (a half of a UTF-16 pair, which a
Python `str` can hold). A contract that let either through would accept a value at the door
and lose it on the way to the database, so free-text fields of contracts and records carry
this pattern:

    Text = Annotated[str, msgspec.Meta(max_length=256, pattern=STORABLE_TEXT)]

(Escapes, not the characters themselves, so the JSON Schema shows the same pattern.)
"""

from __future__ import annotations

STORABLE_TEXT = r"^[^\x00\ud800-\udfff]*$"
