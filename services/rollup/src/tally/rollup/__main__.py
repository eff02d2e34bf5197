"""python -m tally.rollup [--workers N]"""

from tally.rollup.service import service
from tally.sdk import run_service

if __name__ == "__main__":
    run_service(service)
