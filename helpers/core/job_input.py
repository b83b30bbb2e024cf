"""Can this job be enqueued, and run by a worker? One line that says why not, and the fix.

A worker is another process. It finds a job's function by its name (``module.function``),
which it imports, and the job's arguments by unpickling what the creator pickled into Redis.
A function from a notebook cell (``__main__``), a lambda, a nested function or one whose
module the worker cannot find, and an argument that pickle refuses (a lock, an open file, a
generator) would fail there, or at ``enqueue``, with a traceback. :func:`check_job` says so
first, before anything is written; :func:`enqueueing` turns Redis's refusal when it is full
into :class:`~helpers.core.errors.RedisFull`; :func:`explain_failure` turns what a worker
stored for such a failure (a job enqueued by hand) into the same kind of sentence.
"""

from __future__ import annotations

import functools
import inspect
import io
import os
import pickle
import re
import subprocess
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import redis
from redis.exceptions import OutOfMemoryError

from helpers.core.errors import NotImportable, NotSerializable, RedisFull, RedisUnavailable
from helpers.core.outage import REDIS_DOWN, reason

PLAIN = "pass plain data instead: str, numbers, lists, dicts"
MAIN_MODULES = ("__main__", "helpers.__main__")  # a notebook's, and a worker's own
WORKER_FOLDER = "by the worker (no such file in the folder it started in, or its imports fail)"
KINDS = {
    "generator": "a generator",
    "_thread.lock": "a lock",
    "_thread.RLock": "a lock",
}


# why a worker cannot import a function or class: the reason, then the fix


def _fix(name: str | None) -> str:
    imported = f"`from my_jobs import {name}`" if name else "import it from there"
    return f"write it to a file beside the notebook with %%writefile my_jobs.py, then {imported}"


def _in_main(name: str) -> str:
    why = f"{name} is defined in a notebook cell (__main__), which no worker can import"
    return f"{why}; {_fix(name)}"


def _lambda() -> str:
    why = "it is a lambda, which has no name a worker can import"
    return f"{why}; name it (def f(...):) and {_fix('f')}"


def _nested(name: str, outer: str) -> str:
    return f"{name} is defined inside {outer}(), where no worker can reach it; {_fix(name)}"


def _not_found(module: str, name: str | None, where: str | None = None) -> str:
    where = where or f"from {os.getcwd()}, the folder workers start in"
    return f"module {module} is not importable {where}; {_fix(name)}"


def _unnamed(module: str, qualname: str) -> str | None:
    """Why no worker could import ``module.qualname`` whatever its path; None if one could."""
    name = qualname.rpartition(".")[2]
    if "<lambda>" in qualname:
        return _lambda()
    if "<locals>" in qualname:
        return _nested(name, qualname.partition(".<locals>")[0].rpartition(".")[2])
    if module in MAIN_MODULES:
        return _in_main(qualname)
    return None


def _problem(module: str, qualname: str) -> str | None:
    """Why a worker started here could not import ``module.qualname``, with the fix; or None."""
    problem = _unnamed(module, qualname)
    if problem is None and module and not _worker_finds(module.partition(".")[0]):
        problem = _not_found(module, qualname.rpartition(".")[2])
    return problem


def _worker_finds(top: str) -> bool:
    """True if a worker started here finds the top-level module ``top``."""
    if top in sys.builtin_module_names or top in sys.stdlib_module_names or top == "helpers":
        return True
    here = Path.cwd()
    if (here / f"{top}.py").is_file() or (here / top / "__init__.py").is_file():
        return True  # a worker's sys.path starts with the folder it started in
    return _fresh_python_finds(top, str(here))


@functools.lru_cache(maxsize=256)
def _fresh_python_finds(top: str, folder: str) -> bool:
    """True if this Python, started afresh in ``folder`` as a worker is, finds ``top``."""
    code = "import importlib.util, sys; sys.exit(importlib.util.find_spec(sys.argv[1]) is None)"
    try:
        done = subprocess.run(
            [sys.executable, "-c", code, top], cwd=folder, capture_output=True, timeout=30
        )
    except (OSError, subprocess.TimeoutExpired):
        return True  # cannot tell: let the worker say
    return done.returncode == 0


def _reference(obj: object) -> tuple[str, str] | None:
    """``(module, qualname)`` a worker imports ``obj`` by, for a function or class."""
    if inspect.isfunction(obj) or inspect.isclass(obj) or inspect.isbuiltin(obj):
        return getattr(obj, "__module__", None) or "", getattr(obj, "__qualname__", "")
    return None


# the checks before enqueue


def check_function(function: Callable[..., Any] | str) -> None:
    """Raise :class:`NotImportable` if a worker could not import ``function`` by its name."""
    target = function.__func__ if inspect.ismethod(function) else function
    reference = _reference(target)
    problem = _problem(*reference) if reference else None
    if problem:
        raise NotImportable(f"A worker cannot import the job's function: {problem}.")


class _Probe(pickle.Pickler):
    """A pickler that stops at a function or class a worker could not import."""

    def reducer_override(self, obj: object) -> object:
        reference = _reference(obj)
        problem = _problem(*reference) if reference else None
        if problem:
            raise _WorkerCannotImport(problem)
        return NotImplemented


class _WorkerCannotImport(Exception):
    """Raised by :class:`_Probe`: the reason (with the fix) is the message."""


def _kind(value: object, refused: str = "") -> str:
    """``value`` in a few words: "a generator", "an open file", "a list that holds a lock"."""
    if isinstance(value, io.IOBase):
        return "an open file"
    if getattr(value, "__qualname__", None) == "<lambda>":
        return "a lambda"
    name = type(value).__name__
    kind = KINDS.get(f"{type(value).__module__}.{name}") or KINDS.get(name)
    kind = kind or f"{'an' if name[:1].lower() in 'aeiou' else 'a'} {name}"
    inner = KINDS.get(refused) or ("an open file" if refused.startswith("_io.") else refused)
    return f"{kind} that holds {inner}" if inner and inner != kind else kind


def _named(function: Callable[..., Any] | str, args: tuple, kwargs: dict) -> list[tuple[str, Any]]:
    """The job's arguments with their parameters' names (``#1``, ``#2`` … if unknown)."""
    try:
        bound = inspect.signature(function).bind_partial(*args, **kwargs)
    except (TypeError, ValueError):
        return [(f"#{i}", value) for i, value in enumerate(args, 1)] + list(kwargs.items())
    return list(bound.arguments.items())


def _refused(exc: Exception) -> str:
    """What pickle named in its refusal: ``cannot pickle '_thread.lock' object``."""
    found = re.search(r"cannot pickle '([^']+)' object", str(exc))
    return found.group(1) if found else ""


def _check_value(name: str, value: object) -> None:
    """Raise :class:`NotSerializable` if the argument ``name`` cannot travel to a worker."""
    try:
        _Probe(io.BytesIO(), protocol=pickle.HIGHEST_PROTOCOL).dump(value)
    except _WorkerCannotImport as exc:
        where = f"A worker cannot read the job's argument {name} ({_kind(value)})"
        raise NotSerializable(f"{where}: {exc}; or {PLAIN}.") from None
    except Exception as exc:  # noqa: BLE001 - pickle refuses with any type of error
        what = f"The job's argument {name} is {_kind(value, _refused(exc))}"
        raise NotSerializable(
            f"{what}, which RQ cannot store in Redis (pickle): {PLAIN}."
        ) from None


def _carried(function: Callable[..., Any] | str) -> list[object]:
    """What RQ pickles besides the arguments: a method's object, or a callable object."""
    if inspect.ismethod(function):
        return [function.__self__]
    return [] if isinstance(function, str) or _reference(function) else [function]


def check_arguments(
    function: Callable[..., Any] | str, args: tuple = (), kwargs: dict | None = None
) -> None:
    """Raise :class:`NotSerializable` if RQ could not store, or a worker not read, an argument."""
    for value in _carried(function):
        _check_value("self", value)
    for name, value in _named(function, tuple(args or ()), dict(kwargs or {})):
        _check_value(name, value)


def check_job(
    function: Callable[..., Any] | str, args: tuple = (), kwargs: dict | None = None
) -> None:
    """Raise the one line of the first reason why a worker could not run ``function(*args)``."""
    check_function(function)
    check_arguments(function, args, kwargs)


# Redis full


def _memory(connection: redis.Redis) -> str:
    try:
        info = connection.info("memory")
    except redis.RedisError:
        return ""
    used, limit = info.get("used_memory_human"), info.get("maxmemory_human")
    return f" (used memory {used}, maxmemory {limit})" if used and limit else ""


def redis_full(connection: redis.Redis) -> RedisFull:
    """The error for a write Redis refused because it holds ``maxmemory`` already."""
    return RedisFull(
        f"Redis is full{_memory(connection)} and refused the job, so nothing was written: "
        "delete finished jobs (reset_queue(queue), or a lower result_ttl so that they expire "
        "sooner), or raise the limit with CONFIG SET maxmemory 256mb "
        "(r.config_set('maxmemory', '256mb'))."
    )


def redis_down(error: BaseException) -> RedisUnavailable:
    """The error for an enqueue Redis did not answer: whether the job exists, and the fix."""
    why = reason(error)
    created = "was not created" if why == "connection refused" else "may not have been created"
    return RedisUnavailable(
        f"Redis does not answer ({why}), so the job {created}: start Redis again "
        "(python -m helpers redis start), then create the job again."
    )


@contextmanager
def enqueueing(connection: redis.Redis) -> Iterator[None]:
    """Around an enqueue's writes: Redis full, or not answering, becomes its one line."""
    try:
        yield
    except (RedisFull, RedisUnavailable):
        raise
    except OutOfMemoryError:
        raise redis_full(connection) from None
    except REDIS_DOWN as exc:
        raise redis_down(exc) from None


# after the worker: what it stored of a failure, as the sentence


IMPORT_FRAME = re.compile(r'utils\.py", line \d+, in import_attribute$', re.M)
DATA_FRAME = re.compile(r'job\.py", line \d+, in _deserialize_data$', re.M)
INVALID_NAME = re.compile(r"^ValueError: Invalid attribute name: (?P<name>.+)$", re.M)
NO_ATTRIBUTE = re.compile(
    r"^AttributeError: module '(?P<module>[^']+)' has no attribute '(?P<owner>[^']*)'$", re.M
)
NO_MODULE_NAMED = re.compile(r"^KeyError: '(?P<dotted>[^']+)'$", re.M)
CANT_GET = re.compile(
    r"^AttributeError: Can't get attribute '(?P<name>[^']+)' on <module '(?P<module>[^']+)'", re.M
)
REDIS_CUT = re.compile(  # a worker's own write to Redis failed: the job's end was not stored
    r"^redis\.exceptions\.(?:BusyLoadingError|ConnectionError|TimeoutError): (?P<message>.*)$",
    re.M,
)
NO_MODULE = re.compile(r"^ModuleNotFoundError: No module named '(?P<module>[^']+)'", re.M)


def _qualname(text: str, module: str, owner: str, func_name: str | None) -> str:
    """The job's function name, from RQ's last line, else from ``func_name``."""
    invalid = INVALID_NAME.search(text)
    if invalid:
        return ".".join(part for part in (owner, invalid["name"]) if part)
    if func_name and func_name.startswith(f"{module}."):
        return func_name[len(module) + 1 :]
    return owner or "function"


def _missing_function(text: str, func_name: str | None) -> str | None:
    """RQ imported the job's module but found no function there by the job's name."""
    found = NO_ATTRIBUTE.search(text)
    if found is None:
        return None
    module = found["module"]
    qualname = _qualname(text, module, found["owner"], func_name)
    name = qualname.rpartition(".")[2]
    return _unnamed(module, qualname) or (
        f"module {module} has no {qualname}; check the name in {module}.py, run its "
        f"%%writefile cell again if you changed it, then `from {module} import {name}` again"
    )


def _import_problem(text: str, func_name: str | None) -> str | None:
    if not IMPORT_FRAME.search(text):
        return None
    found = NO_MODULE_NAMED.search(text)
    if found:
        dotted = found["dotted"]
        module, _, name = dotted.rpartition(".")
        return _unnamed("", dotted) or _not_found(module or dotted, name, WORKER_FOLDER)
    return _missing_function(text, func_name)


def _data_problem(text: str) -> str | None:
    if not DATA_FRAME.search(text):
        return None
    found = CANT_GET.search(text)
    if found and found["module"] in MAIN_MODULES:
        return f"{_in_main(found['name'])}; or {PLAIN}"
    missing = NO_MODULE.search(text)
    if missing:
        return f"{_not_found(missing['module'], None, WORKER_FOLDER)}; or {PLAIN}"
    return None


def explain_failure(exc_string: str, func_name: str | None = None) -> str | None:
    """The one line, with the fix, for a job a worker could not import or Redis cut off; else None.

    ``exc_string`` is what RQ stored (``job.latest_result().exc_string``) or logged;
    ``func_name`` (``job.func_name``), if known, names the function when RQ's text does not.
    """
    text = exc_string or ""
    problem = _import_problem(text, func_name)
    if problem:
        return f"The worker could not import the job's function: {problem}."
    problem = _data_problem(text)
    if problem:
        return f"The worker could not read the job's arguments: {problem}."
    cut = REDIS_CUT.search(text)
    if cut:
        why = reason(redis.RedisError(cut["message"]))
        return (
            f"Redis went away while the worker ran this job ({why}): it may have run; "
            "requeue it if it must run (again)."
        )
    return None
