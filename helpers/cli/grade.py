"""``python -m helpers grade NOTEBOOK... [--csv FILE] [--timeout S] [--fast]``: score learners.

Each notebook is run top to bottom in a fresh kernel, in its own folder (nbconvert's
``ExecutePreprocessor``, errors allowed, so one broken cell costs only its exercise). An
exercise is the check cell right after an ``exercise`` cell; before the run, its source is
put back as the teacher wrote it (an edited or deleted check is restored). The exercise
scores 1 point when the last cell that calls its check printed "✅ Right", else 0. The
learner is the name of the notebook's folder (``submitted/<learner>/<notebook>.ipynb``, as
nbgrader lays out submissions). Like nbgrader, this runs the learner's code with the
teacher's rights: grade in an account or container of its own.
"""

from __future__ import annotations

import argparse
import csv
import sys
from dataclasses import astuple, dataclass, fields
from pathlib import Path

import nbformat
from nbclient.exceptions import DeadKernelError
from nbconvert.preprocessors import ExecutePreprocessor

from helpers.cli.student import (
    CHECK,
    EXERCISE,
    called_check,
    exercise_checks,
    notebooks_dir,
    tags,
)
from helpers.core.errors import WrongFolder

RIGHT, NOT_YET = "✅ Right", "❌ Not yet"  # the marks of helpers.checks.verdict.verdict()
CELL_TIMEOUT = 300  # seconds: some cells wait for workers; nbgrader's 30 s is too short


@dataclass(frozen=True)
class Score:
    """One learner's points for one exercise of one notebook."""

    learner: str
    notebook: str
    exercise: str
    points: int
    max_points: int = 1


def cell_verdict(cell: nbformat.NotebookNode) -> bool | None:
    """True or False for the last verdict a cell printed; None if it printed none."""
    lines = [
        line
        for output in cell.get("outputs", [])
        if output.get("output_type") == "stream"
        for line in output.get("text", "").splitlines()
        if line.startswith((RIGHT, NOT_YET))
    ]
    return lines[-1].startswith(RIGHT) if lines else None


def exercise_names(nb: nbformat.NotebookNode) -> list[str]:
    """The checks of a notebook's exercises, in order (one per exercise)."""
    return list(dict.fromkeys(exercise_checks(nb).values()))


def exercise_verdicts(nb: nbformat.NotebookNode, names: list[str]) -> dict[str, bool]:
    """Each check in ``names`` -> whether the last cell that called it printed right."""
    verdicts = dict.fromkeys(names, False)
    for cell in nb.cells:
        name = called_check(cell)
        if name in verdicts and cell_verdict(cell) is not None:
            verdicts[name] = cell_verdict(cell)
    return verdicts


def restore_checks(nb: nbformat.NotebookNode, reference: nbformat.NotebookNode) -> None:
    """Make the code cell after each exercise the reference's check again (in place).

    The cell after the i-th exercise, if it is a check (tagged ``check`` or calling one), gets
    the reference's source back; otherwise the reference's check is inserted there.
    """
    checks = [reference.cells[i] for i in exercise_checks(reference)]
    exercises = [i for i, cell in enumerate(nb.cells) if EXERCISE in tags(cell)]
    if len(exercises) != len(checks):
        return  # not the reference's exercises: nothing to match them with
    for index, check in reversed(list(zip(exercises, checks, strict=True))):
        after = next((i for i in range(index + 1, len(nb.cells)) if is_code(nb.cells[i])), None)
        cell = nb.cells[after] if after is not None else None
        if cell is not None and (CHECK in tags(cell) or called_check(cell)):
            cell.source = check.source
        else:
            nb.cells.insert(index + 1, nbformat.v4.new_code_cell(check.source))


def is_code(cell: nbformat.NotebookNode) -> bool:
    """True for a code cell."""
    return cell.cell_type == "code"


def with_fast_parameters(nb: nbformat.NotebookNode) -> None:
    """Add ``FAST = True`` after the ``parameters`` cell, as papermill injects parameters."""
    for index, cell in enumerate(nb.cells):
        if "parameters" in tags(cell):
            injected = nbformat.v4.new_code_cell("FAST = True")
            injected.metadata["tags"] = ["injected-parameters"]
            nb.cells.insert(index + 1, injected)
            return


def teachers_notebook(name: str) -> Path | None:
    """The teacher's notebook called ``name`` in the clone, if there is one."""
    try:
        path = notebooks_dir() / name
    except WrongFolder:
        return None
    return path if path.exists() else None


def run(path: Path, timeout: int = CELL_TIMEOUT, fast: bool = False) -> tuple:
    """Execute the notebook at ``path`` in its folder; return it and its exercises' checks.

    The exercises are the teacher's notebook's (of the same name) when there is one.
    """
    if path.suffix != ".ipynb" or not path.is_file():
        raise WrongFolder(f"{path} is not a notebook: give the learners' .ipynb files")
    nb = nbformat.read(path, as_version=4)
    names = exercise_names(nb)
    reference = teachers_notebook(path.name)
    if reference is not None:
        teacher = nbformat.read(reference, as_version=4)
        restore_checks(nb, teacher)
        names = exercise_names(teacher)
    if fast:
        with_fast_parameters(nb)
    executor = ExecutePreprocessor(
        timeout=timeout, allow_errors=True, interrupt_on_timeout=True, kernel_name="python3"
    )
    try:  # the cells run in place: a kernel that dies keeps the verdicts printed before
        executor.preprocess(nb, {"metadata": {"path": str(path.parent.resolve())}})
    except DeadKernelError:
        print(f"{path}: the kernel died; scoring what ran before.", file=sys.stderr)
    return nb, names


def grade(path: Path, timeout: int = CELL_TIMEOUT, fast: bool = False) -> list[Score]:
    """Run one learner's notebook; return a score per exercise."""
    learner = path.resolve().parent.name
    verdicts = exercise_verdicts(*run(path, timeout, fast))
    return [Score(learner, path.stem, name, int(ok)) for name, ok in verdicts.items()]


def summary(path: Path, scores: list[Score]) -> str:
    """One line: ``learner  notebook  points/max  check ✅, check ❌``."""
    marks = ", ".join(f"{s.exercise} {'✅' if s.points else '❌'}" for s in scores)
    points = sum(s.points for s in scores)
    total = sum(s.max_points for s in scores)
    return f"{path.resolve().parent.name}  {path.stem}  {points}/{total}  {marks}"


def write_csv(scores: list[Score], out: Path) -> None:
    """One row per learner, notebook and exercise (an LMS or a spreadsheet imports it)."""
    with out.open("w", newline="") as file:
        writer = csv.writer(file)
        writer.writerow([f.name for f in fields(Score)])
        writer.writerows(astuple(score) for score in scores)


def main(argv: list[str]) -> int:
    """``python -m helpers grade NOTEBOOK...``: print each learner's points; write a CSV."""
    parser = argparse.ArgumentParser(prog="python -m helpers grade")
    parser.add_argument("notebooks", nargs="+", type=Path)
    parser.add_argument("--csv", type=Path, help="write the scores to this CSV file")
    parser.add_argument("--timeout", type=int, default=CELL_TIMEOUT, help="seconds per cell")
    parser.add_argument("--fast", action="store_true", help="run with FAST = True")
    args = parser.parse_args(argv)
    scores = []
    for path in args.notebooks:
        mine = grade(path, args.timeout, args.fast)
        scores += mine
        print(summary(path, mine), flush=True)
    if args.csv:
        write_csv(scores, args.csv)
        print(f"Wrote {len(scores)} scores to {args.csv}.")
    return 0
