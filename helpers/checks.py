"""Self-checks for the exercises: each inspects the learner's answer against live Redis.

Every check prints one sentence, either that the answer is right or what is wrong with it,
and returns a Verdict, true when right, so a cell shows one sentence and a test can assert it.
"""

from __future__ import annotations

from dataclasses import dataclass


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


def check_saved_key(r, key: str, value: str) -> Verdict:
    """Notebook 00: ``key`` holds ``value`` in Redis and in the ``dump.rdb`` snapshot."""
    from helpers.install import snapshot_file

    actual = r.get(key)
    if actual is None:
        return verdict(False, f"the key {key} is not in Redis: set it with r.set({key!r}, ...).")
    if actual != value:
        return verdict(False, f"{key} holds {actual!r}, not {value!r}.")
    path = snapshot_file(r)
    if not path.exists() or key.encode() not in path.read_bytes():
        return verdict(False, f"{key} is in Redis but not in {path.name} yet: run r.save().")
    return verdict(True, f"{key} is {value!r} in Redis and in {path.name}.")
