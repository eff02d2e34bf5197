"""Reading an upload: media type, size limit, decoding against the contract, clock sanity.

The contract types do all the validating (ranges, finite numbers, enums, lengths); this module
only turns their verdict into an answer that names the field and the value the body held there.
Timestamps are the one thing the types cannot judge, since "too far ahead" depends on the
gateway's clock.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from starlette.requests import Request

from tally.contracts import Upload
from tally.gateway.settings import GatewaySettings
from tally.sdk import (
    BodyFormat,
    Rejected,
    invalid,
    json_body,
    msgpack_body,
    read_body,
    unsupported_media_type,
    value_at,
)

_ADVICE = "send one Upload as {name}, or name its format in Content-Type"
_JSON = json_body(Upload, advice=_ADVICE.format(name="JSON"))
_MSGPACK = msgpack_body(Upload, advice=_ADVICE.format(name="MessagePack"))
FORMATS = {
    "application/json": _JSON,
    "application/msgpack": _MSGPACK,
    "application/x-msgpack": _MSGPACK,
}


class UploadReader:
    """Turns a request into a valid `Upload`, or raises `Rejected` saying what was wrong."""

    def __init__(self, settings: GatewaySettings) -> None:
        self._limit = settings.max_body_bytes
        self._ahead = timedelta(seconds=settings.max_future_seconds)
        self._age = timedelta(days=settings.max_age_days)
        self._max_age_days = settings.max_age_days

    async def read(self, request: Request) -> Upload:
        content_type = request.headers.get("content-type")
        media_type = (content_type or "").partition(";")[0].strip().lower()
        form = FORMATS.get(media_type)
        if form is None:
            raise unsupported_media_type(content_type, list(FORMATS))
        body = await read_body(request, self._limit, advice="send fewer messages per upload")
        upload = form.decode(body)
        self._check_times(upload, form, body)
        return upload

    def _check_times(self, upload: Upload, form: BodyFormat[Upload], body: bytes) -> None:
        now = datetime.now(UTC)
        earliest, latest = now - self._age, now + self._ahead
        for i, message in enumerate(upload.messages):
            if not earliest <= message.ts <= latest:
                raise self._bad_time(message.ts, now, f"messages[{i}].ts", form, body)
            for j, signal in enumerate(message.signals):
                ts = signal.ts
                if ts is not None and not earliest <= ts <= latest:
                    raise self._bad_time(ts, now, f"messages[{i}].signals[{j}].ts", form, body)

    def _bad_time(
        self, ts: datetime, now: datetime, field: str, form: BodyFormat[Upload], body: bytes
    ) -> Rejected:
        if ts > now:
            detail = (
                f"{field} = {ts.isoformat()} is more than {self._ahead.total_seconds():g} s "
                f"ahead of the gateway's clock ({now.isoformat()}); set the machine's clock"
            )
        else:
            detail = (
                f"{field} = {ts.isoformat()} is more than {self._max_age_days:g} days old; data "
                "that old can no longer be placed in the figures: leave it out of the upload"
            )
        return invalid(detail, field, value_at(form.document(body), field))
