"""Tasks 12–13 as commands: the two web apps on port 1245, served until Ctrl+C.

Port 1245 taken (another learner's app on the same machine), they take the next free port
and say which; under JupyterLab they also print the link that opens the app in the browser.
"""

from __future__ import annotations

import argparse

import redis
from rq import Queue

from helpers.core.output import say
from helpers.core.server import describe, redis_url
from helpers.core.serving import ORIGINAL_PORT, run_until_stopped
from helpers.seat_app import SeatProcessor
from helpers.seat_app import create_app as create_seat_app
from helpers.seats import QUEUE_NAME
from helpers.stock import create_app as create_stock_app

PORT_HELP = f"default: {ORIGINAL_PORT}, or the next free port if it is taken"


def task_stock(argv: list[str]) -> int:
    """``python -m helpers task 12 [--port N] [--naive]``: the app of ``9-stock.js``."""
    parser = argparse.ArgumentParser(prog="python -m helpers task 12")
    parser.add_argument("--port", type=int, default=None, help=PORT_HELP)
    parser.add_argument(
        "--naive", action="store_true", help="the original's read-then-write (oversells)"
    )
    parser.add_argument("--pause", type=float, default=0.0, help="naive only: seconds to wait")
    args = parser.parse_args(argv)
    url = redis_url()
    print(describe(url), flush=True)
    r = redis.Redis.from_url(url, decode_responses=True)
    try:
        kind = "naive" if args.naive else "atomic"
        return run_until_stopped(
            lambda: create_stock_app(r, atomic=not args.naive, pause=args.pause),
            args.port,
            f"In stock? app ({kind} reservations) listening on {{url}}",
        )
    finally:
        r.close()


def task_seats(argv: list[str]) -> int:
    """``python -m helpers task 13 [--port N] [--workers N]``: the app of ``100-seat.js``."""
    parser = argparse.ArgumentParser(prog="python -m helpers task 13")
    parser.add_argument("--port", type=int, default=None, help=PORT_HELP)
    parser.add_argument("--workers", type=int, default=2, help="worker processes on /process")
    args = parser.parse_args(argv)
    url = redis_url()
    print(describe(url), flush=True)
    r = redis.Redis.from_url(url, decode_responses=True)
    raw = redis.Redis.from_url(url)
    processor = SeatProcessor(QUEUE_NAME, args.workers, url, on_line=say)
    try:
        return run_until_stopped(
            lambda: create_seat_app(r, Queue(QUEUE_NAME, connection=raw), processor),
            args.port,
            f"Can I have a seat? app listening on {{url}} ({args.workers} workers on /process)",
        )
    finally:
        processor.stop()
        r.close()
        raw.close()
