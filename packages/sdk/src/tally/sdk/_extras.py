"""The optional parts of tally-sdk, named where a missing one is reported."""

EMBEDDED_EXTRA = "tally-sdk[embedded]"


def missing_extra(package: str, extra: str, instead: str) -> str:
    """What to say when `package` of the optional part `extra` is not installed."""
    return (
        f"the `{package}` package is not installed: it comes with the optional part {extra} "
        f"(`uv add '{extra}'`, or `pip install '{extra}'`); or {instead}"
    )
