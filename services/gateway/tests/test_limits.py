"""Per-tenant token buckets, on a clock the test moves."""

from __future__ import annotations

from tally.gateway.limits import TenantLimits


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_a_tenant_may_burst_two_seconds_worth_then_waits() -> None:
    clock = Clock()
    limits = TenantLimits(clock=clock)

    assert limits.take("acme", 100, 150) == 0
    assert limits.take("acme", 100, 50) == 0
    assert limits.take("acme", 100, 50) == 1
    clock.now += 0.5
    assert limits.take("acme", 100, 50) == 0


def test_retry_after_covers_the_missing_datapoints() -> None:
    clock = Clock()
    limits = TenantLimits(clock=clock)
    assert limits.take("acme", 10, 20) == 0

    assert limits.take("acme", 10, 20) == 2
    clock.now += 1.9
    assert limits.take("acme", 10, 20) == 1
    clock.now += 0.2
    assert limits.take("acme", 10, 20) == 0


def test_an_upload_larger_than_the_burst_passes_once_and_leaves_debt() -> None:
    clock = Clock()
    limits = TenantLimits(clock=clock)

    assert limits.take("acme", 10, 100) == 0
    # 80 datapoints in debt at 10/s, and one more needed: 9 s.
    assert limits.take("acme", 10, 1) == 9
    clock.now += 9
    assert limits.take("acme", 10, 1) == 0


def test_tenants_have_buckets_of_their_own() -> None:
    limits = TenantLimits(clock=Clock())
    assert limits.take("acme", 10, 20) == 0
    assert limits.take("acme", 10, 1) > 0

    assert limits.take("globex", 10, 20) == 0


def test_a_worker_gets_its_share_of_the_rate() -> None:
    limits = TenantLimits(share=0.5, clock=Clock())

    assert limits.rate(100) == 50
    assert limits.take("acme", 100, 100) == 0
    assert limits.take("acme", 100, 1) == 1
