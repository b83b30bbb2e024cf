"""Task 0 helpers: redis-cli or its twin, the snapshot, and notebook 00 under REDIS_URL."""

from __future__ import annotations

import shutil
import subprocess
import sys

import pytest
from nbtools import NOTEBOOKS_DIR, cell_texts, run_with_papermill

from helpers import install
from helpers.core import server


def test_redis_cli_prints_command_and_reply(capsys, r):
    install.redis_cli(server.redis_url(), "SET", "Holberton", "School")
    install.redis_cli(server.redis_url(), "GET", "Holberton")
    install.redis_cli(server.redis_url(), "GET", "no-such-key")
    install.redis_cli(server.redis_url(), "PING")
    assert capsys.readouterr().out.splitlines() == [
        "$ redis-cli SET Holberton School",
        "OK",
        "$ redis-cli GET Holberton",
        '"School"',
        "$ redis-cli GET no-such-key",
        "(nil)",
        "$ redis-cli PING",
        "PONG",
    ]


@pytest.mark.skipif(not shutil.which("redis-cli"), reason="no redis-cli on PATH to compare with")
def test_python_twin_prints_what_redis_cli_prints(capsys, monkeypatch, r):
    r.delete("counter")
    commands = [
        ("PING",),
        ("SET", "Holberton", "School"),
        ("GET", "Holberton"),
        ("INCR", "counter"),
        ("GET", "missing"),
        ("HSET", "h", "a", "1"),
        ("HGETALL", "h"),
    ]
    for args in commands:
        install.redis_cli(server.redis_url(), *args)
    real = capsys.readouterr().out
    r.delete("counter", "h")
    monkeypatch.setattr(install.shutil, "which", lambda name: None)
    for args in commands:
        install.redis_cli(server.redis_url(), *args)
    assert capsys.readouterr().out == real
    r.delete("counter", "h")


def test_show_snapshot_after_save(capsys, r):
    r.set("Holberton", "School")
    r.save()
    install.show_snapshot(r)
    out = capsys.readouterr().out
    assert "dump.rdb is in" in out and "It stores Holberton = School: True" in out


def test_snapshot_holds_the_key_with_its_value_only(r, tmp_path):
    r.set("Holberton", "School")
    r.set("HolbertonSchool", "Other")
    r.save()
    path = install.snapshot_file(r)
    assert install.snapshot_holds(path, "Holberton", "School")
    assert not install.snapshot_holds(path, "Holberton", "Python")
    assert not install.snapshot_holds(path, "Holbert", "School")
    assert not install.snapshot_holds(tmp_path / "missing.rdb", "Holberton", "School")


def test_task_0_command_prints_the_session():
    done = subprocess.run(
        [sys.executable, "-m", "helpers", "task", "0"], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0
    assert "$ redis-cli PING\nPONG\n" in done.stdout
    assert '$ redis-cli GET Holberton\n"School"\n' in done.stdout


@pytest.mark.notebook
def test_notebook_00_uses_redis_url_and_starts_nothing(monkeypatch, tmp_path):
    monkeypatch.setenv("REDIS_URL", server.redis_url())
    monkeypatch.setenv("WORKBOOK_HOME", str(tmp_path / "unused"))
    nb = run_with_papermill(NOTEBOOKS_DIR / "00-install-redis.ipynb", "redis-url")
    text = "".join(cell_texts(nb))
    assert "(REDIS_URL, started nothing)" in text
    assert "the workbook does not stop a server it did not start" in text
    assert "✅ Right: save_key stores the key, writes dump.rdb" in text
    assert "dump.rdb holds Workbook = Python" in text
    assert not (tmp_path / "unused" / "redis").exists()
