"""A loopback TCP proxy that a test can cut: a server made unreachable without stopping it.

    async with TcpProxy.to(database_url) as proxy:
        db = await Database.connect(proxy.url)   # connects through the proxy
        await proxy.cut()        # open connections drop, new ones are refused (a closed port)
        ...                      # the outage, as the client sees it
        await proxy.restore()    # the same port accepts again

Stopping a shared server would hurt every other test of the session; cutting its proxy hurts
only the clients that were pointed at it.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import Self
from urllib.parse import urlsplit, urlunsplit

from tally.sdk._secrets import redact_url

_CHUNK = 65_536


class TcpProxy:
    """Forwards 127.0.0.1:`port` to the target's host and port."""

    def __init__(self, url: str) -> None:
        target = urlsplit(url)
        if target.hostname is None or target.port is None:
            raise ValueError(f"{redact_url(url)!r} names no host and port to proxy")
        self._target_url = target
        self._target = (target.hostname, target.port)
        self._server: asyncio.Server | None = None
        self._pipes: set[asyncio.Task[None]] = set()
        self._writers: set[asyncio.StreamWriter] = set()
        self.port = 0

    @classmethod
    @contextlib.asynccontextmanager
    async def to(cls, url: str) -> AsyncIterator[Self]:
        """A running proxy to the server of `url`; closed (every connection cut) on exit."""
        proxy = cls(url)
        await proxy.restore()
        try:
            yield proxy
        finally:
            await proxy.cut()

    @property
    def url(self) -> str:
        """The target's URL with the proxy's port instead of the target's."""
        netloc = self._target_url.netloc.rpartition("@")
        credentials = netloc[0] + netloc[1]
        return urlunsplit(self._target_url._replace(netloc=f"{credentials}127.0.0.1:{self.port}"))

    async def restore(self) -> None:
        """Accept connections (again, on the same port)."""
        if self._server is None:
            self._server = await asyncio.start_server(
                self._accept, "127.0.0.1", self.port, reuse_address=True
            )
            self.port = self._server.sockets[0].getsockname()[1]

    async def cut(self) -> None:
        """Drop every open connection and refuse new ones until `restore`."""
        if self._server is not None:
            self._server.close()
            self._server = None
        for writer in list(self._writers):
            writer.transport.abort()
        for pipe in list(self._pipes):
            pipe.cancel()
        await asyncio.gather(*self._pipes, return_exceptions=True)

    async def _accept(self, client_in: asyncio.StreamReader, client: asyncio.StreamWriter) -> None:
        try:
            server_in, server = await asyncio.open_connection(*self._target)
        except OSError:
            client.transport.abort()
            return
        self._writers |= {client, server}
        pipes = [
            asyncio.create_task(self._pipe(client_in, server)),
            asyncio.create_task(self._pipe(server_in, client)),
        ]
        self._pipes.update(pipes)
        try:
            # Either side closing ends both: a half-open pair would only confuse the client.
            await asyncio.wait(pipes, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for pipe in pipes:
                pipe.cancel()
            await asyncio.gather(*pipes, return_exceptions=True)
            self._pipes.difference_update(pipes)
            for writer in (client, server):
                writer.transport.abort()
                self._writers.discard(writer)

    @staticmethod
    async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with contextlib.suppress(OSError):
            while chunk := await reader.read(_CHUNK):
                writer.write(chunk)
                await writer.drain()
