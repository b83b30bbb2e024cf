"""Run every notebook with papermill, twice in a row on the same server, with test parameters.

nbval (``make test`` runs it over ``notebooks/``) compares the stored outputs; this test
executes each notebook with the fast parameters, checks that no cell failed and that the
key lines of the original course are printed, and that a second run prints the same.
"""

from __future__ import annotations

import pytest
from nbtools import (
    cell_texts,
    expected_lines,
    notebooks,
    run_with_papermill,
    sanitize,
)

pytestmark = [pytest.mark.notebook, pytest.mark.slow]


@pytest.mark.parametrize("notebook", notebooks(), ids=lambda p: p.stem)
def test_notebook_runs_twice_with_the_same_outputs(notebook):
    first = run_with_papermill(notebook, "run1")
    text = "".join(cell_texts(first))
    missing = [line for line in expected_lines(notebook) if line not in text]
    assert not missing, f"{notebook.name} did not print: {missing}"
    second = run_with_papermill(notebook, "run2")
    again = [sanitize(t) for t in cell_texts(second, compared_only=True)]
    assert again == [sanitize(t) for t in cell_texts(first, compared_only=True)]
