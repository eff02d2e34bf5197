"""Reading services' Prometheus metrics: the demo's live view, tests and benchmarks."""

from __future__ import annotations

import httpx
from prometheus_client.parser import text_string_to_metric_families

Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]


async def scrape(client: httpx.AsyncClient, url: str) -> Samples:
    """Every sample of the /metrics page at `url` (a service's operations port), keyed by name
    and sorted labels; empty when down."""
    try:
        response = await client.get(f"{url}/metrics")
    except httpx.HTTPError:
        return {}
    samples: Samples = {}
    for family in text_string_to_metric_families(response.text):
        for sample in family.samples:
            samples[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return samples


def total(samples: Samples, name: str, **labels: str) -> float:
    """Sum of a metric over the samples matching the given labels."""
    wanted = set(labels.items())
    return sum(v for (n, ls), v in samples.items() if n == name and wanted <= set(ls))
