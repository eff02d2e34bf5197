"""Child processes for tools that start servers and services: a free port to give one, a hook
by which it dies with its parent, and the tail of its log for error messages.

    from tally.sdk.processes import free_port, log_tail, parent_death_hook

    port = free_port()
    process = subprocess.Popen(argv, preexec_fn=parent_death_hook())
"""

from tally.sdk._processes import parent_death_hook
from tally.sdk._server_process import free_port, log_tail

__all__ = ["free_port", "log_tail", "parent_death_hook"]
