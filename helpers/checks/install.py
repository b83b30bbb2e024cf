"""The self-check of notebook 00: a key saved in Redis and in the snapshot."""

from __future__ import annotations

from helpers.checks.verdict import Verdict, verdict
from helpers.install import snapshot_file, snapshot_holds

__all__ = ["check_saved_key"]


def check_saved_key(r, key: str, value: str) -> Verdict:
    """Notebook 00: ``key`` holds ``value`` in Redis and in the ``dump.rdb`` snapshot."""
    actual = r.get(key)
    if actual is None:
        return verdict(False, f"the key {key} is not in Redis: set it with r.set({key!r}, ...).")
    if actual != value:
        return verdict(False, f"{key} holds {actual!r}, not {value!r}.")
    path = snapshot_file(r)
    if not snapshot_holds(path, key, value):
        return verdict(False, f"{key} is in Redis but not in {path.name} yet: run r.save().")
    return verdict(True, f"{key} = {value!r} is in Redis and in {path.name}.")
