"""Run All leaves the widgets working, and a kernel shut down leaves nothing running.

Each notebook runs top to bottom in a real kernel (as Run All does, with ``FAST = True``);
then one more cell uses its widget as a learner would (a click), and must get an answer.
Then the kernel shuts down, and every process it started (workers) must be gone.
"""

from __future__ import annotations

import json

import nbformat
import pytest
from nbclient import NotebookClient
from nbtools import NOTEBOOKS_DIR, output_text

from helpers.core.processes import ProcessRecord
from helpers.core.waiting import wait_until

PROBES = {
    "06": (
        "desk.creator.create_button.click()\n"
        "print(desk.board.wait(60), desk.board.summary_text())\n"
        "print('last row:', list(desk.board.rows.values())[-1].status.value)",
        "last row: completed",
    ),
    "09": (
        "shop_widget.buttons[2].click()\n"
        "print(shop_widget.answer.value, shop_widget.status.value)",
        '{"status":"Reservation confirmed","itemId":2}</code> HTTP 200',
    ),
    "10": (
        "from helpers.core.waiting import wait_until\n"
        "desk.reserve_button.click()\n"
        "desk.process_button.click()\n"
        "print(wait_until(lambda: 'completed' in str(desk.job_log.outputs), 60))\n"
        "print(str(desk.job_log.outputs))",
        "Reservation in process",
    ),
}
PIDS = (
    "import dataclasses, json, os\n"
    "from helpers.core.processes import ProcessRecord, descendants\n"
    "print(json.dumps([dataclasses.asdict(ProcessRecord.of(p)) for p in descendants(os.getpid())]))"
)


def run_all_then(prefix: str, *cells: str) -> list[str]:
    """Run notebook ``prefix`` top to bottom, then ``cells``; their texts; the kernel is shut."""
    (path,) = NOTEBOOKS_DIR.glob(f"{prefix}-*.ipynb")
    nb = nbformat.read(path, as_version=4)
    for cell in nb.cells:
        if "parameters" in cell.metadata.get("tags", []):
            cell.source = "FAST = True"
    extra = [nbformat.v4.new_code_cell(source) for source in cells]
    nb.cells.extend(extra)
    client = NotebookClient(
        nb, timeout=300, kernel_name="python3", resources={"metadata": {"path": str(NOTEBOOKS_DIR)}}
    )
    client.execute()  # starts the kernel, runs every cell, shuts the kernel down
    return ["".join(output_text(o) for o in cell.outputs) for cell in extra]


@pytest.mark.slow
@pytest.mark.notebook
@pytest.mark.parametrize("prefix", sorted(PROBES))
def test_the_widget_answers_after_run_all_and_nothing_outlives_the_kernel(prefix):
    probe, expected = PROBES[prefix]
    answer, pids = run_all_then(prefix, probe, PIDS)
    assert expected in answer, answer
    children = [ProcessRecord(**fields) for fields in json.loads(pids)]
    if prefix != "09":  # the job desk and the seat desk run worker processes
        assert children, "the widget's workers should be the kernel's children"
    gone = wait_until(lambda: not any(child.is_running() for child in children), 30, every=0.2)
    assert gone, f"still running after the kernel shut down: {[c.pid for c in children]}"
