"""The background web server and the Express-style JSON app: start, serve, stop, errors."""

from __future__ import annotations

import json
import os
import socket
import threading

import pytest
from flask import jsonify
from webtools import raw, run_task

from helpers.core import http, jupyter, lifecycle, serving, webapp
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


def hold_1245() -> socket.socket:
    """A socket listening on 1245 (if something else holds it already, that does as well)."""
    blocker = socket.socket()
    blocker.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        blocker.bind(("127.0.0.1", serving.ORIGINAL_PORT))
        blocker.listen(1)
    except OSError:
        pass  # something else holds 1245 already: the fallback is exercised all the same
    return blocker


FALLBACKS = range(serving.ORIGINAL_PORT + 1, serving.ORIGINAL_PORT + serving.FALLBACK_PORTS)


def test_default_port_is_1245_or_the_next_free_port_when_taken():
    blocker = hold_1245()
    try:
        predicted = serving.default_port()
        with serving.serve(make_app()) as server:
            assert server.port in FALLBACKS
            assert server.port == predicted
            assert server.get("/ordered").status == 200
            with serving.serve(make_app()) as second:  # a second learner's app: the next one
                assert second.port in FALLBACKS and second.port > server.port
    finally:
        blocker.close()


@pytest.mark.parametrize("task", [12, 13])
def test_a_task_takes_the_next_free_port_when_1245_is_taken_and_says_which(task):
    blocker = hold_1245()
    try:
        with run_task(task, default_port=True) as app:
            said = [line for line in app.lines if line.startswith("Port 1245 is taken")]
            assert len(said) == 1, app.lines
            assert said[0].endswith(f"so this app uses port {app.port}, the next free one.")
            assert app.port in FALLBACKS
            path = "/list_products" if task == 12 else "/available_seats"
            status, body, _ = app.raw(path)
            assert status == 200 and json.loads(body)
    finally:
        blocker.close()


def test_in_a_kernel_nbval_starts_there_is_no_browser_link_and_the_repr_is_as_stored(
    monkeypatch,
):
    monkeypatch.setenv("JPY_PARENT_PID", str(os.getpid()))  # what jupyter_client tells a kernel
    assert jupyter.server_info() is None  # this process is no Jupyter server
    with serving.serve(make_app(), port=0) as server:
        assert server.browser_url is None
        assert server._repr_html_() is None
        assert repr(server) == f"<WebServer demo at {server.url}, serving>"


def test_the_landing_path_is_the_first_route_a_browser_can_open(r):
    from helpers import stock

    app = make_app()
    assert serving.landing_path(app) == "/ordered"
    assert serving.landing_path(webapp.create_json_app("empty")) == "/"
    assert serving.landing_path(stock.create_app(r, fresh=False)) == "/list_products"


SERVER = {"url": "http://localhost:8888/lab-base/", "pid": 1}


@pytest.mark.parametrize(
    ("env", "base"),
    [
        ({}, "http://localhost:8888/lab-base/"),  # a laptop: the server's own address
        ({"JUPYTERHUB_SERVICE_PREFIX": "/user/ada/"}, "/user/ada/"),  # a hub: the page's host
        (
            {
                "JUPYTERHUB_SERVICE_PREFIX": "/user/ada/",
                "JUPYTERHUB_PUBLIC_URL": "https://hub.example.org/user/ada/",
            },
            "https://hub.example.org/user/ada/",
        ),
        (
            {"JUPYTERHUB_SERVICE_PREFIX": "/user/ada/", "JUPYTERHUB_HOST": "https://ada.hub.org"},
            "https://ada.hub.org/user/ada/",
        ),
    ],
)
def test_the_browser_reaches_jupyterlab_at_its_public_address(monkeypatch, env, base):
    for name in ("JUPYTERHUB_SERVICE_PREFIX", "JUPYTERHUB_PUBLIC_URL", "JUPYTERHUB_HOST"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    assert jupyter.browser_base(SERVER) == base
    assert jupyter.browser_base(None) is None
    socket_server = jupyter.browser_base({"url": "http+unix://%2Ftmp%2Fsock/"})
    assert socket_server == (base if env else None)  # a hub reaches it; a browser alone not


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
