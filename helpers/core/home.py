"""Where the workbook keeps its own files: the Redis data, the worker records.

The folder, in order:

1. ``$WORKBOOK_HOME``, if set;
2. ``<project>/.workbook`` when the package runs from a clone of the workbook (the folder
   above ``helpers/`` holds the workbook's ``pyproject.toml``): ``make lab``, Binder, an
   editable install; but not from a clone that another user owns (one clone installed for
   a whole class): each learner's server and records stay their own;
3. otherwise (``pip install .``, a wheel) ``$XDG_DATA_HOME/queuing-system-in-python``,
   by default ``~/.local/share/queuing-system-in-python``.
"""

from __future__ import annotations

import os
from pathlib import Path

PROJECT_NAME = "queuing-system-in-python"


def project_root() -> Path | None:
    """The clone the package runs from, or None when it is installed as a package."""
    root = Path(__file__).resolve().parents[2]
    pyproject = root / "pyproject.toml"
    try:
        if f'name = "{PROJECT_NAME}"' in pyproject.read_text():
            return root
    except OSError:
        pass
    return None


def _of_this_user(root: Path) -> bool:
    """True if the clone ``root`` is this user's (or the user is root, who owns every folder)."""
    getuid = getattr(os, "getuid", None)  # not on Windows
    try:
        return getuid is None or getuid() in (0, root.stat().st_uid)
    except OSError:
        return True


def workbook_home() -> Path:
    """The folder for the workbook's own files (see the module's docstring for the rule)."""
    if os.environ.get("WORKBOOK_HOME"):
        return Path(os.environ["WORKBOOK_HOME"]).resolve()
    root = project_root()
    if root is not None and _of_this_user(root):
        return root / ".workbook"
    data = os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share"
    return (Path(data) / PROJECT_NAME).resolve()


def shown(path: Path) -> str:
    """``path`` relative to the project when it is inside it, else as it is."""
    root = project_root()
    try:
        return str(path.relative_to(root)) if root is not None else str(path)
    except ValueError:
        return str(path)
