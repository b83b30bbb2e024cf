"""The original course's scripts as commands: ``python -m helpers task N``.

Each task maps to a function ``fn(argv: list[str]) -> int`` in :mod:`helpers.cli`'s
modules; it prints what the original script prints and returns the exit status.
"""

from __future__ import annotations

import importlib

from helpers.core.errors import MissingPackage

TASKS: dict[int, tuple[str, str, str]] = {
    0: ("fundamentals", "task_install", "install a Redis instance: PING, SET, GET, SAVE"),
    1: ("fundamentals", "task_connect", "0-redis_client.js: connect and say so"),
    2: ("fundamentals", "task_basic_ops", "1-redis_op.js: set and display values"),
    3: ("fundamentals", "task_async_ops", "2-redis_op_async.js: the same with async/await"),
    4: ("fundamentals", "task_hash", "4-redis_advanced_op.js: store and display a hash"),
    5: ("fundamentals", "task_pubsub", "5-subscriber.js / 5-publisher.js: subscriber|publisher"),
    6: ("jobs", "task_job_creator", "6-job_creator.js: create one job"),
    7: ("jobs", "task_job_processor", "6-job_processor.js: process jobs"),
    8: ("jobs", "task_progress_creator", "7-job_creator.js: 11 jobs, events"),
    9: ("jobs", "task_progress_processor", "7-job_processor.js: 2 at a time"),
    10: ("jobs", "task_job_main", "8-job-main.js: the job creation function"),
    11: ("jobs", "task_job_tests", "8-job.test.js: run the job creation tests"),
    12: ("apps", "task_stock", "9-stock.js: the 'In stock?' web app on port 1245"),
    13: ("apps", "task_seats", "100-seat.js: the 'Can I have a seat?' web app on port 1245"),
}


def usage() -> str:
    """The list of tasks, one per line."""
    rows = [f"  task {n:<2}  {text}" for n, (_, _, text) in TASKS.items()]
    return "usage: python -m helpers task N [args...]\n" + "\n".join(rows)


def run(argv: list[str]) -> int:
    """Run task ``argv[0]`` with the remaining arguments."""
    if not argv or not argv[0].isdigit() or int(argv[0]) not in TASKS:
        print(usage())
        return 2
    module_name, function, _ = TASKS[int(argv[0])]
    try:
        module = importlib.import_module(f"helpers.cli.{module_name}")
    except ModuleNotFoundError as exc:
        if exc.name and exc.name.split(".")[0] == "helpers":
            raise
        raise MissingPackage(
            f"task {argv[0]} needs the package {exc.name}, which this Python lacks: "
            f"pip install {exc.name} (or `make setup`, which installs the workbook's packages)."
        ) from None
    return getattr(module, function)(argv[1:])
