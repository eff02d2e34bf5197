"""The body of the gateway's error answers: `tally.sdk`'s `Problem`, plus `rate_per_second`,
which only a refusal for the tenant's rate carries."""

from __future__ import annotations

import msgspec

from tally.sdk import Problem as CommonProblem


class Problem(CommonProblem, frozen=True, kw_only=True):
    """The body of every error answer."""

    rate_per_second: float | msgspec.UnsetType = msgspec.UNSET
