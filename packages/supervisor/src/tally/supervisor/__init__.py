"""tally.supervisor: tally services as separate processes, as in production — started,
watched, measured and stopped — for the demo, the end-to-end tests and the benchmarks.

    ServiceProcesses    starts `python -m tally.<name>` with a shared environment, each with its
                        own role's database login and log file; stops them all, however we exit
    ServiceProcess      one of them: its ports, its process, its memory
    database_role       the role a service logs in as, read from its declaration
    service_environment this process's environment for a service, without the owner's secrets
    scrape, total       a service's Prometheus metrics, read and summed (Samples)
"""

from tally.supervisor._metrics import Samples, scrape, total
from tally.supervisor._service_processes import (
    ServiceProcess,
    ServiceProcesses,
    database_role,
    service_environment,
)

__all__ = [
    "Samples",
    "ServiceProcess",
    "ServiceProcesses",
    "database_role",
    "scrape",
    "service_environment",
    "total",
]
