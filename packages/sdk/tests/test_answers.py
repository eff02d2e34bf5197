"""Answers besides JSON, as bytes on the wire: server-sent events cannot be forged by their own
data, downloads name their file for every client."""

from __future__ import annotations

import msgspec

from tally.sdk import Event, File


class Figures(msgspec.Struct, frozen=True):
    line: str
    packs: int


def test_an_event_is_its_fields_and_one_data_line_per_line_of_text() -> None:
    event = Event("first\nsecond", event="note", id="7", retry=3000)

    assert event.encode() == b"event: note\nid: 7\nretry: 3000\ndata: first\ndata: second\n\n"


def test_data_other_than_text_is_sent_as_json() -> None:
    assert Event(Figures("l1", 120)).encode() == b'data: {"line":"l1","packs":120}\n\n'
    assert Event("").encode() == b"data: \n\n"


def test_a_line_break_in_a_name_or_id_cannot_start_a_forged_field() -> None:
    encoded = Event("x", event="a\ndata: forged", id="1\r\nretry: 1").encode()

    assert encoded == b"event: a data: forged\nid: 1  retry: 1\ndata: x\n\n"


def test_a_download_names_its_file_plainly_and_exactly() -> None:
    response = File(b"%PDF", "application/pdf", filename='Bericht "Linie 1".pdf').response(200, {})

    assert response.headers["content-disposition"] == (
        'attachment; filename="Bericht _Linie 1_.pdf"; '
        "filename*=UTF-8''Bericht%20%22Linie%201%22.pdf"
    )
    assert response.headers["content-type"] == "application/pdf"
