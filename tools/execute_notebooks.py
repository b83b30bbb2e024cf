"""Re-run notebooks from a fresh kernel and store their outputs, as nbval will compare them.

    .venv/bin/python tools/execute_notebooks.py notebooks/00-install-redis.ipynb ...

Each notebook runs top to bottom from a fresh kernel, on the workbook's own server (started
for the run in `.workbook/` and stopped after it; a temporary WORKBOOK_HOME if that server is
already running, e.g. under `make lab`), unless REDIS_URL is set. Widget state and run
metadata are not stored.
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

import nbformat
from nbclient import NotebookClient


def execute(path: Path) -> None:
    """Run ``path`` in place with a fresh kernel from its own folder."""
    nb = nbformat.read(path, as_version=4)
    client = NotebookClient(
        nb,
        timeout=600,
        kernel_name="python3",
        store_widget_state=False,
        resources={"metadata": {"path": str(path.parent)}},
    )
    client.execute()
    nb.metadata.pop("widgets", None)
    nb.metadata.pop("papermill", None)
    for cell in nb.cells:
        cell.metadata.pop("execution", None)
    nbformat.write(nb, path)
    print(f"executed {path}")


def main(paths: list[str]) -> int:
    """Execute each notebook on a fresh workbook server."""
    from helpers.core import server, workers

    if not os.environ.get("REDIS_URL") and server.status() is not None:
        os.environ["WORKBOOK_HOME"] = tempfile.mkdtemp(prefix="workbook-test-")
    try:
        for path in paths:
            if not os.environ.get("REDIS_URL"):
                server.start()
            execute(Path(path))
    finally:
        workers.stop_recorded()
        if not os.environ.get("REDIS_URL"):
            server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
