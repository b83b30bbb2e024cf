"""How fast is a queue: jobs per second, end to end, for the workbook's path, plain RQ and Kue.

    .venv/bin/python benchmarks/bench_throughput.py [--jobs 1000] [--rounds 5] [--json]
        [--no-kue] [--growth [--sizes 1000 10000 100000]]

Every figure is measured on real worker processes and a real Redis (``REDIS_URL`` if set,
else a fresh workbook server of its own, stopped at the end), the clock running from the
first job created (the workers already waiting) to the last event the creator hears (or,
for plain RQ, which publishes none, the last job Redis holds finished):

- the workbook's default path (task 10: ``create_job`` with progress 0 and 50, events, and a
  listener) on 2 of its workers, against the same workers without events, and plain RQ
  ``Worker`` (a fork per job), ``SimpleWorker`` and ``rq worker-pool`` running the same
  notification without events; jobs/s are the best of ``--rounds`` rounds. What the events
  add to the per-job time (``event_overhead``) is the median over the rounds of the ratio
  of two runs back to back, with and without events (the machine's noise, 10-20% from one
  run to the next on 2 busy cores, would swamp a ratio of two bests taken minutes apart);
  ``event_overhead_cpu`` the same for the CPU every process spent per job (creator and
  listener, workers and their horses, Redis), which the noise moves less;
- Redis commands per job for each (``INFO commandstats``), Redis's own round trips and
  pipelined commands per second, and the Redis memory a queued job takes;
- enqueueing one by one against ``enqueue_many`` (one pipeline);
- one job delivering K notifications, K = 1, 10, 100, 1000;
- Kue 0.11.6 (the original's queue) doing the same job, 2 at a time, when ``node`` and ``npm``
  are present (``benchmarks/kue/``, installed with ``npm install`` on first use), else
  skipped with the reason;
- ``--growth``: the workbook's path on 1, 2 and 4 workers, and ``--sizes`` jobs (enqueued in
  one pipeline, then run on 2 workers): seconds, jobs/s and memory per job. 100,000 jobs take
  about a quarter of an hour on 2 cores.

``--json`` prints one JSON object as the last line: ``workbook_jobs_per_s``,
``no_events_jobs_per_s``, ``event_overhead``, ``event_overhead_cpu`` (each round's two in
``event_overhead_by_round``),
``rq_worker_jobs_per_s``, ``workbook_vs_rq_worker``, ``batched_notifications_per_s``,
``kue_jobs_per_s`` (null without node; ``kue_reason`` says why), ``batched_vs_kue`` and more.
The default run takes about three minutes on 2 cores (under five when the machine is busy).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import tempfile
import time
from importlib.metadata import version
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

BATCHES = (1, 10, 100, 1000)


def _own_server() -> bool:
    """Use ``REDIS_URL``, or point the workbook at a fresh server of its own."""
    if os.environ.get("REDIS_URL"):
        return False
    os.environ["WORKBOOK_HOME"] = tempfile.mkdtemp(prefix="workbook-bench-")
    from helpers.core.server import free_port

    os.environ["WORKBOOK_REDIS_PORT"] = str(free_port())
    return True


def machine(connection) -> dict:
    """Where the figures were measured."""
    info = connection.info("server")
    server = f"Valkey {info['valkey_version']}" if "valkey_version" in info else "Redis"
    return {
        "cpus": os.cpu_count(),
        "machine": platform.machine(),
        "system": platform.platform(terse=True),
        "python": platform.python_version(),
        "redis_server": f"{server} (redis_version {info['redis_version']})",
        "rq": version("rq"),
        "redis_py": version("redis"),
        "date": time.strftime("%Y-%m-%d"),
    }


def _say(line: str) -> None:
    print(line, flush=True)


def _paths(connection, url: str, jobs: int, rounds: int) -> tuple[dict, list[tuple]]:
    """The workbook's path against plain RQ, the best of ``rounds`` each; and the overheads.

    Each round runs the workbook's path and the same workers without events back to back
    (in turn first): the events' overheads of that round are the ratios of the two times,
    wall and CPU.
    """
    from helpers import throughput as t

    best: dict = {}
    overheads = []
    measures = {
        "workbook": lambda: t.measure_workbook(connection, jobs),
        "no_events": lambda: t.measure_workbook(connection, jobs, events=False),
        "rq_worker": lambda: t.measure_rq(connection, url, jobs, "Worker"),
    }
    for round_ in range(rounds):
        pair = ["workbook", "no_events"] if round_ % 2 == 0 else ["no_events", "workbook"]
        took = {}
        for name in [*pair, "rq_worker"]:
            got = took[name] = measures[name]()
            cpu = f", {got.cpu_ms_per_job:.1f} ms of CPU per job" if got.cpu_ms else ""
            _say(f"  {got}{cpu}")
            if name not in best or got.jobs_per_s > best[name].jobs_per_s:
                best[name] = got
        events, plain = took["workbook"], took["no_events"]
        overheads.append((events.seconds / plain.seconds - 1, events.cpu_ms / plain.cpu_ms - 1))
    for name, kind in (("simple_worker", "SimpleWorker"), ("worker_pool", "worker-pool")):
        best[name] = t.measure_rq(connection, url, jobs, kind)
        _say(f"  {best[name]}")
    return best, overheads


def _batches(connection, jobs: int) -> dict:
    from helpers import throughput as t

    runs = t.measure_batched(connection, {batch: max(20, jobs // batch) for batch in BATCHES})
    for run in runs.values():
        _say(f"  {run}")
    return runs


def _growth(connection, jobs: int, sizes: list[int]) -> dict:
    """The workbook's path on 1, 2 and 4 workers; then ``sizes`` jobs, memory and time."""
    from helpers import throughput as t

    by_workers = {}
    for workers in (1, 2, 4):
        run = t.measure_workbook(connection, jobs, workers)
        by_workers[workers] = round(run.jobs_per_s, 1)
        _say(f"  {run}")
    by_size = {}
    for size in sizes:
        memory = t.memory_per_job(connection, size)
        run = t.measure_workbook(connection, size)
        by_size[size] = {
            "seconds": round(run.seconds, 1),
            "jobs_per_s": round(run.jobs_per_s, 1),
            "bytes_per_queued_job": round(memory),
        }
        _say(f"  {run}; {memory:,.0f} bytes of Redis memory per queued job")
    return {"jobs_per_s_by_workers": by_workers, "by_jobs": by_size}


def _kue(connection, jobs: int, skip: bool):
    from helpers import throughput as t

    if skip:
        return None, "skipped (--no-kue)"
    run, reason = t.measure_kue(connection, jobs)
    _say(f"  {run}" if run else f"  Kue: not measured: {reason}")
    return run, reason


def measure(args: argparse.Namespace) -> dict:
    """Run every measure the arguments ask for; return the figures."""
    from helpers import throughput as t
    from helpers.core import server

    connection = server.raw_connection()
    url = server.redis_url()
    figures: dict = {"machine": machine(connection), "jobs": args.jobs}
    _say(f"{args.jobs} jobs per run on {figures['machine']}")
    _say("Paths (2 workers):")
    paths, overheads = _paths(connection, url, args.jobs, args.rounds)
    for name, run in paths.items():
        figures[f"{name}_jobs_per_s"] = round(run.jobs_per_s, 1)
        figures.setdefault("commands_per_job", {})[name] = round(run.commands_per_job, 1)
        figures.setdefault("redis_ms_per_job", {})[name] = round(run.redis_ms_per_job, 3)
    workbook = paths["workbook"]
    figures["workbook_vs_rq_worker"] = round(workbook.jobs_per_s / paths["rq_worker"].jobs_per_s, 3)
    figures["event_overhead"] = round(statistics.median(wall for wall, _ in overheads), 3)
    figures["event_overhead_cpu"] = round(statistics.median(cpu for _, cpu in overheads), 3)
    figures["event_overhead_by_round"] = [[round(w, 3), round(c, 3)] for w, c in overheads]
    _say("Enqueueing:")
    for run in t.measure_enqueue(connection, args.jobs):
        _say(f"  {run}")
        key = "enqueue_many" if run.path == "enqueue_many" else "enqueue_one_by_one"
        figures[f"{key}_per_s"] = round(run.jobs_per_s, 1)
    figures["bytes_per_queued_job"] = round(t.memory_per_job(connection, args.jobs))
    figures.update({k: round(v) for k, v in t.redis_ceiling(connection).items()})
    _say(f"  Redis: {figures['round_trips_per_s']:,} round trips/s, "
         f"{figures['pipelined_commands_per_s']:,} pipelined commands/s; "
         f"{figures['bytes_per_queued_job']:,} bytes per queued job")
    _say("Batches (one job, K notifications, 2 workers):")
    batches = _batches(connection, args.jobs)
    figures["batched"] = {k: round(r.notifications_per_s, 1) for k, r in batches.items()}
    figures["batched_notifications_per_s"] = max(figures["batched"].values())
    _say("Kue:")
    kue, figures["kue_reason"] = _kue(connection, args.jobs, args.no_kue)
    figures["kue_jobs_per_s"] = round(kue.jobs_per_s, 1) if kue else None
    figures["kue_commands_per_job"] = round(kue.commands_per_job, 1) if kue else None
    figures["batched_vs_kue"] = (
        round(figures["batched_notifications_per_s"] / kue.jobs_per_s, 1) if kue else None
    )
    if args.growth:
        _say("Growth:")
        figures["growth"] = _growth(connection, args.jobs, args.sizes)
    return figures


def main(argv: list[str]) -> int:
    """Measure, print the figures, and the JSON object last if asked."""
    parser = argparse.ArgumentParser(prog="bench_throughput.py")
    parser.add_argument("--jobs", type=int, default=1000, help="jobs per run (default 1000)")
    parser.add_argument("--rounds", type=int, default=5, help="rounds of the main paths")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON last")
    parser.add_argument("--no-kue", action="store_true", help="do not run Kue")
    parser.add_argument("--growth", action="store_true", help="workers 1, 2, 4 and --sizes")
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 10_000, 100_000])
    args = parser.parse_args(argv)
    own_server = _own_server()
    from helpers.core import server

    started = time.monotonic()
    try:
        figures = measure(args)
    finally:
        if own_server:
            server.stop()
    figures["benchmark_seconds"] = round(time.monotonic() - started, 1)
    _say(f"workbook / plain RQ Worker: {figures['workbook_vs_rq_worker']:.2f}; events add "
         f"{figures['event_overhead']:.0%} to the per-job time "
         f"({figures['event_overhead_cpu']:.0%} to its CPU); "
         f"batched notifications / Kue's jobs: {figures['batched_vs_kue']}; "
         f"{figures['benchmark_seconds']:.0f} s in all")
    if args.json:
        print(json.dumps(figures))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
