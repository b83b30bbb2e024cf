"""Reading notebooks for the tests: the notebook list, their text outputs, sanitising."""

from __future__ import annotations

import contextlib
import re
from pathlib import Path

import nbformat
import papermill
import pytest

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS_DIR = ROOT / "notebooks"
ARTIFACTS = ROOT / "tests" / "artifacts"
SANITIZE_FILE = ROOT / "tests" / "nbval_sanitize.cfg"
EXPECTED_DIR = ROOT / "tests" / "expected"
FAST_PARAMETERS = {"FAST": True}


def notebooks() -> list[Path]:
    """Every notebook of the workbook, in order."""
    return sorted(NOTEBOOKS_DIR.glob("[0-9][0-9]-*.ipynb"))


def sanitize_patterns() -> list[tuple[re.Pattern[str], str]]:
    """The regex/replace pairs of the nbval sanitize file."""
    pairs, regex = [], None
    for line in SANITIZE_FILE.read_text().splitlines():
        if line.startswith("regex: "):
            regex = re.compile(line[len("regex: ") :])
        elif line.startswith("replace: ") and regex is not None:
            pairs.append((regex, line[len("replace: ") :]))
            regex = None
    return pairs


def sanitize(text: str) -> str:
    """Apply the sanitize file to ``text``, as nbval does."""
    for regex, replacement in sanitize_patterns():
        text = regex.sub(replacement, text)
    return text


def output_text(output: dict) -> str:
    """The text of one output: stream text, text/plain, or the error's name and value."""
    if output["output_type"] == "stream":
        return output["text"]
    if output["output_type"] == "error":
        return f"{output['ename']}: {output['evalue']}\n"
    return output.get("data", {}).get("text/plain", "") + "\n"


def ignores_output(cell: nbformat.NotebookNode) -> bool:
    """True for cells whose output nbval does not compare: tagged, never a marker comment."""
    tags = cell.metadata.get("tags", [])
    return "nbval-ignore-output" in tags or "nbval-skip" in tags


def cell_texts(nb: nbformat.NotebookNode, compared_only: bool = False) -> list[str]:
    """The joined text outputs of every code cell, in order (only nbval-compared ones if asked)."""
    return [
        "".join(output_text(o) for o in cell.get("outputs", []))
        for cell in nb.cells
        if cell.cell_type == "code"
        and "injected-parameters" not in cell.metadata.get("tags", [])
        and not (compared_only and ignores_output(cell))
    ]


def expected_lines(notebook: Path) -> list[str]:
    """Lines that a run of ``notebook`` must print (``tests/expected/<name>.txt``)."""
    path = EXPECTED_DIR / f"{notebook.stem}.txt"
    if not path.exists():
        return []
    return [line for line in path.read_text().splitlines() if line.strip()]


def run_with_papermill(notebook: Path, label: str) -> nbformat.NotebookNode:
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
