"""The workbook as a learner sees it: every notebook run in JupyterLab by headless Chromium.

nbval and papermill prove the kernel side. This test opens each notebook in the same
JupyterLab that ``make lab`` starts, clears the stored outputs, runs every cell from the
page's Run menu, and checks what the page shows: every cell ran, no error except in cells
tagged ``raises-exception``, every widget rendered as a widget (not as its text fallback).
Then it clicks the widgets of notebooks 04, 06, 09 and 10 as a learner would (and, in 09,
opens the link to the app that the notebook printed, through JupyterLab). Screenshots
of each page go to ``tests/artifacts/screenshots/`` and stay there after the run.

Needs Playwright (a test extra) and Debian's ``chromium``; without them the test is
skipped, except under ``CI=true`` where it fails.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from browser import JupyterLab, NotebookPage, chromium, missing_tool, wait_until
from nbtools import NOTEBOOKS_DIR, notebooks
from test_stock import LIST

pytestmark = [pytest.mark.browser, pytest.mark.slow]

NOTEBOOKS = notebooks()


def notebook(prefix: str) -> Path:
    """The notebook whose name starts with ``prefix``; skip (one line) if it does not exist yet."""
    found = sorted(NOTEBOOKS_DIR.glob(f"{prefix}-*.ipynb"))
    if not found:
        pytest.skip(f"notebook {prefix} does not exist yet")
    return found[0]


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture(scope="session")
def lab() -> Iterator[JupyterLab]:
    """The workbook's JupyterLab, started once for the session; stopped with its kernels."""
    reason = missing_tool()
    if reason:
        if os.environ.get("CI") == "true":
            pytest.fail(f"the browser test must run under CI: {reason}")
        pytest.skip(reason)
    digests = {nb: digest(nb) for nb in NOTEBOOKS}
    server = JupyterLab()
    server.start()
    try:
        yield server
    finally:
        killed = server.stop()
        assert not killed, f"JupyterLab or its kernels had to be killed: {killed}"
        changed = [nb.name for nb, before in digests.items() if digest(nb) != before]
        assert not changed, f"the browser run changed the notebook files: {changed}"


@pytest.fixture(scope="module")
def browser(lab) -> Iterator:
    """Headless Chromium (a fresh profile) while this module's tests run.

    Module-scoped, not session-scoped: Playwright's synchronous API keeps an event loop
    running in this thread, where later tests of other modules call ``asyncio.run``.
    """
    with chromium() as context:
        yield context


@pytest.fixture
def page_of(lab, browser) -> Iterator:
    """Open a notebook's page; afterwards shut its kernel down and close the page."""
    opened: list[NotebookPage] = []

    def open_page(path: Path) -> NotebookPage:
        page = NotebookPage(browser, lab, path)
        opened.append(page)
        page.open()
        return page

    yield open_page
    for page in opened:
        try:
            if not page.photographed:  # the test stopped early: keep what the page showed
                with contextlib.suppress(Exception):
                    page.screenshot(f"{page.notebook.stem}-failed")
            if lab.kernels():
                page.shut_down_kernel()
        finally:
            page.close()
    assert not lab.kernels(), "a kernel is still running after the notebook's page closed"


def code_indexes(page: NotebookPage) -> list[int]:
    return [i for i, c in enumerate(page.file.cells) if c.cell_type == "code"]


NOTHING = "Nothing this notebook started is still running."


def stop_with_the_last_cell(page: NotebookPage, index: int) -> None:
    """The last cell ran: if it shows its stop button, click it and see it stop everything."""
    cell = page.page.locator(".jp-Notebook .jp-Cell").nth(index)
    button = cell.locator(".qs-finish")
    if button.count():
        button.first.click()
        wait_until(lambda: NOTHING in cell.inner_text(), 30, "the stop button's line")


def wrap_up(page: NotebookPage, name: str, widgets: list[int]) -> None:
    """Screenshot the widget's cells and the page; run the last cell and click its button."""
    page.screenshot(name, cells=widgets)
    page.screenshot(f"{name}-page")
    last = code_indexes(page)[-1]
    assert "finish()" in page.file.cells[last].source
    state = page.run_cell(last)
    problems = page.problems(state, only=[last])
    assert not problems, "\n".join(problems)
    stop_with_the_last_cell(page, last)


def plots_not_shown(page: NotebookPage) -> list[str]:
    """The cells that draw a plot (``plt.show()``) but show no image that loaded."""
    plots = [i for i in code_indexes(page) if "plt.show()" in page.file.cells[i].source]
    if plots:
        page.screenshot(f"{page.notebook.stem}-plots", cells=plots)
    rendered = page.rendered()
    return [
        f"cell {i} shows no plot"
        for i in plots
        if not any(o["mime"] == "image/png" and o["image"] > 0 for o in rendered[i]["outputs"])
    ]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_runs_in_jupyterlab(page_of, path):
    page = page_of(path)
    started = time.monotonic()
    state = page.run_all()
    seconds = time.monotonic() - started
    page.screenshot(path.stem)
    problems = page.problems(state)
    counts = [state["cells"][i]["count"] for i in code_indexes(page)]
    if counts != list(range(1, len(counts) + 1)):
        problems.append(f"execution counts are not 1..{len(counts)}: {counts}")
    problems += plots_not_shown(page)
    if problems:
        errors = list(dict.fromkeys(page.console_errors()))  # each distinct message once
        problems += [f"page: {line[:200]}" for line in errors[-5:]]
    assert not problems, f"{path.name} in JupyterLab ({seconds:.0f} s):\n" + "\n".join(problems)
    last = state["cells"][code_indexes(page)[-1]]
    text = "".join(o.get("text", "") for o in last["outputs"])
    assert text.startswith((NOTHING, "Still running: ")), text
    stop_with_the_last_cell(page, code_indexes(page)[-1])


# ---- the four interactions, clicked in the page --------------------------------------------


def open_at_widget(page_of, prefix: str, *selectors: str) -> tuple[NotebookPage, list[int]]:
    """Open notebook ``prefix``, run its cells from the top until every selector shows.

    Returns the page and the indexes of the cells that show the widget.
    """
    page = page_of(notebook(prefix))
    cells = page.run_cells_until(*selectors)
    problems = page.problems(page.state(), only=list(range(max(cells) + 1)))
    assert not problems, "\n".join(problems)
    return page, cells


def test_pubsub_panel_shows_a_published_message(page_of):
    page, widgets = open_at_widget(page_of, "04", ".qs-pubsub-publish", ".qs-pubsub-feed")
    message = f"Hello from the browser {int(time.time())}"
    box = page.page.locator(".qs-pubsub-message input, input.qs-pubsub-message").first
    box.fill(message)
    page.page.locator(".qs-pubsub-publish").first.click()
    feed = page.page.locator(".qs-pubsub-feed").first
    wait_until(lambda: message in feed.inner_text(), 30, f"the feed to show {message!r}")
    status = page.page.locator(".qs-pubsub-status").first.inner_text()
    assert "holberton school channel" in status, status
    wrap_up(page, "04-pubsub-panel", widgets)


JOB_ROWS = 11


def test_job_board_reaches_the_final_state(page_of):
    page, widgets = open_at_widget(
        page_of, "06", ".qs-create-samples", ".qs-start-workers", ".qs-board-summary"
    )
    locate = page.page.locator
    locate(".qs-create-samples").first.click()
    wait_until(lambda: locate(".qs-job-row").count() >= JOB_ROWS, 30, f"{JOB_ROWS} job rows")
    waiting = [s.strip() for s in locate(".qs-job-row .qs-job-status").all_inner_texts()]
    assert waiting == ["queued"] * JOB_ROWS, f"before any worker runs: {waiting}"
    locate(".qs-start-workers").first.click()

    def final() -> list[str] | None:
        statuses = [s.strip() for s in locate(".qs-job-row .qs-job-status").all_inner_texts()]
        return statuses if all(s in ("completed", "failed") for s in statuses) else None

    statuses = wait_until(final, 120, "every job to complete or fail")
    assert len(statuses) == JOB_ROWS
    assert statuses.count("completed") == 9 and statuses.count("failed") == 2, statuses
    rows = locate(".qs-job-row")
    for i in range(rows.count()):
        row = rows.nth(i)
        status = row.locator(".qs-job-status").inner_text().strip()
        value = progress_value(row.locator(".qs-job-progress").first)
        if status == "completed":
            assert value == 100, f"row {i}: completed at {value}%"
        else:
            error = row.locator(".qs-job-error").inner_text()
            assert re.search(r"Phone number 41535187(80|81) is blacklisted", error), error
    summary = locate(".qs-board-summary").first.inner_text()
    assert "9 completed" in summary and "2 failed" in summary, summary
    locate(".qs-stop-workers").first.click()
    wrap_up(page, "06-job-board", widgets)


def progress_value(bar) -> float:
    """A progress widget's value in percent of its range, read from the page."""
    return bar.evaluate(
        """el => {
          const bar = el.querySelector('.progress-bar') || el.querySelector('[role=progressbar]');
          if (bar && bar.style.width) return parseFloat(bar.style.width);
          if (bar && bar.getAttribute('aria-valuenow') !== null) {
            const now = parseFloat(bar.getAttribute('aria-valuenow'));
            const max = parseFloat(bar.getAttribute('aria-valuemax') || '100');
            return 100 * now / max;
          }
          return NaN;
        }"""
    )


def open_the_printed_link(page: NotebookPage) -> tuple[str, bytes]:
    """The link to the app that the notebook printed (through JupyterLab), opened in a tab."""
    anchor = page.page.locator(".jp-OutputArea-output a[href*='/proxy/']").first
    href = anchor.get_attribute("href")
    assert anchor.inner_text() == href, "the link shown is not the link followed"
    tab = page.page.context.new_page()
    try:
        reply = tab.goto(href)
        return href, reply.body() if reply.status == 200 else f"{reply.status}".encode()
    finally:
        tab.close()


def test_shop_reserves_the_last_suitcases(page_of):
    page, widgets = open_at_widget(page_of, "09", ".qs-reserve-3", ".qs-shop-answer")
    href, body = open_the_printed_link(page)
    assert re.fullmatch(rf"{re.escape(page.lab.base)}/proxy/\d+/list_products", href), href
    assert body == LIST, body[:200]
    locate = page.page.locator
    stock, answer = locate(".qs-stock-3").first, locate(".qs-shop-answer").first
    reserve = locate(".qs-product-3 .qs-reserve-3").first

    def shows(number: int) -> bool:
        return re.search(rf"\b{number}\b", stock.inner_text()) is not None

    assert shows(2), f"Suitcase 650 should start with 2 in stock: {stock.inner_text()!r}"
    for left in (1, 0):
        reserve.click()
        wait_until(lambda n=left: shows(n), 30, f"the stock of Suitcase 650 to show {left}")
        assert json.loads(answer.inner_text()) == {"status": "Reservation confirmed", "itemId": 3}
    reserve.click()
    wait_until(lambda: "Not enough" in answer.inner_text(), 30, "the third answer")
    assert json.loads(answer.inner_text()) == {"status": "Not enough stock available", "itemId": 3}
    assert shows(0), stock.inner_text()
    wrap_up(page, "09-shop", widgets)


def seats_left(page: NotebookPage) -> int:
    text = page.page.locator(".qs-seats-left").first.inner_text()
    numbers = re.findall(r"\d+", text)
    assert numbers, f"no number in the seats label: {text!r}"
    return int(numbers[0])


def test_seat_desk_reserves_and_processes(page_of):
    page, widgets = open_at_widget(
        page_of, "10", ".qs-reserve-seat", ".qs-process", ".qs-seats-left", ".qs-seat-log"
    )
    locate = page.page.locator
    before = seats_left(page)
    log = locate(".qs-seat-log").first
    for _ in range(3):
        locate(".qs-reserve-seat").first.click()
    wait_until(
        lambda: log.inner_text().count("Reservation in process") >= 3,
        30,
        "three reservations in the log",
    )
    locate(".qs-process").first.click()
    wait_until(
        lambda: seats_left(page) <= before - 3, 60, f"seats left to go down from {before} by 3"
    )
    wait_until(lambda: log.inner_text().count("completed") >= 3, 60, "three completed jobs")
    wrap_up(page, "10-seat-desk", widgets)
