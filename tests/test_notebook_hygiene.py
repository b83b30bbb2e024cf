"""Every committed notebook is clean: what nbval compares is what a clean run prints."""

from __future__ import annotations

import nbformat
import pytest
from nbtools import notebooks

NOTEBOOKS = notebooks()


@pytest.fixture(params=NOTEBOOKS, ids=lambda p: p.stem)
def nb(request) -> nbformat.NotebookNode:
    return nbformat.read(request.param, as_version=4)


def code_cells(nb):
    return [c for c in nb.cells if c.cell_type == "code"]


def test_there_are_notebooks():
    assert NOTEBOOKS, "notebooks/ holds no NN-name.ipynb"


def test_kernelspec_is_python3(nb):
    assert nb.metadata.kernelspec.name == "python3"


def test_outputs_come_from_one_clean_run_in_order(nb):
    counts = [c.execution_count for c in code_cells(nb)]
    assert counts == list(range(1, len(counts) + 1)) or all(n is None for n in counts), counts


def test_no_widget_state_is_stored(nb):
    assert "widgets" not in nb.metadata


def test_errors_only_in_cells_tagged_raises_exception(nb):
    for cell in code_cells(nb):
        errors = [o for o in cell.outputs if o.output_type == "error"]
        if errors:
            assert "raises-exception" in cell.metadata.get("tags", []), cell.source


def test_one_parameters_cell(nb):
    tagged = [c for c in code_cells(nb) if "parameters" in c.metadata.get("tags", [])]
    assert len(tagged) == 1


def test_first_code_cell_connects_through_helpers(nb):
    assert "connect()" in code_cells(nb)[0].source


def test_last_cell_offers_to_stop_what_the_notebook_started(nb):
    """``finish()``, not ``cleanup()``: Run All must leave the widgets working."""
    assert code_cells(nb)[-1].source.strip().endswith("finish()")
    assert not any("cleanup()" in cell.source for cell in code_cells(nb))


def test_every_exercise_has_a_check_and_a_solution_after_it(nb):
    cells = code_cells(nb)
    exercises = [i for i, c in enumerate(cells) if "exercise" in c.metadata.get("tags", [])]
    assert exercises, "every notebook has at least one exercise"
    for i in exercises:
        after = cells[i + 1 : i + 4]
        assert any("check_" in c.source for c in after[:1]), cells[i].source
        assert any("solution" in c.metadata.get("tags", []) for c in after), cells[i].source


def test_solution_cells_are_collapsed(nb):
    for cell in code_cells(nb):
        if "solution" in cell.metadata.get("tags", []):
            assert cell.metadata.get("jupyter", {}).get("source_hidden") is True


def test_ignored_outputs_are_tagged_not_commented(nb):
    commented = [c.source.splitlines()[0] for c in code_cells(nb) if "# NBVAL_" in c.source]
    assert not commented, "tag the cell nbval-ignore-output instead of a # NBVAL_ comment"
