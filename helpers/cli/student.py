"""``python -m helpers student [DIR]``: every notebook's student edition, written into DIR.

The student edition is the teacher's notebook without its solutions, built with nbconvert's
preprocessors: :class:`MarkCells` tags the check cells ``check`` (and locks them) and
the one-line labels of the solutions ``solution``, then
nbconvert's ``TagRemovePreprocessor`` removes the cells tagged ``solution`` and clears the
outputs of the cells tagged ``exercise`` or ``check``. Every other output stays: it is the
reading material. DIR may be inside the clone (``make student`` writes ``student/``, which
git ignores) but not inside ``notebooks/``, where nbval and pytest would collect it.
"""

from __future__ import annotations

import copy
import re
import shutil
from pathlib import Path

import nbformat
from nbconvert.preprocessors import Preprocessor, TagRemovePreprocessor

from helpers.core.errors import WrongFolder
from helpers.core.home import project_root

EXERCISE, SOLUTION, CHECK = "exercise", "solution", "check"
CHECK_CALL = re.compile(r"\b(check_\w+)\(")
# files the notebooks read by a path relative to their folder (08 prints the workbook's tests)
READ_BESIDE = ("tests/test_job_creation.py",)
DEFAULT_DIR = "student"


def tags(cell: nbformat.NotebookNode) -> list[str]:
    """The cell's tags."""
    return cell.get("metadata", {}).get("tags", [])


def called_check(cell: nbformat.NotebookNode) -> str | None:
    """The name of the first ``check_...`` function that a code cell calls, if any."""
    found = CHECK_CALL.search(cell.source) if cell.cell_type == "code" else None
    return found.group(1) if found else None


def exercise_checks(nb: nbformat.NotebookNode) -> dict[int, str]:
    """Index in ``nb.cells`` of each exercise's check cell -> the check it calls.

    A check cell is the code cell right after an exercise cell that calls ``check_...``.
    """
    checks, previous = {}, None
    for index, cell in enumerate(nb.cells):
        if cell.cell_type != "code":
            continue
        if previous is not None and EXERCISE in tags(previous) and called_check(cell):
            checks[index] = called_check(cell)
        previous = cell
    return checks


def add_tag(cell: nbformat.NotebookNode, tag: str) -> None:
    """Tag ``cell`` with ``tag`` (in place)."""
    cell.metadata["tags"] = [*tags(cell), tag]


class MarkCells(Preprocessor):
    """Tag what the student edition clears or removes, beyond the notebooks' own tags.

    ``check``: every code cell that calls a check outside the exercises and solutions; it
    is locked in JupyterLab (``editable`` and ``deletable`` false): the learner answers in
    the exercise cell above. ``solution``: the one-line label right above a solution
    ("The solution (unfold it after you tried):"), which would announce nothing.
    """

    def preprocess(self, nb: nbformat.NotebookNode, resources: dict) -> tuple:
        """Mark the cells of ``nb`` (in place); drop its widget state."""
        for cell, after in zip(nb.cells, [*nb.cells[1:], None], strict=True):
            if called_check(cell) and not {EXERCISE, SOLUTION} & set(tags(cell)):
                add_tag(cell, CHECK)
                cell.metadata.update(editable=False, deletable=False)
            label = cell.cell_type == "markdown" and len(cell.source.strip().splitlines()) == 1
            if label and after is not None and SOLUTION in tags(after):
                add_tag(cell, SOLUTION)
        nb.metadata.pop("widgets", None)
        return nb, resources


def student_edition(teacher: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """The student edition of a teacher's notebook (a new notebook; ``teacher`` is unchanged)."""
    nb, resources = MarkCells().preprocess(copy.deepcopy(teacher), {})
    remove = TagRemovePreprocessor(
        remove_cell_tags={SOLUTION}, remove_all_outputs_tags={EXERCISE, CHECK}
    )
    nb, _ = remove.preprocess(nb, resources)
    return nb


def notebooks_dir() -> Path:
    """The teacher's notebooks: ``notebooks/`` of the clone the package runs from."""
    root = project_root()
    if root is None or not (root / "notebooks").is_dir():
        raise WrongFolder(
            "the notebooks are not here: run this from a clone of the workbook "
            "(git clone, then pip install -e .)"
        )
    return root / "notebooks"


def write_edition(target: Path, source: Path | None = None) -> list[Path]:
    """Write the student edition of every notebook of ``source`` into ``target``."""
    source = (source or notebooks_dir()).resolve()
    target = target.resolve()
    if target == source or source in target.parents:
        raise WrongFolder(
            f"{target} is inside {source}: give a folder outside notebooks/, "
            f"e.g. python -m helpers student {DEFAULT_DIR}"
        )
    target.mkdir(parents=True, exist_ok=True)
    written = []
    for path in sorted(source.glob("[0-9][0-9]-*.ipynb")):
        nb = student_edition(nbformat.read(path, as_version=4))
        nbformat.write(nb, target / path.name)
        written.append(target / path.name)
    copy_read_beside(target, source.parent)
    return written


def copy_read_beside(target: Path, clone: Path) -> None:
    """Give the edition the files its notebooks read as ``../<name>``, into a new folder only.

    Beside ``student/`` in the clone they are there already; elsewhere a folder that does
    not exist yet is made for them (an existing one is never written into).
    """
    for name in READ_BESIDE:
        beside = target.parent / name
        if beside.exists() or not (clone / name).exists():
            continue
        if beside.parent.exists():
            print(f"Note: notebook 08 reads ../{name}; copy it to {beside} for that cell.")
            continue
        beside.parent.mkdir(parents=True)
        shutil.copy2(clone / name, beside)
        print(f"Copied {name} to {beside} (a notebook reads it as ../{name}).")


def main(argv: list[str]) -> int:
    """``python -m helpers student [DIR]``: write the student edition into DIR."""
    target = Path(argv[0] if argv else DEFAULT_DIR)
    written = write_edition(target)
    print(
        f"Wrote {len(written)} student notebooks to {target}: solutions removed, "
        "the outputs of exercises and checks cleared."
    )
    return 0
