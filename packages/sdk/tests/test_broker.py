"""Message size: what a broker stores, counted as the server counts it, and refused before
anything is sent when it would not fit."""

from __future__ import annotations

import secrets

import msgspec
import pytest

from tally.sdk import Broker, MessageTooLarge, Stream, Topic

pytestmark = pytest.mark.integration


class Blob(msgspec.Struct, frozen=True, kw_only=True):
    tenant: str
    data: str


BLOBS = Topic("blobs.{tenant}", Blob, Stream("BLOBS", ("blobs.>",)))


def _blob_of_size(broker: Broker, tenant: str, size: int) -> Blob:
    """A Blob whose encoded message (data and headers) takes exactly `size` bytes."""
    blob = Blob(tenant=tenant, data="")
    overhead = broker.outgoing(BLOBS, blob).size
    return Blob(tenant=tenant, data="x" * (size - overhead))


async def test_a_message_of_exactly_the_limit_is_stored_one_byte_more_is_refused_unsent(
    broker: Broker,
) -> None:
    await broker.ensure_stream(BLOBS.stream)
    tenant = f"t{secrets.token_hex(4)}"
    assert broker.max_payload >= 1024 * 1024
    assert broker.message_limit < broker.max_payload

    fits = broker.outgoing(BLOBS, _blob_of_size(broker, tenant, broker.message_limit))
    too_large = broker.outgoing(
        BLOBS, _blob_of_size(broker, tenant + "x", broker.message_limit + 1)
    )

    assert fits.size == broker.message_limit
    assert not (await broker.publish_outgoing(fits)).duplicate
    with pytest.raises(MessageTooLarge):
        await broker.publish_outgoing(too_large)
    stored = [m.subject for m in await broker.browse(BLOBS.stream, "blobs.>")]
    assert f"blobs.{tenant}" in stored
    assert f"blobs.{tenant}x" not in stored
