"""What every check shares: the verdict it prints and returns, and running the learner's code."""

from __future__ import annotations

import contextlib
import importlib
import io
import sys
from collections.abc import Callable
from dataclasses import dataclass
from types import ModuleType
from typing import TypeVar

Client = TypeVar("Client")

CHECK_PREFIX = "check:"  # keys the checks write, apart from the notebooks' own
CHECK_DB = 13  # the database a check's client reads: only the client it hands over sees it


@dataclass(frozen=True)
class Verdict:
    """A check's answer: true when right; shows nothing more in a notebook (it printed)."""

    ok: bool
    message: str

    def __bool__(self) -> bool:
        return self.ok

    def _ipython_display_(self) -> None:
        """Display nothing: the sentence was printed already."""


def verdict(ok: bool, message: str) -> Verdict:
    """Print ``message`` after a mark that says right or not yet; return the verdict."""
    print(f"{'✅ Right' if ok else '❌ Not yet'}: {message}")
    return Verdict(ok, message)


def on_check_database(client: Client) -> Client:
    """A client like ``client`` (sync or async, same server and options) on ``CHECK_DB``."""
    pool = client.connection_pool
    kwargs = {**pool.connection_kwargs, "db": CHECK_DB}
    own_pool = type(pool)(connection_class=pool.connection_class, **kwargs)
    return type(client)(connection_pool=own_pool)


def run_captured(call: Callable[[], object]) -> tuple[str, object, BaseException | None]:
    """Run ``call()``; return what it printed, what it returned, and what it raised."""
    buffer = io.StringIO()
    try:
        with contextlib.redirect_stdout(buffer):
            result = call()
    except Exception as exc:  # noqa: BLE001 - the learner's code may raise anything
        return buffer.getvalue(), None, exc
    return buffer.getvalue(), result, None


def raised(name: str, exc: BaseException) -> str:
    """One sentence: ``name raised Error: message.`` (one final period)."""
    return f"{name} raised {type(exc).__name__}: {str(exc).rstrip('.')}"


def load_module(module: str) -> tuple[ModuleType | None, str | None]:
    """Import ``module`` afresh (the file may have changed); the module or why it failed."""
    importlib.invalidate_caches()
    try:
        if module in sys.modules:
            return importlib.reload(sys.modules[module]), None
        return importlib.import_module(module), None
    except ModuleNotFoundError:
        return None, f"there is no {module}.py beside the notebook: run its %%writefile cell."
    except Exception as exc:  # noqa: BLE001 - the verdict names it
        return None, f"{module}.py does not import: {raised('it', exc)}."
