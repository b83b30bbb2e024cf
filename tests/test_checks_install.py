"""The self-check of notebook 00: right on the solution, one clear reason on wrong answers."""

from __future__ import annotations

from pathlib import Path

import pytest

from helpers.checks.install import check_save_key

RIGHT = "✅ Right: "
WRONG = "❌ Not yet: "


def save_key(r, key, value):  # the solution cell of notebook 00
    r.set(key, value)
    r.save()
    return Path(r.config_get("dir")["dir"]) / r.config_get("dbfilename")["dbfilename"]


def scaffold(r, key, value): ...


def never_saves(r, key, value):
    r.set(key, value)
    return Path(r.config_get("dir")["dir"]) / "dump.rdb"


def returns_the_folder(r, key, value):
    save_key(r, key, value)
    return r.config_get("dir")["dir"]


def hard_codes_the_answer(r, key, value):
    r.set("Workbook", "Python")
    r.save()
    return "dump.rdb"


def guesses_the_path(r, key, value):
    save_key(r, key, value)
    return "dump.rdb"


def one_line(capsys) -> str:
    out = capsys.readouterr().out
    assert out.count("\n") == 1, out
    return out.strip()


def test_the_solution_passes_and_leaves_no_key(r, capsys):
    assert check_save_key(save_key, r).ok is True
    assert (
        one_line(capsys)
        == RIGHT + "save_key stores the key, writes dump.rdb, and says where it is."
    )
    assert r.keys("check:*") == []


@pytest.mark.parametrize(
    ("answer", "reason"),
    [
        (scaffold, "the key it was given is not in Redis: set it with r.set(key, value)"),
        (never_saves, "the key is in Redis but not in dump.rdb yet: call r.save() after the set."),
        (returns_the_folder, "it returned the folder"),
        (hard_codes_the_answer, "the key it was given is not in Redis"),
        (guesses_the_path, "it returned 'dump.rdb', but the server writes"),
        (lambda r, key, value: r.set(key, value) and r.save(), "it returned a bool"),
        ("nope", "save_key is not a function"),
    ],
)
def test_a_wrong_answer_gets_its_reason(r, capsys, answer, reason):
    assert check_save_key(answer, r).ok is False
    line = one_line(capsys)
    assert line.startswith(WRONG) and reason in line, line
    assert r.keys("check:*") == []


def test_an_answer_on_a_global_client_is_refused(r, capsys):
    def on_the_global_client(_, key, value):
        return save_key(r, key, value)

    try:
        assert check_save_key(on_the_global_client, r).ok is False
        assert "the key it was given is not in Redis" in one_line(capsys)
    finally:
        r.delete(*r.keys("check:*"))
