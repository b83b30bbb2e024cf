"""Self-checks for the exercises: each inspects the learner's answer against live Redis.

Every check prints one sentence, either that the answer is right or what is wrong with it,
and returns True or False, so a notebook cell shows the verdict and a test can assert it.
"""

from __future__ import annotations


def verdict(ok: bool, message: str) -> bool:
    """Print ``message`` after a mark that says right or not yet; return ``ok``."""
    print(f"{'✅ Right' if ok else '❌ Not yet'}: {message}")
    return ok
