"""A Redis that writes the seat count slowly, so that two workers meet between read and write.

The seat check hands its workers this relay's URL instead of the server's: a TCP relay that
passes every byte through, but holds each ``SET available_seats`` for a few milliseconds
(and each ``INCR``, which puts back a seat taken by mistake, so that the check sees it).
A job that reads the seats and then writes ``seats - 1`` leaves that gap open, and the other
worker reads the same count in it, every time; a job that takes the seat in one step (a Lua
script, or WATCH/MULTI, whose EXEC fails when the count changed) sells each seat once.
"""

from __future__ import annotations

import re
import socket
import threading
import time

import redis

from helpers.seats import SEATS_KEY

DELAY = 0.03
SLOW_SET = re.compile(  # SET, INCR or INCRBY available_seats: the writes that follow a read
    rb"(?i)\$(?:3\r\nset|4\r\nincr|6\r\nincrby)\r\n\$%d\r\n%s\r\n"
    % (len(SEATS_KEY), re.escape(SEATS_KEY.encode()))
)


class SlowSeatWrites:
    """A relay to ``connection``'s server that holds each write of the seats for ``delay`` s.

    ``pattern`` says which commands are held (any packet it matches): the seats' writes by
    default; the check of notebook 11 holds every write of a key that is not RQ's.
    """

    def __init__(
        self, connection: redis.Redis, delay: float = DELAY, pattern: re.Pattern = SLOW_SET
    ) -> None:
        self.kwargs = connection.connection_pool.connection_kwargs
        self.delay = delay
        self.pattern = pattern
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.sockets: list[socket.socket] = []
        self.lock = threading.Lock()

    @property
    def url(self) -> str:
        """The relay's URL: same database and password as the server's."""
        kw = self.kwargs
        auth = f"{kw.get('username') or ''}:{kw['password']}@" if kw.get("password") else ""
        port = self.listener.getsockname()[1]
        return f"redis://{auth}127.0.0.1:{port}/{kw.get('db', 0)}"

    def start(self) -> SlowSeatWrites:
        """Accept connections from a background thread."""
        threading.Thread(target=self._accept, daemon=True, name="slow-redis").start()
        return self

    def _upstream(self) -> socket.socket:
        if self.kwargs.get("path"):
            sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            sock.connect(self.kwargs["path"])
            return sock
        host, port = self.kwargs.get("host", "127.0.0.1"), self.kwargs.get("port", 6379)
        return socket.create_connection((host, port))

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self.listener.accept()
                server = self._upstream()
            except OSError:
                return
            with self.lock:
                self.sockets += [client, server]
            for src, dst, slow in ((client, server, True), (server, client, False)):
                threading.Thread(target=self._pump, args=(src, dst, slow), daemon=True).start()

    def _pump(self, src: socket.socket, dst: socket.socket, slow: bool) -> None:
        try:
            while data := src.recv(65536):
                if slow and self.pattern.search(data):
                    time.sleep(self.delay)
                dst.sendall(data)
        except OSError:
            pass
        for sock in (src, dst):
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def stop(self) -> None:
        """Close the relay and every connection through it."""
        try:
            self.listener.shutdown(socket.SHUT_RDWR)  # wakes the accepting thread
        except OSError:
            pass
        self.listener.close()
        with self.lock:
            for sock in self.sockets:
                try:
                    sock.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
                sock.close()
            self.sockets.clear()

    def __enter__(self) -> SlowSeatWrites:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
