"""The last cell of every notebook: it says what still runs, and its button stops it.

Each case runs in a fresh Python process, as a kernel would be: what the test session
itself has started (its Redis among them) is not this process's to stop.
"""

from __future__ import annotations

import subprocess
import sys

NOTHING = "Nothing this notebook started is still running."
CLICK = """
from helpers import finish, redis_url, stock
from helpers.core import lifecycle
from helpers.core.http import get
from helpers.core.serving import serve
from helpers.core.workers import start_workers
import redis

web = serve(stock.create_app(redis.Redis.from_url(redis_url(), decode_responses=True)), port=0)
workers = start_workers("check:finish", 2)
button = finish()
print(repr(button))
print("app answers:", get(web.url + "/list_products/1").status, "workers:", workers.alive)
button.button.click()
print("disabled:", button.button.disabled)
print(button.result.outputs[0]["text"], end="")
print("after:", workers.alive, web.running, lifecycle.running())
"""


def run(code: str) -> str:
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True
    )
    return done.stdout


def test_with_nothing_running_it_says_so_and_shows_no_button():
    assert run("from helpers import finish\nprint(finish())") == f"{NOTHING}\nNone\n"


def test_it_stops_nothing_until_its_button_is_clicked():
    assert run(CLICK) == (
        "Still running: 1 web server, 2 workers. Use them as long as you like; click the "
        "button when you are done (shutting the kernel down stops them too).\n"
        "FinishButton(Stop what this notebook started)\n"
        "app answers: 200 workers: 2\n"
        "disabled: True\n"
        f"Stopped 1 web server, 2 workers. {NOTHING}\n"
        "after: 0 False {}\n"
    )
