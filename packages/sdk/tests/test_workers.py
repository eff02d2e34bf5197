"""--workers N: each worker runs the same command with --workers 1."""

from __future__ import annotations

from tally.sdk._workers import worker_command


def test_a_worker_runs_the_same_command_as_a_single_process() -> None:
    assert worker_command(["python", "-m", "tally.recorder", "--workers", "3", "--port", "9"]) == [
        "python",
        "-m",
        "tally.recorder",
        "--port",
        "9",
        "--workers",
        "1",
    ]
    assert worker_command(["python", "-m", "tally.recorder", "--workers=2"]) == [
        "python",
        "-m",
        "tally.recorder",
        "--workers",
        "1",
    ]
