"""How long the whole workbook takes: every notebook in order, default parameters (target ≤ 60 s).

    .venv/bin/python benchmarks/bench_workbook.py [--fast] [--cells 10] [--json] [notebook ...]

Each notebook runs top to bottom in a fresh kernel from its own folder, as a learner's
"Restart Kernel and Run All Cells" does, on the workbook's own server in a scratch
WORKBOOK_HOME (started for the run, stopped after it), or on REDIS_URL if it is set. Nothing
is written back to the notebooks. It prints each notebook's seconds (from asking for the
kernel to its last cell's end), the total, and the slowest cells; ``--fast`` runs them with
the tests' parameters (FAST = True), as papermill does in the tests; ``--json`` prints one
JSON object as the last line (``total_s``, ``notebooks``: name → seconds, ``slowest_cells``).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path

import nbformat
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = ROOT / "notebooks"


def _with_fast(nb: nbformat.NotebookNode) -> None:
    """Set FAST = True after the parameters cell, as papermill's injected cell does."""
    for index, cell in enumerate(nb.cells):
        if "parameters" in cell.metadata.get("tags", []):
            nb.cells.insert(index + 1, nbformat.v4.new_code_cell("FAST = True"))
            return


def _cell_seconds(cell: nbformat.NotebookNode) -> float:
    """A cell's run time from nbclient's timing metadata."""
    timing = cell.metadata.get("execution", {})
    start, end = timing.get("iopub.execute_input"), timing.get("shell.execute_reply")
    if not (start and end):
        return 0.0
    parse = datetime.fromisoformat
    return (parse(end.replace("Z", "+00:00")) - parse(start.replace("Z", "+00:00"))).total_seconds()


def run(path: Path, fast: bool) -> tuple[float, list[tuple[float, str]]]:
    """Run one notebook in a fresh kernel; its seconds and its cells' (seconds, label)."""
    nb = nbformat.read(path, as_version=4)
    if fast:
        _with_fast(nb)
    client = NotebookClient(
        nb, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(path.parent)}}
    )
    started = time.perf_counter()
    client.execute()
    seconds = time.perf_counter() - started
    cells = []
    for index, cell in enumerate(nb.cells):
        if cell.cell_type == "code":
            first = cell.source.strip().splitlines()[0][:60] if cell.source.strip() else ""
            cells.append((_cell_seconds(cell), f"{path.stem} [{index}] {first}"))
    return seconds, cells


def machine() -> str:
    """One line naming this machine."""
    return (
        f"{os.cpu_count()} cores {platform.machine()}, {platform.system()} "
        f"{platform.release().split('-')[0]}, Python {platform.python_version()}"
    )


def main(argv: list[str]) -> int:
    """Run the notebooks in order; print their times."""
    parser = argparse.ArgumentParser(prog="bench_workbook.py")
    parser.add_argument("notebooks", nargs="*", help="notebook files (default: all, in order)")
    parser.add_argument("--fast", action="store_true", help="the tests' parameters (FAST)")
    parser.add_argument("--cells", type=int, default=10, help="how many slowest cells to list")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON last")
    args = parser.parse_args(argv)
    everything = sorted(NOTEBOOKS.glob("[0-9][0-9]-*.ipynb"))
    paths = [Path(p).resolve() for p in args.notebooks] or everything
    if not os.environ.get("REDIS_URL"):
        os.environ["WORKBOOK_HOME"] = tempfile.mkdtemp(prefix="bench-workbook-")
    from helpers.core import server, workers

    if not os.environ.get("REDIS_URL"):
        os.environ.setdefault("WORKBOOK_REDIS_PORT", str(server.free_port()))
    times, cells = {}, []
    try:
        for path in paths:
            if not os.environ.get("REDIS_URL"):
                server.start()
            times[path.stem], its_cells = run(path, args.fast)
            cells += its_cells
            print(f"{path.stem}: {times[path.stem]:.1f} s", flush=True)
    finally:
        workers.stop_recorded()
        if not os.environ.get("REDIS_URL"):
            server.stop()
    total = sum(times.values())
    print(
        f"whole workbook ({len(times)} notebooks, {'FAST' if args.fast else 'default'} "
        f"parameters): {total:.1f} s on {machine()}"
    )
    slowest = sorted(cells, reverse=True)[: args.cells]
    for seconds, label in slowest:
        print(f"  {seconds:5.1f} s  {label}")
    if args.json:
        print(
            json.dumps(
                {
                    "total_s": round(total, 1),
                    "machine": machine(),
                    "notebooks": {k: round(v, 1) for k, v in times.items()},
                    "slowest_cells": [[round(s, 2), label] for s, label in slowest],
                }
            )
        )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
