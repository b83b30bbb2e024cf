"""How ``make test`` shares the suite among its 3 processes: the groups of the root conftest."""

from __future__ import annotations

import ast
import importlib.util
from pathlib import Path

import pytest

TESTS = Path(__file__).resolve().parent
_spec = importlib.util.spec_from_file_location("root_conftest", TESTS.parent / "conftest.py")
root_conftest = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(root_conftest)

STUDENT_RUN = (
    "tests/test_student_edition.py::test_the_student_edition_runs_and_every_check_says_not_yet"
)


@pytest.mark.parametrize(
    "nodeid, group",
    [
        ("notebooks/05-job-creator-and-processor.ipynb::Cell 3", "notebook-05"),
        ("tests/test_notebooks.py::test_notebook_runs_twice[11-when-things-break]", "notebook-11"),
        ("tests/test_browser.py::test_notebook_runs_in_jupyterlab[08-testing-jobs]", "notebook-08"),
        ("tests/test_browser.py::test_pubsub_panel_shows_a_published_message", "notebook-04"),
        (
            "tests/test_browser.py::test_notebook_runs_in_jupyterlab[10-can-i-have-a-seat]",
            "port-1245",
        ),
        ("notebooks/09-in-stock.ipynb::Cell 0", "port-1245"),
        ("tests/test_browser.py::test_seat_desk_reserves_and_processes", "port-1245"),
        ("tests/test_grading.py::test_scores_are_written_one_row_per_exercise", "port-1245"),
        (f"{STUDENT_RUN}[09-in-stock]", "port-1245"),
        (f"{STUDENT_RUN}[12-how-fast-is-a-queue]", None),  # a folder of its own: anywhere
        ("tests/test_layers.py::test_no_function_is_longer_than_60_lines", None),
    ],
)
def test_a_test_is_in_the_group_of_what_it_runs(nodeid, group):
    assert root_conftest.group_of(nodeid) == group


def test_the_tests_named_as_running_a_notebook_exist():
    """A test renamed without its entry would leave its group silently."""
    names = {
        node.name
        for path in TESTS.glob("test_*.py")
        for node in ast.walk(ast.parse(path.read_text()))
        if isinstance(node, ast.FunctionDef)
    }
    assert set(root_conftest.RUNS_NOTEBOOK) <= names
