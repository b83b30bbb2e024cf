"""Run every notebook with papermill, twice in a row on the same server, with test parameters.

nbval (``make test`` runs it over ``notebooks/``) compares the stored outputs; this test
executes each notebook with the fast parameters, checks that no cell failed and that the
key lines of the original course are printed, and that a second run prints the same.
"""

from __future__ import annotations

import contextlib

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
    """Execute ``notebook`` with papermill from its own folder; return the output notebook.

    Papermill reports any error output as a failure, even in a cell tagged
    ``raises-exception``; so the verdict is taken from the output notebook instead: every
    code cell ran, and only cells tagged ``raises-exception`` hold an error.
    """
    out = ARTIFACTS / "papermill" / f"{notebook.stem}.{label}.ipynb"
    out.parent.mkdir(parents=True, exist_ok=True)
    with contextlib.suppress(papermill.PapermillExecutionError):
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
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        assert cell.execution_count is not None, f"{notebook.name}: a cell did not run"
        errors = [o for o in cell.outputs if o.output_type == "error"]
        if errors and "raises-exception" not in cell.metadata.get("tags", []):
            error = errors[0]
            pytest.fail(f"{notebook.name}: {error.ename}: {error.evalue}\n{cell.source}")
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
