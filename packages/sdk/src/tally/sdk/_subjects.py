"""NATS subject matching (`*` one token, `>` the rest), for the in-memory broker."""

from __future__ import annotations


def subject_matches(pattern: str, subject: str) -> bool:
    """Whether a concrete subject falls under a NATS subject pattern."""
    wanted = pattern.split(".")
    tokens = subject.split(".")
    for index, token in enumerate(wanted):
        if token == ">":
            return len(tokens) > index
        if index >= len(tokens) or (token != "*" and token != tokens[index]):
            return False
    return len(tokens) == len(wanted)
