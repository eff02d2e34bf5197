"""`python -m tally.api [--workers N] [--port PORT]`."""

from tally.api.service import service
from tally.sdk import run_service

if __name__ == "__main__":
    run_service(service)
