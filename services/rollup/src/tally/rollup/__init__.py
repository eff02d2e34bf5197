"""tally.rollup: the recorder's STORED notices → the production figures' buckets.

A service: run it with ``python -m tally.rollup``; nothing here is imported by other members.
"""
