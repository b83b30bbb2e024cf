"""Print pip constraints that pin every direct dependency to its floor (``>=X`` becomes ``==X``).

    python tools/floors.py > constraints.txt
    pip install -c constraints.txt -e '.[test]'

The dependencies and the ``test`` extra of ``pyproject.toml`` are read; an upper cap
(``<5``) is dropped, since ``==X`` keeps to it; an environment marker is kept. Whatever
those packages need in turn resolves freely, as in numpy-tutorials' "oldest deps" job.
``make test`` runs the fast suite in such an environment (``make test-floors``).
"""

from __future__ import annotations

import re
import sys
import tomllib
from pathlib import Path

PYPROJECT = Path(__file__).resolve().parent.parent / "pyproject.toml"


def floors(pyproject: Path = PYPROJECT) -> list[str]:
    """One ``name==floor`` line (with its marker) per direct dependency and test extra."""
    project = tomllib.loads(pyproject.read_text())["project"]
    lines = []
    for spec in project["dependencies"] + project["optional-dependencies"]["test"]:
        requirement, _, marker = spec.partition(";")
        match = re.match(r"\s*([A-Za-z0-9_.\-]+)\s*>=\s*([^,\s]+)", requirement)
        if match is None:
            raise SystemExit(f"{spec!r} has no floor (>=X): give it one in pyproject.toml")
        line = f"{match.group(1)}=={match.group(2)}"
        lines.append(line + (f"; {marker.strip()}" if marker else ""))
    return lines


if __name__ == "__main__":
    print("\n".join(floors(Path(sys.argv[1]) if len(sys.argv) > 1 else PYPROJECT)))
