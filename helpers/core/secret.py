"""The password of the workbook's own Redis: a random secret in the learner's folder, never shown.

On a machine shared by several learners (The Littlest JupyterHub, a lab machine), every
account reaches 127.0.0.1; a server without a password lets another learner read its keys
and make its RQ workers run code. So the workbook's server requires a password:

- ``password`` in the server's folder (``<home>/redis/``, mode 0700), mode 0600, made with
  :func:`secrets.token_urlsafe` on the first start and kept; only the learner can read it;
- handed to the server in ``redis.conf`` (``requirepass``, mode 0600), never on its command
  line, which ``ps`` shows to every user;
- in the URL that :func:`helpers.core.server.redis_url` gives the learner's own processes
  (``redis://default:PASSWORD@127.0.0.1:PORT/0``; ``default`` is the user that
  ``requirepass`` protects: ``redis-cli -u`` 7 sends an empty user name as it is and is
  refused, redis-cli 5 ignores the name), and in no line the workbook prints:
  :func:`without_password` is the URL shown.
"""

from __future__ import annotations

import contextlib
import os
import re
import secrets
from pathlib import Path

PASSWORD_FILE = "password"
CONFIG_FILE = "redis.conf"
PASSWORD_BYTES = 32
USER = "default"
_USERINFO = re.compile(r"^(?P<scheme>[A-Za-z][A-Za-z0-9+.-]*://)(?P<userinfo>[^@/?#]*)@")


def private_folder(folder: Path) -> Path:
    """``folder``, created if need be, readable by its owner only (0700)."""
    folder.mkdir(parents=True, exist_ok=True)
    if folder.stat().st_mode & 0o077:
        folder.chmod(0o700)
    return folder


def _write_private(path: Path, text: str, exclusive: bool = False) -> None:
    """Write ``text`` to ``path``, mode 0600 from its first byte (no moment where others read)."""
    flags = os.O_WRONLY | os.O_CREAT | (os.O_EXCL if exclusive else os.O_TRUNC)
    fd = os.open(path, flags, 0o600)
    try:
        os.fchmod(fd, 0o600)
        os.write(fd, text.encode())
    finally:
        os.close(fd)


def read_password(folder: Path) -> str | None:
    """The password kept in ``folder``, or None if there is none (yet)."""
    with contextlib.suppress(OSError):
        return (folder / PASSWORD_FILE).read_text().strip() or None
    return None


def password(folder: Path) -> str:
    """The password kept in ``folder``: made on first use, then the same one every time."""
    private_folder(folder)
    path = folder / PASSWORD_FILE
    kept = read_password(folder)
    if kept:
        if path.stat().st_mode & 0o077:
            path.chmod(0o600)
        return kept
    path.unlink(missing_ok=True)  # an empty or unreadable file: make a new one
    _write_private(path, secrets.token_urlsafe(PASSWORD_BYTES) + "\n", exclusive=True)
    return read_password(folder) or ""


def write_config(folder: Path, secret: str) -> Path:
    """Write ``redis.conf`` (0600) with ``requirepass``; the server reads it at start."""
    path = folder / CONFIG_FILE
    text = (
        "# Written by the workbook at every start of its own server: its password.\n"
        "# Private (mode 0600). The other options are on the server's command line.\n"
        f"requirepass {secret}\n"
    )
    _write_private(path, text)
    return path


def without_password(url: str) -> str:
    """``url`` as it may be shown: user name and password taken out."""
    return _USERINFO.sub(r"\g<scheme>", url, count=1)


def split_credentials(url: str) -> tuple[str, str | None, str | None]:
    """``(url without credentials, user name, password)`` of a Redis URL."""
    match = _USERINFO.match(url)
    if not match:
        return url, None, None
    user, _, secret = match.group("userinfo").partition(":")
    return without_password(url), user or None, secret or None


def with_password(url: str, secret: str | None) -> str:
    """``url`` carrying ``secret`` as the default user's password (``redis://default:SECRET@…``)."""
    if not secret:
        return url
    scheme, rest = url.split("://", 1)
    return f"{scheme}://{USER}:{secret}@{rest}"
