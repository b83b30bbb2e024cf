"""``python -m helpers grade``: the solved notebook scores full marks, the student edition 0,
a half-done one the exercises it solved."""

from __future__ import annotations

import copy
import csv
import subprocess
import sys

import nbformat
import pytest
from nbtools import NOTEBOOKS_DIR

from helpers.cli.grade import (
    NOT_YET,
    RIGHT,
    Score,
    cell_verdict,
    exercise_names,
    exercise_verdicts,
    restore_checks,
    write_csv,
)
from helpers.cli.student import SOLUTION, exercise_checks, student_edition, tags

GRADED = ["01-redis-client.ipynb", "05-job-creator-and-processor.ipynb"]  # 2 exercises each


def teacher(name: str) -> nbformat.NotebookNode:
    return nbformat.read(NOTEBOOKS_DIR / name, as_version=4)


def half_done(name: str) -> nbformat.NotebookNode:
    """The student edition with the first exercise solved: its solution put back after its
    check cell, as a learner who pasted it there would."""
    solved = teacher(name)
    first = min(exercise_checks(solved))
    solution = []
    for cell in solved.cells[first + 1 :]:
        if cell.cell_type == "code" and SOLUTION not in tags(cell):
            break
        if cell.cell_type == "code":
            solution.append(copy.deepcopy(cell))
    nb = student_edition(solved)
    at = min(exercise_checks(nb)) + 1
    nb.cells[at:at] = solution
    return nb


def stream(text: str) -> nbformat.NotebookNode:
    return nbformat.v4.new_output("stream", name="stdout", text=text)


def test_a_cell_verdict_is_the_last_mark_it_printed():
    cell = nbformat.v4.new_code_cell("ok = check_x(f)")
    assert cell_verdict(cell) is None
    cell.outputs = [stream(f"{NOT_YET}: no.\n"), stream(f"worker line\n{RIGHT}: yes.\n")]
    assert cell_verdict(cell) is True
    cell.outputs.append(stream(f"{NOT_YET}: no again.\n"))
    assert cell_verdict(cell) is False


def test_the_marks_are_the_ones_the_checks_print(capsys):
    from helpers.checks.verdict import verdict

    verdict(True, "yes")
    verdict(False, "no")
    assert capsys.readouterr().out == f"{RIGHT}: yes\n{NOT_YET}: no\n"


def test_an_edited_or_deleted_check_cell_is_put_back_as_the_teacher_wrote_it():
    solved = teacher("01-redis-client.ipynb")
    nb = student_edition(solved)
    first, second = exercise_checks(nb)
    checks = [nb.cells[first].source, nb.cells[second].source]
    nb.cells[first].source = f'check_connect_client = print; print("{RIGHT}: trust me")'
    del nb.cells[second]
    restore_checks(nb, solved)
    assert [nb.cells[i].source for i in exercise_checks(nb)] == checks


def test_stored_outputs_score_the_teacher_full_and_the_edition_zero():
    for name in GRADED:
        names = exercise_names(teacher(name))
        assert len(names) == 2
        assert exercise_verdicts(teacher(name), names) == dict.fromkeys(names, True)
        assert exercise_verdicts(student_edition(teacher(name)), names) == dict.fromkeys(
            names, False
        )


def test_scores_are_written_one_row_per_exercise(tmp_path):
    scores = [Score("ada", "01-redis-client", "check_connect_client", 1)]
    write_csv(scores, tmp_path / "s.csv")
    assert (tmp_path / "s.csv").read_text().splitlines() == [
        "learner,notebook,exercise,points,max_points",
        "ada,01-redis-client,check_connect_client,1,1",
    ]


@pytest.mark.slow
@pytest.mark.notebook
def test_grade_scores_solved_full_student_edition_zero_half_done_part(tmp_path):
    learners = {
        "teacher": teacher,
        "student": lambda name: student_edition(teacher(name)),
        "half": half_done,
    }
    paths = []
    for learner, make in learners.items():
        (tmp_path / learner).mkdir()
        for name in GRADED:
            nbformat.write(make(name), tmp_path / learner / name)
            paths.append(str(tmp_path / learner / name))
    out = tmp_path / "scores.csv"
    done = subprocess.run(
        [sys.executable, "-m", "helpers", "grade", *paths, "--csv", str(out), "--fast"],
        capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    rows = list(csv.DictReader(out.open()))
    points: dict[str, int] = {}
    for row in rows:
        points[row["learner"]] = points.get(row["learner"], 0) + int(row["points"])
    assert len(rows) == 3 * 4 and points == {"teacher": 4, "student": 0, "half": 2}
    firsts = {exercise_names(teacher(name))[0] for name in GRADED}
    half = {row["exercise"]: int(row["points"]) for row in rows if row["learner"] == "half"}
    assert {e for e, p in half.items() if p} == firsts
    assert "teacher  01-redis-client  2/2" in done.stdout
    assert "half  05-job-creator-and-processor  1/2" in done.stdout
