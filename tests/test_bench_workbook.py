"""The whole-workbook benchmark (benchmarks/bench_workbook.py) runs and prints its figures."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
from nbtools import NOTEBOOKS_DIR, ROOT

pytestmark = [pytest.mark.notebook, pytest.mark.slow]


def test_the_benchmark_times_each_notebook_and_prints_json_last(tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in ("REDIS_URL", "WORKBOOK_REDIS_PORT")}
    command = [
        sys.executable,
        str(ROOT / "benchmarks" / "bench_workbook.py"),
        "--fast",
        "--json",
        "--cells",
        "3",
        str(NOTEBOOKS_DIR / "03-hashes.ipynb"),
    ]
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    lines = done.stdout.strip().splitlines()
    figures = json.loads(lines[-1])
    assert list(figures["notebooks"]) == ["03-hashes"] and figures["total_s"] > 0
    assert len(figures["slowest_cells"]) == 3 and "cores" in figures["machine"]
    assert any(line.startswith("whole workbook (1 notebooks, FAST parameters): ") for line in lines)
