"""Load benchmark of the two web apps: requests per second, and how many items were oversold.

    .venv/bin/python benchmarks/bench_web.py [--clients 50] [--requests 2000] [--seats 500]

Each app runs as the learner runs it, ``python -m helpers task 12|13 --port <free>``, a real
process on a real Redis (``REDIS_URL`` if set, else a fresh workbook server of its own,
stopped at the end). N client threads, each on its own keep-alive HTTP connection, send the
requests; the script prints one row per run:

- ``/reserve_product/2`` on the atomic app and on the original's naive read-then-write
  (``--naive``): requests per second, reservations confirmed, oversold = confirmed beyond the
  10 in stock, and whether Redis's counter agrees with the answers;
- ``/reserve_seat`` (``--seats`` requests at once), then ``/process`` with W workers: requests
  per second, jobs per second, seats sold beyond 50 and the final count (never below 0).
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


class App:
    """``python -m helpers task N --port P ...`` as a process, with the lines it prints."""

    def __init__(self, task: int, *args: str) -> None:
        from helpers.core.server import free_port

        self.port = free_port()
        self.lines: list[str] = []
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-u",
                "-m",
                "helpers",
                "task",
                str(task),
                "--port",
                str(self.port),
                *args,
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            cwd=ROOT,
        )
        started = threading.Event()

        def read() -> None:
            for raw in self.process.stdout:
                self.lines.append(raw.rstrip("\n"))
                started.set()
            started.set()

        threading.Thread(target=read, daemon=True).start()
        if not started.wait(30) or self.process.poll() is not None:
            raise SystemExit(f"task {task} did not start: {self.lines}")

    def get(self, path: str) -> tuple[int, dict]:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
        try:
            conn.request("GET", path)
            response = conn.getresponse()
            return response.status, json.loads(response.read())
        finally:
            conn.close()

    def stop(self) -> None:
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def load(port: int, path: str, requests: int, clients: int) -> tuple[float, list[dict]]:
    """Send ``requests`` GETs from ``clients`` keep-alive connections; return (seconds, bodies)."""
    bodies: list[dict] = []
    lock = threading.Lock()
    counts = [requests // clients + (i < requests % clients) for i in range(clients)]
    start = threading.Barrier(clients + 1)

    def client(n: int) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        mine = []
        start.wait()
        for _ in range(n):
            try:
                conn.request("GET", path)
                mine.append(json.loads(conn.getresponse().read()))
            except (OSError, http.client.HTTPException):
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
                conn.request("GET", path)
                mine.append(json.loads(conn.getresponse().read()))
        conn.close()
        with lock:
            bodies.extend(mine)

    threads = [threading.Thread(target=client, args=(n,)) for n in counts]
    for thread in threads:
        thread.start()
    start.wait()
    began = time.perf_counter()
    for thread in threads:
        thread.join()
    return time.perf_counter() - began, bodies


def bench_stock(r, requests: int, clients: int, naive: bool) -> dict:
    """One run against ``/reserve_product/2`` (10 in stock)."""
    app = App(12, *(["--naive"] if naive else []))
    try:
        seconds, bodies = load(app.port, "/reserve_product/2", requests, clients)
        confirmed = sum(b["status"] == "Reservation confirmed" for b in bodies)
        stored = int(r.get("item.2") or 0)
        quantity = app.get("/list_products/2")[1]["currentQuantity"]
    finally:
        app.stop()
    return {
        "run": f"/reserve_product/2 ({'naive' if naive else 'atomic'})",
        "requests": len(bodies),
        "clients": clients,
        "seconds": seconds,
        "rps": len(bodies) / seconds,
        "confirmed": confirmed,
        "oversold": max(0, confirmed - 10),
        "redis_agrees": stored == confirmed,
        "currentQuantity": quantity,
    }


def bench_seats(requests: int, clients: int, workers: int) -> dict:
    """``requests`` reservations at once, then ``/process`` with ``workers`` workers."""
    app = App(13, "--workers", str(workers))
    try:
        seconds, bodies = load(app.port, "/reserve_seat", requests, clients)
        queued = sum(b["status"] == "Reservation in process" for b in bodies)
        began = time.perf_counter()
        app.get("/process")

        def outcomes() -> tuple[int, int]:
            done = [x for x in app.lines if x.startswith("Seat reservation job ")]
            completed = sum(x.endswith(" completed") for x in done)
            return completed, len(done) - completed

        seen, last_change = 0, time.monotonic()
        while sum(outcomes()) < queued and time.monotonic() - last_change < 15:
            if sum(outcomes()) != seen:
                seen, last_change = sum(outcomes()), time.monotonic()
            time.sleep(0.02)
        processing = time.perf_counter() - began
        completed, failed = outcomes()
        left = app.get("/available_seats")[1]["numberOfAvailableSeats"]
    finally:
        app.stop()
    return {
        "run": f"/reserve_seat + /process ({workers} workers)",
        "requests": len(bodies),
        "clients": clients,
        "seconds": seconds,
        "rps": len(bodies) / seconds,
        "queued": queued,
        "completed": completed,
        "failed": failed,
        "jobs_per_second": (completed + failed) / processing,
        "oversold": max(0, completed - 50),
        "available_seats": left,
    }


def main(argv: list[str]) -> int:
    """Run the benchmark and print one row per run."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=50, help="concurrent clients")
    parser.add_argument("--requests", type=int, default=2000, help="stock requests per run")
    parser.add_argument("--seats", type=int, default=500, help="seat reservations sent")
    parser.add_argument("--workers", type=int, default=2, help="seat workers")
    parser.add_argument("--json", action="store_true", help="print the rows as JSON")
    args = parser.parse_args(argv)

    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    own_server = not os.environ.get("REDIS_URL")
    if own_server:
        os.environ["WORKBOOK_HOME"] = tempfile.mkdtemp(prefix="workbook-bench-")
    import redis

    from helpers.core import server

    try:
        r = redis.Redis.from_url(server.redis_url(), decode_responses=True)
        rows = [
            bench_stock(r, args.requests, args.clients, naive=False),
            bench_stock(r, args.requests, args.clients, naive=True),
            bench_seats(args.seats, args.clients, args.workers),
        ]
        r.close()
    finally:
        if own_server:
            server.stop()
    if args.json:
        print(json.dumps(rows, indent=2))
        return 0
    print(
        f"{server.describe() if not own_server else 'own workbook server'}; "
        f"{args.clients} clients, {os.cpu_count()} CPUs"
    )
    for row in rows:
        extra = (
            f"confirmed {row['confirmed']:>4}, oversold {row['oversold']:>4}, "
            f"Redis agrees: {row['redis_agrees']}, currentQuantity {row['currentQuantity']}"
            if "confirmed" in row
            else f"queued {row['queued']}, completed {row['completed']}, failed {row['failed']}, "
            f"{row['jobs_per_second']:.0f} jobs/s, oversold {row['oversold']}, "
            f"seats left {row['available_seats']}"
        )
        print(
            f"{row['run']:<40} {row['requests']:>5} req in {row['seconds']:6.2f} s = "
            f"{row['rps']:6.0f} req/s; {extra}"
        )
    oversold_atomic = rows[0]["oversold"] + rows[2]["oversold"]
    return 0 if oversold_atomic == 0 else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
