"""`HttpSender`: uploads to the gateway's `POST /v1/telemetry`, as a machine would.

JSON by default; msgpack for machines flagged `constrained`. 429, 5xx and connection errors are
retried with backoff (honouring Retry-After) until the upload is stored: a machine never drops
data. Any other 4xx means the simulator built a bad upload, so it raises `GatewayRejected`.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping

import httpx
import msgspec

from tally.contracts import Upload, UploadResult
from tally.simulator._errors import DeliveryFailed, GatewayRejected
from tally.simulator._fleet import MachineSpec
from tally.simulator._retry import RetryPolicy
from tally.simulator._senders import SendResult

TOO_MANY_REQUESTS = 429
_JSON = msgspec.json.Encoder()
_MSGPACK = msgspec.msgpack.Encoder()
_RESULT = msgspec.json.Decoder(UploadResult)


class HttpSender:
    """Sends uploads to `{base_url}/v1/telemetry` with each machine's bearer token, looked up in
    `tokens` by (tenant, machine id). `max_attempts=None` retries until cancelled."""

    def __init__(
        self,
        base_url: str,
        tokens: Mapping[tuple[str, str], str],
        *,
        client: httpx.AsyncClient | None = None,
        retry: RetryPolicy | None = None,
        max_attempts: int | None = None,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self._url = base_url.rstrip("/") + "/v1/telemetry"
        self._tokens = tokens
        self._client = client or httpx.AsyncClient(timeout=30.0)
        self._owns_client = client is None
        self._retry = retry or RetryPolicy()
        self._max_attempts = max_attempts
        self._sleep = sleep

    async def send(self, tenant: str, machine: MachineSpec, upload: Upload) -> SendResult:
        """POST the upload; retry transient failures; raise on a rejected upload."""
        token = self._tokens.get((tenant, machine.id))
        if token is None:
            raise KeyError(f"no token for machine {tenant}/{machine.id}: add it to `tokens`")
        if machine.constrained:
            body, content_type = _MSGPACK.encode(upload), "application/msgpack"
        else:
            body, content_type = _JSON.encode(upload), "application/json"
        headers = {"Authorization": f"Bearer {token}", "Content-Type": content_type}
        attempt = 0
        while True:
            attempt += 1
            try:
                response = await self._client.post(self._url, content=body, headers=headers)
            except httpx.TransportError as error:
                wait, failure = self._retry.delay(attempt), f"{type(error).__name__}: {error}"
            else:
                status = response.status_code
                if 200 <= status < 300:
                    result = _RESULT.decode(response.content)
                    return SendResult(result.accepted, result.duplicates, retries=attempt - 1)
                if status != TOO_MANY_REQUESTS and status < 500:
                    raise GatewayRejected(tenant, machine.id, status, response.text)
                wait = self._retry.after(response.headers.get("Retry-After"), attempt)
                failure = f"HTTP {status}"
            if self._max_attempts is not None and attempt >= self._max_attempts:
                raise DeliveryFailed(
                    f"upload of {tenant}/{machine.id} not delivered after {attempt} attempts "
                    f"(last: {failure}); is the gateway at {self._url} up?"
                )
            await self._sleep(wait)

    async def aclose(self) -> None:
        """Close the HTTP client if this sender made it."""
        if self._owns_client:
            await self._client.aclose()

    async def __aenter__(self) -> HttpSender:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()
