"""Reading an upload: media type, size limit, decoding against the contract, clock sanity.

The contract types do all the validating (ranges, finite numbers, enums, lengths); this module
only turns their verdict into a refusal that names the field and the value the body held there.
Timestamps are the one thing the types cannot judge, since "too far ahead" depends on the
gateway's clock. Bytes in, an `Upload` or a `Refused` out: no transport is involved.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from tally.contracts import Upload
from tally.gateway.problems import Problem
from tally.gateway.refusals import Invalid, TooLarge, Unreadable, UnsupportedFormat
from tally.gateway.settings import GatewaySettings
from tally.sdk import BodyFormat, BodyRefused, json_body, msgpack_body, presentable, value_at

_ADVICE = "send one Upload as {name}, or name its format in Content-Type"
_JSON = json_body(Upload, advice=_ADVICE.format(name="JSON"))
_MSGPACK = msgpack_body(Upload, advice=_ADVICE.format(name="MessagePack"))
FORMATS = {
    "application/json": _JSON,
    "application/msgpack": _MSGPACK,
    "application/x-msgpack": _MSGPACK,
}
TOO_LARGE_ADVICE = "send fewer messages per upload"


class UploadReader:
    """Turns bytes of a media type into a valid `Upload`, or raises `Refused` saying what was
    wrong."""

    def __init__(self, settings: GatewaySettings) -> None:
        self.limit = settings.max_body_bytes
        self._ahead = timedelta(seconds=settings.max_future_seconds)
        self._age = timedelta(days=settings.max_age_days)
        self._max_age_days = settings.max_age_days

    def read(self, payload: bytes, content_type: str | None) -> Upload:
        media_type = (content_type or "").partition(";")[0].strip().lower()
        form = FORMATS.get(media_type)
        if form is None:
            detail = f"Content-Type {content_type!r} is not accepted; send one of {list(FORMATS)}"
            raise UnsupportedFormat(Problem(error="unsupported_media_type", detail=detail))
        if len(payload) > self.limit:
            detail = f"the body exceeds the limit of {self.limit} bytes; {TOO_LARGE_ADVICE}"
            raise TooLarge(Problem(error="too_large", detail=detail, limit_bytes=self.limit))
        try:
            upload = form.parse(payload)
        except BodyRefused as refused:
            fault = Unreadable if refused.problem.error == "malformed" else Invalid
            raise fault(refused.problem) from None
        self._check_times(upload, form, payload)
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
    ) -> Invalid:
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
        value = presentable(value_at(form.document(body), field))
        return Invalid(Problem(error="invalid", detail=detail, field=field, value=value))
