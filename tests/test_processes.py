"""Processes by identity: a pid that now belongs to another process is never signalled."""

from __future__ import annotations

import json
import signal
import subprocess
import sys

import pytest

from helpers.core import workers
from helpers.core.processes import ProcessRecord, pid_alive, start_time


@pytest.fixture
def bystander():
    """An unrelated process, standing in for whatever got a dead worker's pid."""
    process = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    yield process
    process.kill()
    process.wait()


def test_a_record_knows_its_own_process(bystander):
    record = ProcessRecord.of(bystander.pid)
    assert record.started == start_time(bystander.pid) is not None
    assert record.is_running()


def test_a_reused_pid_is_never_signalled(bystander):
    reused = ProcessRecord(bystander.pid, start_time(bystander.pid) - 1)  # started earlier
    assert not reused.is_running()
    assert reused.signal(signal.SIGKILL) is False
    assert bystander.poll() is None and pid_alive(bystander.pid)


def test_make_stop_spares_a_process_that_reuses_a_recorded_pid(bystander, tmp_path, monkeypatch):
    monkeypatch.setenv("WORKBOOK_HOME", str(tmp_path))
    folder = workers.registry_dir()
    folder.mkdir(parents=True)
    entry = folder / "workbook-dead-worker.json"
    stale = {"pid": bystander.pid, "started": start_time(bystander.pid) - 1, "name": "dead"}
    entry.write_text(json.dumps({**stale, "queues": ["q"]}))
    assert workers.stop_recorded(timeout=1) == 0
    assert bystander.poll() is None, "the bystander was signalled"
    assert not entry.exists()


def test_make_stop_stops_a_recorded_process_that_is_still_it(bystander, tmp_path, monkeypatch):
    monkeypatch.setenv("WORKBOOK_HOME", str(tmp_path))
    folder = workers.registry_dir()
    folder.mkdir(parents=True)
    record = {"pid": bystander.pid, "started": start_time(bystander.pid), "name": "live"}
    (folder / "workbook-live.json").write_text(json.dumps({**record, "queues": ["q"]}))
    assert workers.stop_recorded(timeout=5) == 1
    assert bystander.wait(5) == -signal.SIGTERM
