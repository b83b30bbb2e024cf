"""benchmarks/bench_throughput.py, as a learner or a teacher runs it: small, but every measure."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from helpers.throughput import KUE_DIR

pytestmark = pytest.mark.slow

BENCH = Path(__file__).resolve().parent.parent / "benchmarks" / "bench_throughput.py"


def test_the_benchmark_prints_its_figures_as_json_last():
    env = {k: v for k, v in os.environ.items() if not k.startswith(("WORKBOOK_", "REDIS_URL"))}
    command = [sys.executable, str(BENCH), "--jobs", "20", "--rounds", "1", "--json", "--growth"]
    command += ["--sizes", "100"]
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-2000:]
    lines = done.stdout.strip().splitlines()
    figures = json.loads(lines[-1])
    for key in ("workbook", "no_events", "rq_worker", "simple_worker", "worker_pool"):
        assert figures[f"{key}_jobs_per_s"] > 0, key
        assert figures["commands_per_job"][key] > 10, key  # RQ's dozens of commands per job
    assert figures["workbook_vs_rq_worker"] > 0 and "event_overhead" in figures
    assert set(figures["batched"]) == {"1", "10", "100", "1000"}
    assert figures["batched_notifications_per_s"] == max(figures["batched"].values())
    assert figures["enqueue_many_per_s"] > 0 and figures["enqueue_one_by_one_per_s"] > 0
    assert 500 < figures["bytes_per_queued_job"] < 10_000
    assert figures["pipelined_commands_per_s"] > figures["round_trips_per_s"] > 0
    if shutil.which("node") and shutil.which("npm"):  # measured, or npm could not install Kue
        measured = figures["kue_jobs_per_s"] is not None
        assert measured or figures["kue_reason"].startswith("npm install failed"), figures
        assert not measured or (KUE_DIR / "node_modules" / "kue").is_dir()
    else:
        assert figures["kue_jobs_per_s"] is None
        assert figures["kue_reason"] == "node and npm are not installed"
    growth = figures["growth"]
    assert set(growth["jobs_per_s_by_workers"]) == {"1", "2", "4"}
    assert growth["by_jobs"]["100"]["jobs_per_s"] > 0
    assert 500 < growth["by_jobs"]["100"]["bytes_per_queued_job"] < 10_000
    assert any(line.startswith("workbook / plain RQ Worker: ") for line in lines)
