"""Latency from a worker's progress update to the creator's event handler.

    .venv/bin/python benchmarks/bench_events.py [--jobs 200] [--workers 2]

Creates N notification jobs, runs them on real worker processes, and measures, for every
progress event, the time from the job's ``report_progress`` call (in the work horse) to the
moment the creator's :class:`helpers.core.listener.Listener` hands the event to its handler.
Uses ``REDIS_URL`` if set, else a fresh server of its own (as the tests do).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def main(argv: list[str]) -> int:
    """Run the benchmark and print the median and p95 latency."""
    parser = argparse.ArgumentParser(prog="bench_events.py")
    parser.add_argument("--jobs", type=int, default=200)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args(argv)
    own_server = not os.environ.get("REDIS_URL")
    if own_server:
        os.environ["WORKBOOK_HOME"] = tempfile.mkdtemp(prefix="workbook-bench-")
        from helpers.core.server import free_port

        os.environ["WORKBOOK_REDIS_PORT"] = str(free_port())
    from rq import Queue

    from helpers.core import events, server
    from helpers.core.listener import Listener
    from helpers.core.workers import start_workers
    from helpers.job_creation import create_job, reset_queue
    from helpers.notifications import SAMPLE_JOBS

    try:
        connection = server.raw_connection()
        queue = Queue("bench_events", connection=connection)
        reset_queue(queue)
        latencies: list[float] = []
        replayed = 0

        def handler(event: events.JobEvent) -> None:
            nonlocal replayed
            if event.kind == events.PROGRESS:  # live or replayed from Redis: both count
                latencies.append((time.time() - event.at) * 1000)
                replayed += not event.live

        listener = Listener(connection, handler)
        jobs = [create_job(queue, SAMPLE_JOBS[2 + i % 9]) for i in range(args.jobs)]
        listener.watch(jobs)
        started = time.monotonic()
        with start_workers(queue.name, args.workers, burst=True) as group:
            group.wait(600)
        listener.wait(60)
        took = time.monotonic() - started
        reset_queue(queue)
        listener.stop()
        latencies.sort()
        p95 = latencies[max(0, int(len(latencies) * 0.95) - 1)]
        print(f"{args.jobs} jobs on {args.workers} workers in {took:.1f} s; "
              f"{len(latencies)} progress events ({replayed} replayed from Redis, the rest live)")
        median = statistics.median(latencies)
        print(f"progress update -> creator's handler: median {median:.1f} ms, "
              f"p95 {p95:.1f} ms, max {latencies[-1]:.1f} ms")
        return 0 if p95 < 250 else 1
    finally:
        if own_server:
            server.stop()


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
