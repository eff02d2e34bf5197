"""The cuttable proxy: forwards, refuses while cut, forwards again on the same port."""

from __future__ import annotations

import asyncpg
import pytest

from tally.sdk.testing import TcpProxy

pytestmark = pytest.mark.integration


async def answer(url: str) -> int:
    connection = await asyncpg.connect(url, timeout=10)
    try:
        value: int = await connection.fetchval("SELECT 41 + 1")
    finally:
        await connection.close()
    return value


async def test_a_cut_drops_open_connections_and_refuses_new_ones_until_restored(
    database_url: str,
) -> None:
    async with TcpProxy.to(database_url) as proxy:
        assert await answer(proxy.url) == 42
        held = await asyncpg.connect(proxy.url, timeout=10)
        port = proxy.port

        await proxy.cut()

        with pytest.raises((OSError, asyncpg.PostgresError, asyncpg.InterfaceError)):
            await held.fetchval("SELECT 1")
        with pytest.raises(ConnectionRefusedError):
            await answer(proxy.url)
        held.terminate()
        await proxy.restore()
        assert proxy.port == port
        assert await answer(proxy.url) == 42
