"""Command line: ``python -m helpers redis|stop|worker|task ...``."""

from __future__ import annotations

import sys

from helpers.errors import WorkbookError

USAGE = """usage: python -m helpers COMMAND
  redis start|stop|status|url   the workbook's Redis server (REDIS_URL, if set, wins)
  stop                          stop the workbook's workers, then its Redis server
  worker QUEUE... [--burst]     run one RQ worker on QUEUEs (in priority order)
  task N [args...]              run what the original course's script for task N does"""


def main(argv: list[str]) -> int:
    """Dispatch to the command named by ``argv[0]``."""
    command, rest = (argv[0], argv[1:]) if argv else ("", [])
    try:
        if command == "redis":
            from helpers.server import main as redis_main

            return redis_main(rest)
        if command == "stop":
            from helpers.server import main as redis_main
            from helpers.workers import stop_registered

            count = stop_registered()
            print(f"Stopped {count} worker(s).")
            return redis_main(["stop"])
        if command == "worker":
            from helpers.workers import run_worker

            return run_worker(rest)
        if command == "task":
            from helpers.tasks import run

            return run(rest)
    except WorkbookError as exc:
        print(exc, file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    print(USAGE)
    return 0 if command in ("-h", "--help", "help") else 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
