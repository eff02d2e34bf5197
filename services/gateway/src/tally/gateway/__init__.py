"""tally.gateway: machines → broker — authenticate, validate, publish (`python -m tally.gateway`).

A service: run, never imported by other members. See `tally.gateway.service`.
"""
