"""A service's Prometheus page read into samples, and summed by name and labels."""

from __future__ import annotations

import httpx

from tally.supervisor import scrape, total

PAGE = """\
# HELP tally_recorder_messages_stored_total Telemetry messages stored
# TYPE tally_recorder_messages_stored_total counter
tally_recorder_messages_stored_total{tenant="alpenwerk"} 120.0
tally_recorder_messages_stored_total{tenant="kaeserei"} 30.0
# HELP tally_up Whether it runs
# TYPE tally_up gauge
tally_up 1.0
"""


def served(page: str, status: int = 200) -> httpx.AsyncClient:
    def answer(request: httpx.Request) -> httpx.Response:
        assert request.url.path == "/metrics"
        return httpx.Response(status, text=page)

    return httpx.AsyncClient(transport=httpx.MockTransport(answer))


async def test_samples_are_keyed_by_name_and_sorted_labels_and_summed() -> None:
    async with served(PAGE) as client:
        samples = await scrape(client, "http://127.0.0.1:9081")
    name = "tally_recorder_messages_stored_total"
    assert samples[(name, (("tenant", "alpenwerk"),))] == 120.0
    assert total(samples, name) == 150.0
    assert total(samples, name, tenant="kaeserei") == 30.0
    assert total(samples, "tally_up") == 1.0
    assert total(samples, "tally_missing") == 0.0


async def test_a_service_that_does_not_answer_has_no_samples() -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused", request=request)

    async with httpx.AsyncClient(transport=httpx.MockTransport(refuse)) as client:
        assert await scrape(client, "http://127.0.0.1:1") == {}
