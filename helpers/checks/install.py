"""The self-check of notebook 00: the learner's code saves a key in Redis and in the snapshot."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from pathlib import Path

import redis

from helpers.checks.verdict import (
    CHECK_PREFIX,
    Verdict,
    on_check_database,
    raised,
    run_captured,
    verdict,
)
from helpers.core.home import shown
from helpers.install import snapshot_file, snapshot_holds

__all__ = ["check_save_key"]


def check_save_key(save_key: Callable, r: redis.Redis) -> Verdict:
    """Exercise 00: ``save_key(r, key, value)`` sets the key, saves, returns the snapshot's path.

    The key and value are the check's own, on a database only the client it hands over reads.
    """
    if not callable(save_key):
        return verdict(
            False, "save_key is not a function: define it with def save_key(r, key, value):."
        )
    own = on_check_database(r)
    key, value = f"{CHECK_PREFIX}{uuid.uuid4().hex[:8]}", f"v-{uuid.uuid4().hex[:8]}"
    try:
        _, returned, exc = run_captured(lambda: save_key(own, key, value))
        if exc is not None:
            return verdict(False, raised("save_key", exc) + ".")
        wrong = _what_is_wrong(own, key, value, returned)
    finally:
        if own.delete(key):
            own.save()  # leave no check key in the snapshot
        own.close()
    if wrong:
        return verdict(False, wrong)
    return verdict(True, "save_key stores the key, writes dump.rdb, and says where it is.")


def _what_is_wrong(own: redis.Redis, key: str, value: str, returned: object) -> str | None:
    """What is wrong with what ``save_key`` did and returned, or None."""
    actual = own.get(key)
    if actual is None:
        return (
            "the key it was given is not in Redis: set it with r.set(key, value) on the r it gets."
        )
    if actual != value:
        return f"the key holds {actual!r}, not the value it was given ({value!r})."
    path = snapshot_file(own)
    if not snapshot_holds(path, key, value):
        return f"the key is in Redis but not in {path.name} yet: call r.save() after the set."
    if returned is None:
        return "it returned None: return the path of the snapshot file."
    if not isinstance(returned, str | Path):
        return f"it returned a {type(returned).__name__}: return a path (str or pathlib.Path)."
    if Path(returned) == path.parent:
        return (
            f"it returned the folder {shown(path.parent)}: return the file in it, dir / dbfilename."
        )
    if Path(returned) != path:
        return (
            f"it returned {str(returned)!r}, but the server writes {shown(path)}: ask it, "
            "with CONFIG GET dir and CONFIG GET dbfilename."
        )
    return None
