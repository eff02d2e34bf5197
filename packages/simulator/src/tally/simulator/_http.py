"""`HttpSender`: uploads to the gateway's `POST /v1/telemetry`, as a machine would.

JSON by default; msgpack for machines flagged `constrained`. 429, 5xx and connection errors are
retried with backoff (honouring Retry-After) until the upload is stored: a machine never drops
data. Any other 4xx means the simulator built a bad upload, so it raises `GatewayRejected`.

An upload is cut into parts that each fit the gateway's body limit (`max_body_bytes`, and the
contract's `max_messages`), sent in order. A 413 teaches a smaller limit (its `limit_bytes`, or
half the body when it names none): nothing of that part was stored, so it is cut again and
sent on — no message lost, none sent twice. A single message larger than the limit can never
be delivered: `UploadTooLarge` says so at once instead of sending it again and again.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Awaitable, Callable, Mapping, Sequence

import httpx
import msgspec

from tally.contracts import MachineMessage, Upload, UploadResult
from tally.simulator._errors import DeliveryFailed, GatewayRejected, UploadTooLarge
from tally.simulator._fleet import MachineSpec
from tally.simulator._retry import RetryPolicy
from tally.simulator._senders import SendResult

TOO_MANY_REQUESTS = 429
TOO_LARGE = 413
# The gateway's default body limit, and the contract's limit of messages per upload.
DEFAULT_MAX_BODY_BYTES = 1024 * 1024
DEFAULT_MAX_MESSAGES = 500
# What an upload's body holds beyond its messages' own bytes: the object around the array
# (15 bytes in JSON, at most 15 in msgpack), and a separator per message in JSON.
_ENVELOPE_BYTES = 16
_JSON = msgspec.json.Encoder()
_MSGPACK = msgspec.msgpack.Encoder()
_RESULT = msgspec.json.Decoder(UploadResult)


class _Limit(msgspec.Struct):
    limit_bytes: int | None = None


_PROBLEM = msgspec.json.Decoder(_Limit)
Encode = Callable[[object], bytes]
Part = tuple[Sequence[MachineMessage], bytes]


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
        max_body_bytes: int = DEFAULT_MAX_BODY_BYTES,
        max_messages: int = DEFAULT_MAX_MESSAGES,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self._url = base_url.rstrip("/") + "/v1/telemetry"
        self._tokens = tokens
        self._client = client or httpx.AsyncClient(timeout=30.0)
        self._owns_client = client is None
        self._retry = retry or RetryPolicy()
        self._max_attempts = max_attempts
        self.max_body_bytes = max_body_bytes
        self._max_messages = max_messages
        self._sleep = sleep

    async def send(self, tenant: str, machine: MachineSpec, upload: Upload) -> SendResult:
        """POST the upload (in parts, where it is too large for one request); retry transient
        failures; raise on a rejected upload."""
        token = self._tokens.get((tenant, machine.id))
        if token is None:
            raise KeyError(f"no token for machine {tenant}/{machine.id}: add it to `tokens`")
        encode: Encode = _MSGPACK.encode if machine.constrained else _JSON.encode
        content_type = "application/msgpack" if machine.constrained else "application/json"
        headers = {"Authorization": f"Bearer {token}", "Content-Type": content_type}
        parts = deque(self._parts(tenant, machine, upload.messages, encode))
        accepted = duplicates = retries = 0
        while parts:
            messages, body = parts.popleft()
            response, attempts = await self._post(tenant, machine, body, headers)
            retries += attempts - 1
            if response.status_code == TOO_LARGE:
                self._learn(tenant, machine, messages, body, response)
                parts.extendleft(reversed(self._parts(tenant, machine, messages, encode)))
                retries += 1
                continue
            result = _RESULT.decode(response.content)
            accepted += result.accepted
            duplicates += result.duplicates
        return SendResult(accepted, duplicates, retries=retries)

    def _parts(
        self,
        tenant: str,
        machine: MachineSpec,
        messages: Sequence[MachineMessage],
        encode: Encode,
    ) -> list[Part]:
        """`messages` in order, cut into bodies within the limits of size and count."""
        limit = self.max_body_bytes
        if len(messages) <= self._max_messages:
            body = encode(Upload(messages=list(messages)))
            if len(body) <= limit:
                return [(messages, body)]  # the usual case: one encoding, no cutting
        parts: list[Part] = []
        start, size = 0, _ENVELOPE_BYTES
        for end, message in enumerate(messages):
            grows = len(encode(message)) + 1
            if _ENVELOPE_BYTES + grows > limit:
                raise UploadTooLarge(tenant, machine.id, message.seq, grows, limit)
            if size + grows > limit or end - start == self._max_messages:
                parts.append(_part(messages[start:end], encode))
                start, size = end, _ENVELOPE_BYTES
            size += grows
        parts.append(_part(messages[start:], encode))
        return parts

    def _learn(
        self,
        tenant: str,
        machine: MachineSpec,
        messages: Sequence[MachineMessage],
        body: bytes,
        response: httpx.Response,
    ) -> None:
        """A 413: remember the smaller limit it names, or guess one."""
        try:
            named = _PROBLEM.decode(response.content).limit_bytes
        except msgspec.DecodeError:
            named = None  # a proxy's 413 page, say
        learned = named if named is not None and 0 < named < len(body) else len(body) // 2
        if len(messages) == 1:
            raise UploadTooLarge(tenant, machine.id, messages[0].seq, len(body), learned)
        self.max_body_bytes = min(self.max_body_bytes, learned)

    async def _post(
        self, tenant: str, machine: MachineSpec, body: bytes, headers: Mapping[str, str]
    ) -> tuple[httpx.Response, int]:
        """The gateway's answer once it is 2xx or 413, and the attempts it took."""
        attempt = 0
        while True:
            attempt += 1
            try:
                response = await self._client.post(self._url, content=body, headers=headers)
            except httpx.TransportError as error:
                wait, failure = self._retry.delay(attempt), f"{type(error).__name__}: {error}"
            else:
                status = response.status_code
                if 200 <= status < 300 or status == TOO_LARGE:
                    return response, attempt
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


def _part(messages: Sequence[MachineMessage], encode: Encode) -> Part:
    return messages, encode(Upload(messages=list(messages)))
