"""The Jupyter server this process runs under, and links to a local port through its proxy.

jupyter-server-proxy (one of the workbook's packages) serves ``127.0.0.1:PORT`` at
``<the server's base URL>proxy/PORT/``, behind the server's own login. That is the address
a learner's browser can open on a laptop, on Binder and on JupyterHub, where the kernel's
127.0.0.1 is not the browser's.

Which server: the one whose ``jpserver-<pid>.json`` (in Jupyter's runtime folder) names the
process that started this kernel (``JPY_PARENT_PID``, which jupyter_client sets), or, for a
command typed in a JupyterLab terminal, an ancestor of this process. A kernel that papermill,
nbval or nbclient started has no such server, so it prints no link: stored outputs do not
depend on where they were made.

The address, as the browser sees it: on JupyterHub (and so on Binder), the hub's public
address (``JUPYTERHUB_PUBLIC_URL`` or ``JUPYTERHUB_HOST``, often empty: then the link is a
path on the page's own host) followed by ``JUPYTERHUB_SERVICE_PREFIX``; elsewhere the
server's own URL (``http://localhost:8888/``).
"""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from helpers.core.processes import pid_alive

MAX_ANCESTORS = 10


def _parent_of(pid: int) -> int | None:
    """The parent of process ``pid`` (``/proc`` on Linux, else ``ps``), or None."""
    with contextlib.suppress(OSError, ValueError, IndexError):
        return int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1])
    with contextlib.suppress(OSError, ValueError, subprocess.SubprocessError):
        out = subprocess.run(
            ["ps", "-o", "ppid=", "-p", str(pid)], capture_output=True, text=True, timeout=5
        )
        return int(out.stdout.strip())
    return None


def _candidates() -> list[int]:
    """Pids that may be this process's Jupyter server: the kernel's parent, else ancestors."""
    parent = os.environ.get("JPY_PARENT_PID", "")
    if parent.isdigit():
        return [int(parent)]
    pids: list[int] = []
    pid: int | None = os.getppid()
    while pid and pid > 1 and len(pids) < MAX_ANCESTORS:
        pids.append(pid)
        pid = _parent_of(pid)
    return pids


def runtime_dir() -> Path | None:
    """Jupyter's runtime folder (where running servers write ``jpserver-<pid>.json``)."""
    try:
        from jupyter_core.paths import jupyter_runtime_dir
    except ImportError:
        return None
    return Path(jupyter_runtime_dir())


def _read_info(path: Path) -> dict[str, Any] | None:
    """A server's info file, if that server is still running."""
    with contextlib.suppress(OSError, ValueError):
        info = json.loads(path.read_text())
        pid = int(info.get("pid", 0)) if isinstance(info, dict) else 0
        if pid > 0 and pid_alive(pid):
            return info
    return None


def server_info() -> dict[str, Any] | None:
    """The Jupyter server this process runs under (its ``jpserver-<pid>.json``), or None."""
    folder = runtime_dir()
    if folder is not None:
        for pid in _candidates():
            info = _read_info(folder / f"jpserver-{pid}.json")
            if info is not None:
                return info
    if "JPY_PARENT_PID" not in os.environ and os.environ.get("JUPYTER_SERVER_URL"):
        return {"url": os.environ["JUPYTER_SERVER_URL"]}  # a JupyterLab terminal's command
    return None


def running_servers() -> list[dict[str, Any]]:
    """Every Jupyter server of this user that is running (their info files)."""
    folder = runtime_dir()
    if folder is None or not folder.is_dir():
        return []
    found = (_read_info(path) for path in sorted(folder.glob("jpserver-*.json")))
    return [info for info in found if info is not None]


def _origin(url: str) -> str:
    """``scheme://host[:port]`` of ``url``, or '' if it has none."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}" if parts.scheme and parts.netloc else ""


def browser_base(info: dict[str, Any] | None) -> str | None:
    """The address of server ``info`` as the learner's browser reaches it, ending in ``/``."""
    if info is None:
        return None
    prefix = os.environ.get("JUPYTERHUB_SERVICE_PREFIX")
    if prefix:
        origin = _origin(os.environ.get("JUPYTERHUB_PUBLIC_URL", ""))
        origin = origin or _origin(os.environ.get("JUPYTERHUB_HOST", ""))
        path = f"/{prefix.strip('/')}/" if prefix.strip("/") else "/"
        return origin + path
    url = str(info.get("url", ""))
    if not url.startswith(("http://", "https://")):
        return None  # a server on a Unix socket: no address a browser can open
    return url if url.endswith("/") else url + "/"


def proxy_link(port: int, path: str = "/") -> str | None:
    """The link that opens ``127.0.0.1:port/path`` through this process's JupyterLab, or None."""
    base = browser_base(server_info())
    return None if base is None else f"{base}proxy/{port}/{path.lstrip('/')}"
