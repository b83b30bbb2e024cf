"""A class on one machine: N learners at once, each a Unix user with a workbook of their own.

    sudo .venv/bin/python benchmarks/bench_class.py [--learners 10] [--notebooks 05 06]

Needs root: it creates one Unix user per learner (``useradd``) and removes them at the end
(``userdel --remove``). Each learner gets a home of their own (mode 0700) under a temporary
folder, a ``WORKBOOK_HOME`` in it, a copy of the notebooks there (``%%writefile my_jobs.py``
writes beside the notebook), and their own workbook Redis, started as they start it
(``python -m helpers redis start``, one learner after the other, as people open their first
notebook). Each learner then runs the notebooks top to bottom with papermill, the workbook's
``.venv`` Python and ``FAST = True``, as that user.

It runs one learner alone first (the solo time), then all N at the same instant, and prints:

- for each learner, each notebook's wall time and CPU time, the total against the solo run,
  and whether the run passed (every cell ran, no error output, and every line of
  ``tests/expected/<notebook>.txt`` printed);
- memory per learner: the peak VmRSS (``/proc/<pid>/status``, sampled every 0.25 s) of the
  learner's Redis, kernel, workers (the worker processes and the work horses they fork),
  commands (``python -m helpers task …`` run from a cell) and papermill (which stands for
  the learner's JupyterLab server), the peak of their sum, and the peak PSS
  (``/proc/<pid>/smaps_rollup``: shared pages split between the processes that share them,
  so PSS figures add up across learners where RSS figures overcount);
- how much the machine's used memory rose at the peak (``MemAvailable``);
- the RSS of one idle JupyterLab server (started as a learner, page served once), which a
  real class adds per learner in place of papermill;
- whether a second learner can PING the first learner's Redis without their credentials.

How the learners reach the workbook: they run ``<clone>/.venv/bin/python``, which points at
an interpreter that may live under ``/root`` (pyenv), and the editable install imports
``helpers`` from the clone. Home folders such as ``/root`` are often mode 0700, so another
user cannot even reach the interpreter. For the run, the benchmark adds the search bit for
others (``o+x``, not ``o+r``: a learner can open a path they know, not list the folder) to
every directory from ``/`` down to the clone and down to the real interpreter and its
standard library, and puts each mode back as it was at the end (in ``finally``: also on
Ctrl+C or SIGTERM; the modes it changes are printed first, so that a SIGKILL can be undone
by hand). Everything inside the clone and the interpreter must already be readable by
others (the usual umask 022); a preflight run as the first learner imports the workbook and
stops with the error if not. Nothing is copied, and no learner can write to the clone.

Clean-up, in ``finally``: each learner's ``python -m helpers stop``, then every process left
under a learner's uid (all started by this run: SIGTERM, then SIGKILL), then ``userdel
--remove`` and the group, then the temporary folder, then the directory modes.
"""

from __future__ import annotations

import argparse
import contextlib
import grp
import http.client
import os
import pwd
import secrets
import shutil
import signal
import stat
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
PYTHON = ROOT / ".venv" / "bin" / "python"
NOTEBOOKS_DIR = ROOT / "notebooks"
EXPECTED_DIR = ROOT / "tests" / "expected"
SAMPLE_EVERY = 0.25  # seconds between two memory samples
MB = 1024 * 1024
sys.path.insert(0, str(ROOT))
CATEGORIES = ("redis", "kernel", "workers", "commands", "papermill", "other")


@dataclass
class Run:
    """One notebook run by one learner: times, and the verdict."""

    notebook: str
    seconds: float = 0.0
    cpu_seconds: float = 0.0
    problem: str | None = "did not run"


@dataclass
class Learner:
    """A Unix user with a home, a workbook home and copies of the notebooks."""

    name: str
    uid: int
    gid: int
    home: Path
    runs: dict[str, list[Run]] = field(default_factory=dict)

    @property
    def env(self) -> dict[str, str]:
        """The learner's environment: their home, their workbook, the workbook's Python."""
        return {
            "HOME": str(self.home),
            "USER": self.name,
            "LOGNAME": self.name,
            "PATH": f"{PYTHON.parent}:/usr/local/bin:/usr/bin:/bin",
            "LANG": "C.UTF-8",
            "WORKBOOK_HOME": str(self.home / ".workbook"),
        }

    def run(self, args: list[str], timeout: float = 120, **kwargs) -> subprocess.CompletedProcess:
        """Run ``args`` as this learner, in their home, and wait for it."""
        return subprocess.run(
            args,
            user=self.uid,
            group=self.gid,
            extra_groups=[],
            env=self.env,
            cwd=self.home,
            capture_output=True,
            text=True,
            timeout=timeout,
            **kwargs,
        )


# Reaching the clone and the interpreter: o+x on the directories on the way, put back after.


def _dirs_on_the_way(targets: list[Path]) -> list[Path]:
    """Every directory from ``/`` down to each target (the target included), once each."""
    seen: list[Path] = []
    for target in targets:
        for folder in [*reversed(target.parents), target]:
            if folder.is_dir() and folder not in seen:
                seen.append(folder)
    return seen


class PathAccess:
    """Adds ``o+x`` to the directories on the way to the clone and the interpreter; undoes it."""

    def __init__(self) -> None:
        interpreter = PYTHON.resolve()
        stdlib = Path(os.__file__).resolve().parent
        self.targets = [ROOT, PYTHON.parent, interpreter.parent, stdlib]
        self.changed: list[tuple[Path, int]] = []

    def grant(self) -> None:
        """Add the search bit for others where it is missing; remember the old mode."""
        for folder in _dirs_on_the_way(self.targets):
            mode = stat.S_IMODE(folder.stat().st_mode)
            if not mode & stat.S_IXOTH:
                print(f"granting o+x on {folder} (mode {mode:04o}) for the run")
                self.changed.append((folder, mode))
                folder.chmod(mode | stat.S_IXOTH)

    def restore(self) -> None:
        """Put every changed mode back, deepest first."""
        for folder, mode in reversed(self.changed):
            with contextlib.suppress(OSError):
                folder.chmod(mode)
                print(f"restored {folder} to mode {mode:04o}")
        self.changed.clear()


# Learners: created, started, removed.


def create_learner(name: str, base: Path, notebooks: list[Path]) -> Learner:
    """``useradd`` a learner with a 0700 home under ``base`` and copies of ``notebooks``."""
    home = base / name
    subprocess.run(
        ["useradd", "--create-home", "--home-dir", str(home), "--shell", "/usr/sbin/nologin",
         "--user-group", "--comment", "bench_class learner", name],
        check=True, capture_output=True, text=True,
    )  # fmt: skip
    entry = pwd.getpwnam(name)
    learner = Learner(name, entry.pw_uid, entry.pw_gid, home)
    try:
        home.chmod(0o700)
        for folder in (home / "notebooks", home / "out", home / ".workbook"):
            folder.mkdir(mode=0o700, exist_ok=True)
        for notebook in notebooks:
            shutil.copy(notebook, home / "notebooks" / notebook.name)
        for path in [home, *home.rglob("*")]:
            os.chown(path, learner.uid, learner.gid, follow_symlinks=False)
    except BaseException:
        remove_learner(learner)  # created, but not handed back: remove it here
        raise
    return learner


def preflight(learner: Learner) -> None:
    """As the learner: import the workbook and papermill, or stop with the reason."""
    done = learner.run([str(PYTHON), "-c", "import helpers, papermill, ipykernel, rq"])
    if done.returncode != 0:
        last = (done.stderr.strip().splitlines() or ["?"])[-1]
        raise SystemExit(
            f"{learner.name} cannot import the workbook ({last}): the clone and the "
            f"interpreter must be readable by others (chmod -R o+rX on the folder named)."
        )


def start_redis(learner: Learner) -> None:
    """As the learner: ``python -m helpers redis start``, as their first notebook does."""
    done = learner.run([str(PYTHON), "-m", "helpers", "redis", "start"], timeout=60)
    if done.returncode != 0:
        raise SystemExit(f"{learner.name}'s Redis did not start: {done.stderr.strip()}")


def _uid_of(pid: str) -> int | None:
    """The real uid of process ``pid``, or None if it is gone."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("Uid:"):
                return int(line.split()[1])
    except (OSError, ValueError):
        return None
    return None


def pids_of(uid: int) -> list[int]:
    """The processes running under ``uid``."""
    return [int(p) for p in os.listdir("/proc") if p.isdigit() and _uid_of(p) == uid]


def kill_everything_of(uid: int, grace: float = 5.0) -> int:
    """SIGTERM every process of ``uid``, then SIGKILL what is left; how many there were."""
    found = pids_of(uid)
    for sig in (signal.SIGTERM, signal.SIGKILL):
        for pid in pids_of(uid):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, sig)
        deadline = time.monotonic() + grace
        while pids_of(uid) and time.monotonic() < deadline:
            time.sleep(0.1)
    return len(found)


def remove_learner(learner: Learner) -> str | None:
    """Stop the learner's workbook, their processes, then the user and group; a problem or None."""
    with contextlib.suppress(subprocess.TimeoutExpired, OSError):
        learner.run([str(PYTHON), "-m", "helpers", "stop"], timeout=60)
    kill_everything_of(learner.uid)
    done = subprocess.run(
        ["userdel", "--remove", learner.name], capture_output=True, text=True, check=False
    )
    with contextlib.suppress(KeyError):
        grp.getgrnam(learner.name)
        subprocess.run(["groupdel", learner.name], capture_output=True, check=False)
    try:
        pwd.getpwnam(learner.name)
    except KeyError:
        return None
    return f"userdel {learner.name} failed: {done.stderr.strip()}"


# One notebook run, and its verdict.


def judge(out: Path, notebook: Path) -> str | None:
    """Why the run in ``out`` did not pass, or None: every cell ran, no error, lines printed."""
    import nbformat

    try:
        nb = nbformat.read(out, as_version=4)
    except (OSError, ValueError) as exc:
        return f"no output notebook ({type(exc).__name__})"
    text = []
    for cell in (c for c in nb.cells if c.cell_type == "code"):
        if cell.execution_count is None:
            return "a cell did not run"
        for output in cell.get("outputs", []):
            if output.output_type == "error":
                return f"{output.ename}: {output.evalue}"
            text.append(output.get("text", "") or output.get("data", {}).get("text/plain", ""))
    printed = "\n".join(text)
    expected = EXPECTED_DIR / f"{notebook.stem}.txt"
    lines = expected.read_text().splitlines() if expected.exists() else []
    missing = [line for line in lines if line.strip() and line not in printed]
    return f"did not print {missing[0]!r}" if missing else None


def run_notebook(learner: Learner, notebook: Path, label: str, timeout: float) -> Run:
    """Run ``notebook`` top to bottom as the learner with papermill and ``FAST = True``."""
    out = learner.home / "out" / f"{notebook.stem}.{label}.ipynb"
    command = [
        str(PYTHON), "-m", "papermill", str(learner.home / "notebooks" / notebook.name),
        str(out), "-p", "FAST", "True", "-k", "python3", "--cwd", str(learner.home / "notebooks"),
        "--no-progress-bar", "--start-timeout", "120",
    ]  # fmt: skip
    run, log = Run(notebook.stem[:2]), out.with_suffix(".log")
    began = time.perf_counter()
    with log.open("w") as stderr:
        process = subprocess.Popen(
            command, user=learner.uid, group=learner.gid, extra_groups=[], env=learner.env,
            cwd=learner.home, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
            stderr=stderr, start_new_session=True,
        )  # fmt: skip
    timer = threading.Timer(timeout, _kill_group, args=(process.pid,))
    timer.start()
    try:
        _, status, usage = os.wait4(process.pid, 0)  # the CPU of the kernel and workers too
        process.returncode = os.waitstatus_to_exitcode(status)
    finally:
        timer.cancel()
    run.seconds = time.perf_counter() - began
    run.cpu_seconds = usage.ru_utime + usage.ru_stime
    run.problem = judge(out, notebook)
    if run.problem is None and process.returncode != 0:
        tail = log.read_text(errors="replace").strip().splitlines()[-1:] or [""]
        run.problem = f"papermill exited {process.returncode}: {tail[0][:200]}"
    return run


def _kill_group(pid: int) -> None:
    """Kill the process group of a run that went over its time."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pid, signal.SIGKILL)


def run_learner(learner: Learner, notebooks: list[Path], label: str, timeout: float) -> None:
    """Run every notebook, in order, as the learner; keep the runs under ``label``."""
    learner.runs[label] = [run_notebook(learner, nb, label, timeout) for nb in notebooks]


def run_together(learners: list[Learner], notebooks: list[Path], label: str, timeout: float):
    """Run every learner's notebooks at the same instant, one thread per learner."""
    start = threading.Barrier(len(learners))

    def go(learner: Learner) -> None:
        start.wait()
        run_learner(learner, notebooks, label, timeout)

    threads = [threading.Thread(target=go, args=(learner,)) for learner in learners]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()


# Memory: every process of every learner, sampled.


def _category(cmdline: list[str], name: str) -> str:
    """Which part of a learner's workbook a process is, from its command line."""
    line = " ".join(cmdline)
    if name in ("redis-server", "valkey-server") or "redis-server" in line or "valkey" in line:
        return "redis"
    if "ipykernel_launcher" in line:
        return "kernel"
    if "helpers worker" in line or line.startswith("rq:"):
        return "workers"
    if "helpers task" in line:
        return "commands"
    if "papermill" in line:
        return "papermill"
    return "other"


def _memory_of(pid: int) -> tuple[str, int, int] | None:
    """(category, VmRSS bytes, Pss bytes) of ``pid``, or None if it is gone."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace")
        rollup = Path(f"/proc/{pid}/smaps_rollup").read_text()
    except OSError:
        return None
    fields = dict(line.split(":", 1) for line in status.splitlines() if ":" in line)
    rss = int(fields.get("VmRSS", "0 kB").split()[0]) * 1024
    pss = next((int(x.split()[1]) * 1024 for x in rollup.splitlines() if x.startswith("Pss:")), 0)
    return _category(cmdline.split("\0"), fields.get("Name", "").strip()), rss, pss


def mem_available() -> int:
    """``MemAvailable`` of ``/proc/meminfo``, in bytes."""
    for line in Path("/proc/meminfo").read_text().splitlines():
        if line.startswith("MemAvailable:"):
            return int(line.split()[1]) * 1024
    return 0


class Sampler(threading.Thread):
    """Samples the memory of every learner's processes until stopped; keeps the peaks."""

    def __init__(self, learners: list[Learner]) -> None:
        super().__init__(daemon=True, name="sampler")
        self.uids = {learner.uid: learner.name for learner in learners}
        self.peaks: dict[str, dict[str, int]] = {name: {} for name in self.uids.values()}
        self.lowest_available = mem_available()
        self._done = threading.Event()

    def sample(self) -> None:
        """One pass over /proc: per learner, the sum by category, and the peaks so far."""
        sums = {name: dict.fromkeys([*CATEGORIES, "total", "pss"], 0) for name in self.peaks}
        for entry in os.listdir("/proc"):
            uid = _uid_of(entry) if entry.isdigit() else None
            memory = _memory_of(int(entry)) if uid in self.uids else None
            if memory is not None:
                category, rss, pss = memory
                mine = sums[self.uids[uid]]
                mine[category] += rss
                mine["total"] += rss
                mine["pss"] += pss
        for name, now in sums.items():
            peaks = self.peaks[name]
            for key, value in now.items():
                peaks[key] = max(peaks.get(key, 0), value)
        self.lowest_available = min(self.lowest_available, mem_available())

    def run(self) -> None:
        while not self._done.wait(SAMPLE_EVERY):
            self.sample()

    def stop(self) -> None:
        self._done.set()
        self.join()


# Two probes: can one learner reach another's Redis; what does a JupyterLab server weigh.

PING = """import sys, redis
try:
    print("PONG" if redis.Redis.from_url(sys.argv[1], socket_timeout=3).ping() else "no reply")
except Exception as exc:
    print(f"{type(exc).__name__}: {exc}")"""


def _without_credentials(url: str) -> tuple[str, str]:
    """``url`` with its user and password removed; and what it carried ("a password", …)."""
    parts = urlsplit(url)
    carried = "a password" if parts.password or "password=" in parts.query else "no password"
    if parts.scheme == "unix":
        carried += ", a Unix socket"
    host = parts.netloc.rpartition("@")[2]
    query = "&".join(q for q in parts.query.split("&") if q and not q.startswith("password="))
    return urlunsplit((parts.scheme, host, parts.path, query, parts.fragment)), carried


def isolation(first: Learner, second: Learner) -> str:
    """One sentence: what the second learner gets from the first's Redis without credentials."""
    done = first.run([str(PYTHON), "-m", "helpers", "redis", "url"])
    url = done.stdout.strip().splitlines()[-1] if done.returncode == 0 and done.stdout else ""
    if not url:
        return f"could not read {first.name}'s Redis URL: {done.stderr.strip()}"
    bare, carried = _without_credentials(url)
    answer = second.run([str(PYTHON), "-c", PING, bare]).stdout.strip() or "nothing"
    verdict = "NOT private" if answer == "PONG" else "private"
    return (
        f"{first.name}'s Redis URL carries {carried}; {second.name} without it gets "
        f"{answer.splitlines()[-1][:120]}: {verdict}"
    )


def _get(port: int, path: str) -> int:
    """The status of ``GET path`` on 127.0.0.1:``port``, 0 if nothing answers."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    try:
        conn.request("GET", path)
        response = conn.getresponse()
        response.read()
        return response.status
    except OSError:
        return 0
    finally:
        conn.close()


def lab_rss(learner: Learner) -> int:
    """The VmRSS of a JupyterLab server started as ``learner``, after serving its page once."""
    from helpers.core.server import free_port

    port = free_port()
    command = [
        str(PYTHON), "-m", "jupyterlab", "--no-browser", f"--port={port}",
        "--IdentityProvider.token=", f"--ServerApp.root_dir={learner.home / 'notebooks'}",
    ]  # fmt: skip
    process = subprocess.Popen(
        command, user=learner.uid, group=learner.gid, extra_groups=[], env=learner.env,
        cwd=learner.home, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL, start_new_session=True,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 60
        while _get(port, "/api/status") != 200 and time.monotonic() < deadline:
            time.sleep(0.2)
        for path in ("/lab", "/api/kernelspecs", "/lab/api/settings", "/api/contents"):
            _get(port, path)
        time.sleep(1)
        memory = _memory_of(process.pid)
        return memory[1] if memory else 0
    finally:
        _kill_group(process.pid)
        process.wait()


# The report.


def _row(name: str, runs: list[Run], peaks: dict[str, int], solo: float) -> str:
    """One learner's line: each notebook's time, the total against solo, memory, verdict."""
    total = sum(run.seconds for run in runs)
    times = "  ".join(f"{r.notebook} {r.seconds:5.1f} s ({r.cpu_seconds:4.1f} cpu)" for r in runs)
    memory = "  ".join(f"{peaks.get(c, 0) / MB:4.0f}" for c in CATEGORIES[:5])
    problems = [f"{r.notebook}: {r.problem}" for r in runs if r.problem]
    return (
        f"{name:<12} {times}  total {total:5.1f} s = {total / solo:4.2f}x solo  "
        f"{memory}  RSS {peaks.get('total', 0) / MB:5.0f}  PSS {peaks.get('pss', 0) / MB:5.0f}  "
        + ("passed" if not problems else "FAILED " + "; ".join(problems))
    )


def report(learners: list[Learner], solo: Sampler, together: Sampler, facts: dict) -> bool:
    """Print the table and the summary; True if every run passed."""
    first = learners[0]
    solo_total = sum(run.seconds for run in first.runs["solo"])
    print(
        f"\n{facts['machine']} (load {facts['solo_load']:.1f} before the solo run, "
        f"{facts['load']:.1f} before the class); notebooks {', '.join(facts['notebooks'])}, "
        "FAST = True"
    )
    print(f"redis: {facts['isolation']}")
    print(f"an idle JupyterLab server (page served once): {facts['lab'] / MB:.0f} MB RSS")
    head = "peak MB: redis kernel workers commands papermill"
    print(f"\n{'learner':<12} {'times':<60} {head}")
    print(_row("solo", first.runs["solo"], solo.peaks[first.name], solo_total))
    for learner in learners:
        print(_row(learner.name, learner.runs["class"], together.peaks[learner.name], solo_total))
    totals = [sum(r.seconds for r in learner.runs["class"]) for learner in learners]
    passed = all(not r.problem for learner in learners for r in learner.runs["class"])
    passed = passed and not any(r.problem for r in first.runs["solo"])
    rss = [together.peaks[learner.name]["total"] / MB for learner in learners]
    pss = [together.peaks[learner.name]["pss"] / MB for learner in learners]
    risen = (facts["available"] - together.lowest_available) / MB
    print(
        f"\n{len(learners)} learners at once: {'every' if passed else 'NOT every'} run passed; "
        f"wall time median {statistics.median(totals):.1f} s, max {max(totals):.1f} s "
        f"({statistics.median(totals) / solo_total:.2f}x and {max(totals) / solo_total:.2f}x "
        f"the solo {solo_total:.1f} s)"
    )
    print(
        f"memory per learner at peak: RSS median {statistics.median(rss):.0f} MB, max "
        f"{max(rss):.0f} MB; PSS median {statistics.median(pss):.0f} MB; the machine's used "
        f"memory rose by {risen:.0f} MB at the peak ({risen / len(learners):.0f} MB per learner)"
    )
    return passed


def _machine() -> str:
    """Cores and memory of this machine, in one phrase."""
    total = int(Path("/proc/meminfo").read_text().split()[1]) * 1024
    return f"{os.cpu_count()} cores, {total / 1024**3:.1f} GB"


def _notebooks(prefixes: list[str]) -> list[Path]:
    """The notebooks whose names start with the given numbers."""
    found = [next(iter(sorted(NOTEBOOKS_DIR.glob(f"{p}-*.ipynb"))), None) for p in prefixes]
    if None in found:
        raise SystemExit(f"no notebook for one of {prefixes} in {NOTEBOOKS_DIR}")
    return found  # type: ignore[return-value]


def _class(learners: list[Learner], notebooks: list[Path], timeout: float) -> bool:
    """Start each Redis, probe, run solo, run everyone at once; report; True if all passed."""
    preflight(learners[0])
    for learner in learners:
        start_redis(learner)
    facts = {
        "machine": _machine(),
        "notebooks": [nb.stem for nb in notebooks],
        "isolation": isolation(*learners[:2]) if len(learners) > 1 else "one learner only",
        "lab": lab_rss(learners[0]),
    }
    solo = Sampler(learners[:1])
    facts["solo_load"] = os.getloadavg()[0]
    solo.start()
    run_learner(learners[0], notebooks, "solo", timeout)
    solo.stop()
    facts["available"] = mem_available()
    facts["load"] = os.getloadavg()[0]
    together = Sampler(learners)
    together.start()
    run_together(learners, notebooks, "class", timeout)
    together.stop()
    return report(learners, solo, together, facts)


def main(argv: list[str]) -> int:
    """Create the learners, run the class, clean up; 0 if every run passed."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--learners", type=int, default=10, help="learners at once")
    parser.add_argument("--notebooks", nargs="+", default=["05", "06"], help="notebook numbers")
    parser.add_argument("--timeout", type=float, default=900, help="seconds per notebook run")
    args = parser.parse_args(argv)
    if os.geteuid() != 0:
        print("bench_class.py creates Unix users: run it as root (sudo .venv/bin/python …).")
        return 2
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    notebooks = _notebooks(args.notebooks)
    tag = secrets.token_hex(2)
    base = Path(tempfile.mkdtemp(prefix="bench-class-"))
    base.chmod(0o711)  # learners pass through to their own home; nobody lists it
    access, learners, passed = PathAccess(), [], False
    try:
        access.grant()
        for n in range(1, args.learners + 1):
            learners.append(create_learner(f"qs{tag}l{n:02d}", base, notebooks))
        print(f"{len(learners)} learners created: {learners[0].name} … {learners[-1].name}")
        passed = _class(learners, notebooks, args.timeout)
    finally:
        problems = [p for p in (remove_learner(learner) for learner in learners) if p]
        shutil.rmtree(base, ignore_errors=True)
        access.restore()
        left = [name for name in (x.name for x in learners) if _user_exists(name)]
        print(f"clean-up: {len(learners)} users removed, {base} deleted" if not (problems or left)
              else f"clean-up problems: {problems or left}")  # fmt: skip
    return 0 if passed else 1


def _user_exists(name: str) -> bool:
    try:
        pwd.getpwnam(name)
    except KeyError:
        return False
    return True


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
