"""Run every notebook with papermill, twice in a row on the same server, with test parameters.

nbval (``make test`` runs it over ``notebooks/``) compares the stored outputs; this test
executes each notebook with the fast parameters, checks that no cell failed and that the
key lines of the original course are printed, and that a second run prints the same.
"""

from __future__ import annotations

import nbformat
import papermill
import pytest
from nbtools import (
    ARTIFACTS,
    FAST_PARAMETERS,
    NOTEBOOKS_DIR,
    cell_texts,
    expected_lines,
    notebooks,
    sanitize,
)

pytestmark = [pytest.mark.notebook, pytest.mark.slow]


def run(notebook, label: str) -> nbformat.NotebookNode:
    """Execute ``notebook`` with papermill from its own folder; return the output notebook."""
    out = ARTIFACTS / "papermill" / f"{notebook.stem}.{label}.ipynb"
    out.parent.mkdir(parents=True, exist_ok=True)
    papermill.execute_notebook(
        str(notebook),
        str(out),
        parameters=FAST_PARAMETERS,
        kernel_name="python3",
        cwd=str(NOTEBOOKS_DIR),
        execution_timeout=300,
        progress_bar=False,
    )
    nb = nbformat.read(out, as_version=4)
    assert not nb.metadata.papermill.get("exception"), f"{notebook.name} raised"
    return nb


@pytest.mark.parametrize("notebook", notebooks(), ids=lambda p: p.stem)
def test_notebook_runs_twice_with_the_same_outputs(notebook):
    first = run(notebook, "run1")
    text = "".join(cell_texts(first))
    missing = [line for line in expected_lines(notebook) if line not in text]
    assert not missing, f"{notebook.name} did not print: {missing}"
    second = run(notebook, "run2")
    again = [sanitize(t) for t in cell_texts(second, compared_only=True)]
    assert again == [sanitize(t) for t in cell_texts(first, compared_only=True)]
