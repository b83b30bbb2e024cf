"""How long the workbook's own Redis takes from `start()` to answering PING (target < 2 s).

.venv/bin/python benchmarks/bench_server_start.py [rounds]
"""

from __future__ import annotations

import os
import statistics
import sys
import tempfile
import time


def main(rounds: int = 10) -> None:
    """Start and stop a server in a fresh WORKBOOK_HOME ``rounds`` times; print the figures."""
    os.environ.pop("REDIS_URL", None)
    os.environ["WORKBOOK_HOME"] = tempfile.mkdtemp(prefix="bench-server-")
    from helpers.core import server

    os.environ["WORKBOOK_REDIS_PORT"] = str(server.free_port())
    times = []
    for _ in range(rounds):
        t0 = time.perf_counter()
        state = server.start()
        times.append(time.perf_counter() - t0)
        server.stop()
    print(f"server: {state.source} {state.version}")
    print(
        f"start to PING over {rounds} starts: median {statistics.median(times) * 1000:.0f} ms, "
        f"max {max(times) * 1000:.0f} ms (target < 2000 ms)"
    )


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 10)
