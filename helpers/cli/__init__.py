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
  task N [args...]              run what the original course's script for task N does
  doctor                        check what the workbook needs here; name the fix of each failure
  student [DIR]                 write the notebooks' student edition (no solutions) into DIR
  grade NOTEBOOK... [--csv F]   run learners' notebooks; print and write each exercise's points"""


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
    if command == "doctor":
        from helpers.cli.doctor import main as doctor_main

        return doctor_main(rest)
    if command == "student":
        from helpers.cli.student import main as student_main

        return student_main(rest)
    if command == "grade":
        from helpers.cli.grade import main as grade_main

        return grade_main(rest)
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
