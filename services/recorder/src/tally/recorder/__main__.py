"""python -m tally.recorder [--workers N]"""

from tally.recorder.service import service
from tally.sdk import run_service

if __name__ == "__main__":
    run_service(service)
