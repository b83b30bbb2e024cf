"""The student edition (``python -m helpers student DIR``) and the teacher's edition.

The student edition holds no solution, its exercise and check cells have no output, and run
top to bottom it ends without error with every check saying "Not yet" (what nbgrader's
``validate --invert`` checks). The teacher's edition (the notebooks as they are) passes
every check: its stored outputs say so (below), and nbval (``make test``) and papermill
(``tests/test_notebooks.py``) run it.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient
from nbtools import NOTEBOOKS_DIR, ROOT, notebooks

from helpers.cli import main as cli_main
from helpers.cli.grade import (
    NOT_YET,
    RIGHT,
    exercise_names,
    exercise_verdicts,
    with_fast_parameters,
)
from helpers.cli.student import (
    CHECK,
    EXERCISE,
    SOLUTION,
    MarkCells,
    exercise_checks,
    tags,
    write_edition,
)

NOTEBOOKS = notebooks()


@pytest.fixture(scope="module")
def edition_folder(tmp_path_factory) -> Path:
    """The student edition of every notebook, written once into a folder outside the clone."""
    folder = tmp_path_factory.mktemp("class") / "student"
    write_edition(folder)
    return folder


@pytest.fixture(scope="module")
def edition(edition_folder) -> dict[str, nbformat.NotebookNode]:
    """The edition's notebooks as written (the runs below do not save what they print)."""
    return {p.name: nbformat.read(edition_folder / p.name, as_version=4) for p in NOTEBOOKS}


def teacher(name: str) -> nbformat.NotebookNode:
    return nbformat.read(NOTEBOOKS_DIR / name, as_version=4)


def text_of(nb: nbformat.NotebookNode) -> str:
    """Everything a learner could read in ``nb``: sources, outputs, metadata."""
    return json.dumps(nb, ensure_ascii=False)


def escaped(line: str) -> str:
    """``line`` as it reads inside the notebook's JSON."""
    return json.dumps(line, ensure_ascii=False)[1:-1]


def solution_lines(nb: nbformat.NotebookNode) -> set[str]:
    """Lines of the solution cells found nowhere else in the notebook (source or output)."""
    elsewhere = "\n".join(text_of(c) for c in nb.cells if SOLUTION not in tags(c))
    return {
        line.strip()
        for cell in nb.cells
        if SOLUTION in tags(cell)
        for line in cell.source.splitlines()
        if len(line.strip()) >= 12 and escaped(line.strip()) not in elsewhere
    }


def test_every_notebook_has_its_student_edition(edition):
    assert sorted(edition) == [p.name for p in NOTEBOOKS]


def test_no_solution_cell_is_left_and_every_exercise_is(edition):
    for name, nb in edition.items():
        assert not [c for c in nb.cells if SOLUTION in tags(c)], name
        exercises = [c.source for c in nb.cells if EXERCISE in tags(c)]
        assert exercises == [c.source for c in teacher(name).cells if EXERCISE in tags(c)]


def test_no_label_announces_a_removed_solution(edition):
    found = 0
    for name, nb in edition.items():
        cells = teacher(name).cells
        pairs = zip(cells, cells[1:], strict=False)
        labels = [c.source for c, nxt in pairs if SOLUTION in tags(nxt) and "olution" in c.source]
        found += len(labels)
        assert not [c for c in nb.cells if c.cell_type == "markdown" and c.source in labels]
    assert found >= 10  # "The solution (unfold it after you tried):" and the like


def test_no_solution_text_is_left(edition):
    for name, nb in edition.items():
        lines = solution_lines(teacher(name))
        assert len(lines) >= len(exercise_checks(teacher(name))), name  # the test has teeth
        left = [line for line in lines if escaped(line) in text_of(nb)]
        assert not left, f"{name}: {left}"


def test_check_cells_follow_their_exercise_tagged_locked_and_without_output(edition):
    for name, nb in edition.items():
        checks = exercise_checks(nb)
        assert list(checks.values()) == list(exercise_checks(teacher(name)).values()), name
        for index in checks:
            cell = nb.cells[index]
            assert CHECK in tags(cell)
            assert cell.metadata.editable is False and cell.metadata.deletable is False
            assert cell.outputs == [] and cell.execution_count is None
        for cell in nb.cells:
            if {EXERCISE, CHECK} & set(tags(cell)):
                assert cell.outputs == [], f"{name}: {cell.source[:60]}"


def test_every_other_output_is_kept(edition):
    for name, nb in edition.items():
        marked, _ = MarkCells().preprocess(teacher(name), {})
        kept = [c for c in marked.cells if SOLUTION not in tags(c)]
        assert [c.source for c in nb.cells] == [c.source for c in kept]
        for mine, theirs in zip(nb.cells, kept, strict=True):
            if mine.cell_type == "code" and not {EXERCISE, CHECK} & set(tags(mine)):
                assert mine.outputs == theirs.outputs, f"{name}: {mine.source[:60]}"
        first = next(c for c in nb.cells if c.cell_type == "code")
        assert "is ready at" in first.outputs[0].text  # the reading material stays


def test_no_widget_state_and_no_verdict_is_stored(edition):
    for name, nb in edition.items():
        assert "widgets" not in nb.metadata, name
        assert RIGHT not in text_of(nb) and NOT_YET not in text_of(nb), name


def test_the_teachers_edition_passes_every_check():
    """Over the stored outputs (nbval checks that a run prints them again)."""
    for path in NOTEBOOKS:
        nb = nbformat.read(path, as_version=4)
        verdicts = exercise_verdicts(nb, exercise_names(nb))
        assert verdicts and all(verdicts.values()), f"{path.name}: {verdicts}"


def test_the_command_writes_the_edition_and_what_it_reads_beside_it(tmp_path):
    folder = tmp_path / "class" / "student"
    done = subprocess.run(
        [sys.executable, "-m", "helpers", "student", str(folder)], capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    assert f"Wrote {len(NOTEBOOKS)} student notebooks to {folder}" in done.stdout
    assert sorted(p.name for p in folder.glob("*.ipynb")) == [p.name for p in NOTEBOOKS]
    beside = tmp_path / "class" / "tests" / "test_job_creation.py"  # 08 reads ../tests/…
    assert beside.read_text() == (ROOT / "tests" / "test_job_creation.py").read_text()


def test_an_existing_folder_beside_the_edition_is_left_alone(tmp_path, capsys):
    (tmp_path / "tests").mkdir()
    write_edition(tmp_path / "student")
    assert list((tmp_path / "tests").iterdir()) == []
    assert "Note: notebook 08 reads ../tests/test_job_creation.py" in capsys.readouterr().out


def test_the_command_refuses_a_folder_inside_notebooks(capsys):
    assert cli_main(["student", str(NOTEBOOKS_DIR / "student")]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "give a folder outside notebooks/" in err
    assert not (NOTEBOOKS_DIR / "student").exists()
    assert cli_main(["student", str(NOTEBOOKS_DIR)]) == 1


def run_in_kernel(path) -> nbformat.NotebookNode:
    """Run a notebook top to bottom from its folder, FAST = True, errors recorded."""
    nb = nbformat.read(path, as_version=4)
    with_fast_parameters(nb)
    client = NotebookClient(
        nb, timeout=300, kernel_name="python3", allow_errors=True,
        resources={"metadata": {"path": str(path.parent)}},
    )  # fmt: skip
    return client.execute()


def outputs_text(cell: nbformat.NotebookNode) -> str:
    return "".join(o.get("text", "") for o in cell.get("outputs", []))


@pytest.mark.slow
@pytest.mark.notebook
@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=lambda p: p.stem)
def test_the_student_edition_runs_and_every_check_says_not_yet(edition_folder, notebook):
    path = edition_folder / notebook.name
    wrong = []
    for cell in run_in_kernel(path).cells:
        errors = [o for o in cell.get("outputs", []) if o.output_type == "error"]
        if errors:
            wrong.append(f"{path.name}: {errors[0].ename}: {errors[0].evalue}")
        if RIGHT in outputs_text(cell):
            wrong.append(f"{path.name}: a check says right: {cell.source[:60]}")
        if CHECK in tags(cell) and NOT_YET not in outputs_text(cell):
            wrong.append(f"{path.name}: a check did not say not yet: {cell.source[:60]}")
    assert not wrong, "\n".join(wrong)
