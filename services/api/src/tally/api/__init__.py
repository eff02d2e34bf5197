"""tally.api: the HTTP API (`python -m tally.api`) — for now the tenant administration.

A service: run, never imported by other members. See `tally.api.service`.
"""
