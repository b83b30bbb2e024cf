"""The original course's scripts as commands: ``python -m helpers task N``.

Each task maps to a function ``fn(argv: list[str]) -> int`` in the module that holds the
task's code; it prints what the original script prints and returns the exit status.
"""

from __future__ import annotations

import importlib

TASKS: dict[int, tuple[str, str, str]] = {
    0: ("helpers.install", "main", "install a Redis instance: PING, SET, GET, SAVE"),
    1: ("helpers.client", "task_connect", "0-redis_client.js: connect and say so"),
    2: ("helpers.client", "task_basic_ops", "1-redis_op.js: set and display values"),
    3: ("helpers.client", "task_async_ops", "2-redis_op_async.js: the same with async/await"),
    4: ("helpers.client", "task_hash", "4-redis_advanced_op.js: store and display a hash"),
    5: ("helpers.pubsub", "task_pubsub", "5-subscriber.js / 5-publisher.js: subscriber|publisher"),
    6: ("helpers.notifications", "task_job_creator", "6-job_creator.js: create one job"),
    7: ("helpers.notifications", "task_job_processor", "6-job_processor.js: process jobs"),
    8: ("helpers.notifications", "task_progress_creator", "7-job_creator.js: 11 jobs, events"),
    9: ("helpers.notifications", "task_progress_processor", "7-job_processor.js: 2 at a time"),
    10: ("helpers.notifications", "task_job_main", "8-job-main.js: the job creation function"),
    11: ("helpers.notifications", "task_job_tests", "8-job.test.js: run the job creation tests"),
    12: ("helpers.stock", "main", "9-stock.js: the 'In stock?' web app on port 1245"),
    13: ("helpers.seats", "main", "100-seat.js: the 'Can I have a seat?' web app on port 1245"),
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
        module = importlib.import_module(module_name)
        task = getattr(module, function)
    except (ImportError, AttributeError):
        print(f"task {argv[0]} is not in this version of the workbook yet.")
        return 2
    return task(argv[1:])
