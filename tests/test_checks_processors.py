"""The checks of the job processors (05, 06): the learner's file, run by real workers."""

from __future__ import annotations

import os
import sys
import textwrap
import uuid

import pytest

from helpers.checks.processors import check_notification_processor, check_progress_processor
from helpers.core.workers import registry_dir

PROCESSOR = """
def send_notification(phone_number, message):
    print(f"Sending notification to {phone_number}, with message: {message}")
"""

PROGRESS = """
from helpers.core.events import report_progress

BLACKLIST = ["4153518780", "4153518781"]


def send_notification_with_progress(phone_number, message):
    report_progress(0)
    if phone_number in BLACKLIST:
        raise Exception(f"Phone number {phone_number} is blacklisted")
    report_progress(50)
    print(f"Sending notification to {phone_number}, with message: {message}")
"""


@pytest.fixture
def module(tmp_path, monkeypatch):
    """Write a learner's file beside a fake notebook (the cwd); return a function that does."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.syspath_prepend(str(tmp_path))
    name = f"my_jobs_{uuid.uuid4().hex[:8]}"

    def write(source: str) -> str:
        (tmp_path / f"{name}.py").write_text(textwrap.dedent(source))
        return name

    yield write
    sys.modules.pop(name, None)


def assert_cleaned_up(raw, name: str) -> None:
    """No queue, job, registry or id counter of the check is left, and no worker runs."""
    assert not raw.keys(f"*check_{name}*")
    assert not [q for q in raw.smembers("rq:queues") if f"check_{name}".encode() in q]
    # the records of workers this process started (a kernel of an earlier test may still be
    # stopping its own, in the same session's home)
    assert not list(registry_dir().glob(f"workbook-{os.getpid()}-*.json"))


def not_yet(capsys, ok, *words: str) -> str:
    out = capsys.readouterr().out
    assert not ok and out.startswith("❌ Not yet: "), out
    assert out.count("\n") == 1 and "Traceback" not in out, out
    for word in words:
        assert word in out, out
    return out


# --- 05: send_notification in my_jobs.py --------------------------------------------------


def test_the_notification_solution_is_right_and_cleans_up(module, raw, capsys):
    ok = check_notification_processor(module(PROCESSOR), raw)
    out = capsys.readouterr().out
    assert ok and out.startswith("✅ Right: a real worker imported"), out
    assert_cleaned_up(raw, "notification_processor")


def test_the_notification_scaffold_prints_nothing(module, raw, capsys):
    ok = check_notification_processor(
        module("def send_notification(phone_number, message):\n    ...\n"), raw
    )
    not_yet(capsys, ok, "printed nothing")
    assert_cleaned_up(raw, "notification_processor")


def test_swapped_arguments_are_named(module, raw, capsys):
    swapped = PROCESSOR.replace("(phone_number, message)", "(message, phone_number)")
    not_yet(capsys, check_notification_processor(module(swapped), raw), "swapped")


def test_returning_the_line_instead_of_printing_it(module, raw, capsys):
    returned = PROCESSOR.replace("print(", "return (")
    not_yet(capsys, check_notification_processor(module(returned), raw), "returns the line")


def test_a_typo_in_the_line(module, raw, capsys):
    typo = PROCESSOR.replace("with message:", "with message")
    not_yet(
        capsys, check_notification_processor(module(typo), raw), "printed 'Sending", "punctuation"
    )


def test_a_job_that_raises_in_the_worker_gives_the_exception_last_line(module, raw, capsys):
    broken = PROCESSOR.replace("{phone_number}", "{phone}")
    out = not_yet(capsys, check_notification_processor(module(broken), raw), "failed in the worker")
    assert "NameError: name 'phone' is not defined" in out
    assert_cleaned_up(raw, "notification_processor")


def test_a_missing_file(module, raw, capsys):
    ok = check_notification_processor("my_jobs_that_nobody_wrote", raw)
    not_yet(capsys, ok, "no my_jobs_that_nobody_wrote.py", "%%writefile")


def test_a_file_that_does_not_import(module, raw, capsys):
    ok = check_notification_processor(module("def send_notification(phone_number, message)\n"), raw)
    not_yet(capsys, ok, "does not import (SyntaxError")


def test_a_function_missing_from_the_file(module, raw, capsys):
    other = PROCESSOR.replace("def send_notification", "def sendNotification")
    not_yet(capsys, check_notification_processor(module(other), raw), "has no function")


def test_a_function_defined_in_the_notebook_instead_of_the_file(module, raw, capsys, monkeypatch):
    cell = {"__name__": "__main__"}
    exec(PROCESSOR, cell)  # what a notebook cell defines
    monkeypatch.setattr(
        sys.modules["__main__"], "send_notification", cell["send_notification"], raising=False
    )
    ok = check_notification_processor(module("x = 1\n"), raw)
    not_yet(capsys, ok, "a notebook cell's function does not count")


def test_the_workbooks_function_imported_does_not_count(module, raw, capsys):
    imported = "from helpers.notifications import send_notification\n"
    not_yet(
        capsys, check_notification_processor(module(imported), raw), "write the function yourself"
    )


def test_an_edited_file_is_seen_at_once(module, raw, capsys):
    name = module("def send_notification(phone_number, message):\n    ...\n")
    assert not check_notification_processor(name, raw)
    module(PROCESSOR)
    assert check_notification_processor(name, raw)


# --- 06: send_notification_with_progress in my_progress_jobs.py ----------------------------


def test_the_progress_solution_is_right_on_two_workers_and_cleans_up(module, raw, capsys):
    ok = check_progress_processor(module(PROGRESS), raw)
    out = capsys.readouterr().out
    assert ok and "on 2 workers" in out, out
    assert_cleaned_up(raw, "progress_processor")


def test_the_progress_scaffold_is_not_yet(module, raw, capsys):
    scaffold = """
    from helpers.core.events import report_progress

    BLACKLIST = ["4153518780", "4153518781"]


    def send_notification_with_progress(phone_number, message):
        ...  # your code here
    """
    not_yet(capsys, check_progress_processor(module(scaffold), raw))
    assert_cleaned_up(raw, "progress_processor")


def test_no_progress_0_before_failing(module, raw, capsys):
    late = PROGRESS.replace("    report_progress(0)\n", "").replace(
        "    report_progress(50)\n", "    report_progress(0)\n    report_progress(50)\n"
    )
    not_yet(capsys, check_progress_processor(module(late), raw), "without reporting 0% first")


def test_progress_50_before_the_blacklist_test(module, raw, capsys):
    early = PROGRESS.replace("    report_progress(50)\n", "").replace(
        "    report_progress(0)\n", "    report_progress(0)\n    report_progress(50)\n"
    )
    not_yet(capsys, check_progress_processor(module(early), raw), "reached 50%")


def test_a_wrong_message(module, raw, capsys):
    wrong = PROGRESS.replace("is blacklisted", "is black-listed")
    not_yet(capsys, check_progress_processor(module(wrong), raw), "must be exactly")


def test_returning_the_error_instead_of_raising_it(module, raw, capsys):
    returned = PROGRESS.replace("raise Exception", "return Exception")
    not_yet(capsys, check_progress_processor(module(returned), raw), "raise it instead")


def test_one_blacklisted_number_forgotten(module, raw, capsys):
    forgot = PROGRESS.replace(', "4153518781"', "")
    not_yet(capsys, check_progress_processor(module(forgot), raw), "4153518781 completed")


def test_report_progress_not_imported(module, raw, capsys):
    no_import = PROGRESS.replace("from helpers.core.events import report_progress\n", "")
    out = not_yet(capsys, check_progress_processor(module(no_import), raw), "failed in the worker")
    assert "NameError: name 'report_progress' is not defined" in out


def test_sending_to_a_blacklisted_number(module, raw, capsys):
    sends_first = PROGRESS.replace(
        "    report_progress(0)\n",
        "    report_progress(0)\n"
        '    print(f"Sending notification to {phone_number}, with message: {message}")\n',
    ).replace(
        '    report_progress(50)\n    print(f"Sending', '    report_progress(50)\n    (f"Sending'
    )
    not_yet(capsys, check_progress_processor(module(sends_first), raw), "sent the notification")


def test_printing_before_progress_50_is_accepted(module, raw, capsys):
    send = '    print(f"Sending notification to {phone_number}, with message: {message}")\n'
    progress = "    report_progress(50)\n"
    swapped = PROGRESS.replace(progress + send, send + progress)
    assert swapped != PROGRESS
    assert check_progress_processor(module(swapped), raw), capsys.readouterr().out


# --- 06: the desk runs the learner's processor; the worker panel folds tracebacks ----------


def test_the_desk_runs_the_learners_processor(module, raw, queue):
    from helpers.widgets.job_desk import JobDesk

    name = module(PROGRESS)
    function = __import__(name).send_notification_with_progress
    desk = JobDesk(raw, queue.name, workers=2, seconds=0.2, function=function)
    try:
        assert desk.run_samples(timeout=30) == "9 completed, 2 failed"
        jobs = desk.creator.created
        assert {job.func_name for job in jobs} == {f"{name}.send_notification_with_progress"}
        assert all(not job.kwargs for job in jobs)  # no seconds= for a function of one's own
        errors = [o["text"] for o in desk.workers.out.outputs if o["name"] == "stderr"]
        assert len(errors) == 2 and all(
            text.count("\n") == 1 and " failed: Exception: Phone number 415351878" in text
            for text in errors
        ), errors
    finally:
        desk.workers.stop()
        desk.board.stop()


def test_the_worker_panel_folds_a_traceback_into_one_line():
    from helpers.widgets.worker_panel import TracebackFolder

    shown = []
    fold = TracebackFolder(shown.append)
    for line in [
        "13:30:03 Worker w-1: job push_notification_code_2-12: exception raised while executing"
        " (helpers.notifications.send_notification_with_progress)",
        "Traceback (most recent call last):",
        '  File "/x/rq/job.py", line 1539, in _execute',
        "    result = self.func(*self.args, **self.kwargs)",
        "             ^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^",
        "helpers.notifications.Blacklisted: Phone number 4153518780 is blacklisted",
        "",
        "13:30:04 Worker w-1: a warning",
    ]:
        fold(line)
    assert shown == [
        "13:30:03 job #12 (push_notification_code_2-12) failed: "
        "helpers.notifications.Blacklisted: Phone number 4153518780 is blacklisted",
        "13:30:04 Worker w-1: a warning",
    ]
