"""The background web server and the Express-style JSON app: start, serve, stop, errors."""

from __future__ import annotations

import socket
import threading

import pytest
from flask import jsonify
from webtools import raw

from helpers.core import http, lifecycle, serving, webapp
from helpers.core.server import free_port


def make_app():
    app = webapp.create_json_app("demo")

    @app.get("/ordered")
    def ordered():
        return jsonify({"status": "ok", "itemId": 1, "a": [1, 2], "é": "ü"})

    @app.get("/boom")
    def boom():
        raise ValueError("a bug")

    return app


def port_open(port: int) -> bool:
    with socket.socket() as s:
        return s.connect_ex(("127.0.0.1", port)) == 0


def test_json_is_compact_ordered_and_without_trailing_newline():
    with serving.serve(make_app(), port=0) as server:
        status, body, headers = raw(server.port, "/ordered")
    assert status == 200
    assert body == '{"status":"ok","itemId":1,"a":[1,2],"é":"ü"}'.encode()
    assert headers["Content-Type"] == "application/json"
    assert headers["Content-Length"] == str(len(body))


def test_serve_on_a_free_port_then_stop_closes_the_port_and_ends_the_thread():
    server = serving.serve(make_app(), port=0)
    assert server.running and port_open(server.port)
    assert repr(server) == f"<WebServer demo at http://127.0.0.1:{server.port}, serving>"
    assert server.stop() is True
    assert not server.running and not port_open(server.port)
    assert server.stop() is False
    assert not [t for t in threading.enumerate() if t.name.startswith("web-demo-")]


def test_serve_on_a_given_port():
    port = free_port()
    with serving.serve(make_app(), port=port) as server:
        assert server.url == f"http://127.0.0.1:{port}"
        assert server.get("/ordered").json()["itemId"] == 1


def test_a_busy_port_is_a_one_line_error():
    with serving.serve(make_app(), port=0) as server:
        with pytest.raises(serving.PortInUse, match=rf"^Port {server.port} is in use by another"):
            serving.serve(make_app(), port=server.port)


def test_default_port_is_1245_or_any_free_port_when_taken():
    blocker = socket.socket()
    blocker.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        blocker.bind(("127.0.0.1", serving.ORIGINAL_PORT))
        blocker.listen(1)
    except OSError:
        pass  # something else holds 1245 already: the fallback is exercised all the same
    try:
        with serving.serve(make_app()) as server:
            assert server.port != serving.ORIGINAL_PORT
            assert server.get("/ordered").status == 200
    finally:
        blocker.close()


@pytest.mark.parametrize(
    ("method", "path", "status", "body"),
    [
        ("GET", "/nope", 404, b'{"status":"Not found"}'),
        ("GET", "/ordered/", 404, b'{"status":"Not found"}'),
        ("POST", "/ordered", 405, b'{"status":"Method not allowed"}'),
        ("DELETE", "/ordered", 405, b'{"status":"Method not allowed"}'),
        ("GET", "/boom", 500, b'{"status":"Internal Server Error"}'),
    ],
)
def test_errors_are_json_never_html(method, path, status, body):
    with serving.serve(make_app(), port=0) as server:
        got = raw(server.port, path, method)
    assert (got[0], got[1]) == (status, body)
    assert got[2]["Content-Type"] == "application/json"
    if status == 405:
        assert got[2]["Allow"] == "GET, HEAD, OPTIONS"


def test_head_and_options_work_on_get_routes():
    with serving.serve(make_app(), port=0) as server:
        assert raw(server.port, "/ordered", "HEAD")[:2] == (200, b"")
        assert raw(server.port, "/ordered", "OPTIONS")[0] == 200


def test_the_server_thread_prints_nothing(capfd):
    with serving.serve(make_app(), port=0) as server:
        server.get("/ordered")
        server.get("/nope")
        server.get("/ordered/")
    out, err = capfd.readouterr()
    assert (out, err) == ("", "")


def test_curl_prints_the_body_like_curl(capsys):
    with serving.serve(make_app(), port=0) as server:
        assert server.curl("/ordered") is None
        server.curl("/nope", show_status=True)
    assert capsys.readouterr().out == (
        '{"status":"ok","itemId":1,"a":[1,2],"é":"ü"}\n{"status":"Not found"}  ← 404\n'
    )


def test_burst_sends_concurrent_requests_and_tally_counts_them():
    with serving.serve(make_app(), port=0) as server:
        replies = http.burst(server.url + "/ordered", 50)
    assert len(replies) == 50
    assert http.tally(replies) == {"ok": 50}


def test_cleanup_stops_every_server():
    servers = [serving.serve(make_app(), port=0) for _ in range(3)]
    stopped = lifecycle.stop_everything(keep=("Redis",))
    assert stopped["web server"] == 3
    assert not any(s.running for s in servers)
    assert lifecycle.stop_everything(keep=("Redis",)).get("web server", 0) == 0


def test_requests_beyond_max_concurrent_wait_their_turn_then_get_503(monkeypatch):
    import time

    monkeypatch.setattr(webapp, "BUSY_TIMEOUT", 0.2)
    app = webapp.create_json_app("slow", max_concurrent=2)

    @app.get("/slow")
    def slow():
        time.sleep(0.6)
        return jsonify({"status": "done"})

    with serving.serve(app, port=0) as server:
        assert http.tally(http.burst(server.url + "/slow", 3)) == {"done": 2, "Server busy": 1}
        assert http.tally(http.burst(server.url + "/ordered", 2)) == {"Not found": 2}
