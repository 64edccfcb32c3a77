"""The `mediawatch` command: a thin layer over the Python API (see DESIGN.md for the contract).

Exit codes: 0 ok, 1 the job ran but failed, 2 bad usage or bad configuration.
"""

from mediawatch.cli import jobs, manage, query, web  # noqa: F401  (they register the commands)
from mediawatch.cli.base import accept_verbose_everywhere, main

accept_verbose_everywhere(main)

__all__ = ["main"]
