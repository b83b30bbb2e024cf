"""The command line: ``python -m helpers redis|stop|worker|task ...``, thin, over the lessons.

Every :class:`~helpers.core.errors.WorkbookError` ends the command with its one line on
stderr and exit status 1.
"""

from __future__ import annotations

import sys

from helpers.core.errors import WorkbookError

USAGE = """usage: python -m helpers COMMAND
  redis start|stop|status|url   the workbook's Redis server (REDIS_URL, if set, wins)
  stop                          stop the workbook's workers, then its Redis server
  worker QUEUE... [--burst]     run one RQ worker on QUEUEs (in priority order)
  task N [args...]              run what the original course's script for task N does"""


def _dispatch(command: str, rest: list[str]) -> int | None:
    if command == "redis":
        from helpers.cli.redis_server import main as redis_main

        return redis_main(rest)
    if command == "stop":
        from helpers.cli.redis_server import stop_all

        return stop_all()
    if command == "worker":
        from helpers.core.worker_main import run_worker

        return run_worker(rest)
    if command == "task":
        from helpers.cli.tasks import run

        return run(rest)
    return None


def main(argv: list[str]) -> int:
    """Run the command named by ``argv[0]``; return the exit status."""
    command, rest = (argv[0], argv[1:]) if argv else ("", [])
    try:
        status = _dispatch(command, rest)
    except WorkbookError as exc:
        print(exc, file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    if status is not None:
        return status
    print(USAGE)
    return 0 if command in ("-h", "--help", "help") else 2
