"""tally.recorder: broker → raw datapoint store, batched and idempotent.

A service: run it with ``python -m tally.recorder``; nothing here is imported by other members.
"""
