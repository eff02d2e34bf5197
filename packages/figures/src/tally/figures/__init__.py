"""tally.figures: the production figures of docs/FIGURES.md (rollup, api and CLI share them).

Recomputing the rollup buckets that a stored range touched, set-based in SQL from the raw rows,
and the typed read queries that every view of the figures is served from (never from raw rows).
"""

__all__: list[str] = []
