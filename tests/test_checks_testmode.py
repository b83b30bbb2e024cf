"""The check of notebook 08: the learner's tests run against the right function and broken ones.

Each wrong test file below passes on the right ``create_push_notifications_jobs`` but lacks
exactly the assertion that catches one broken version, so each gets that version's sentence.
The scaffold and the solution are read from the notebook itself.
"""

from __future__ import annotations

import time

import nbformat
import pytest
import redis
from nbtools import NOTEBOOKS_DIR
from rq import Queue

from helpers.checks.mutants import MUTANTS, OTHER_QUEUE
from helpers.checks.testmode import BROKEN, check_job_tests
from helpers.core import server
from helpers.job_creation import reset_queue
from helpers.notifications import QUEUE_TASK_10
from helpers.testmode import spare_database_url

NOTEBOOK = NOTEBOOKS_DIR / "08-testing-jobs.ipynb"


def _written_file(tag: str) -> str:
    """The file that the notebook's cell tagged ``tag`` writes (``%%writefile my_job_tests.py``)."""
    nb = nbformat.read(NOTEBOOK, as_version=4)
    [cell] = [
        c for c in nb.cells if tag in c.metadata.get("tags", []) and "%%writefile" in c.source
    ]
    first, _, body = cell.source.partition("\n")
    assert first == "%%writefile my_job_tests.py"
    return body


SOLUTION = _written_file("solution")
SCAFFOLD = _written_file("exercise")

ERROR_TEST = """    with pytest.raises(Exception, match="Jobs is not an array"):
        create_push_notifications_jobs("nope", queue)
    assert queue.count == 0
"""
JOBS_TEST = """    create_push_notifications_jobs(JOBS, queue)
    jobs = queue.get_jobs()
    assert len(jobs) == 2
    for job, data in zip(jobs, JOBS):
        assert job.origin == "push_notification_code_3"
        assert job_data(job) == data
"""


def replaced(old: str, new: str) -> str:
    """The solution with ``old`` (which it must hold) replaced by ``new``."""
    assert old in SOLUTION
    return SOLUTION.replace(old, new)


# each broken version, and the solution without the assertion that catches it
LACKING = {
    "no_error": replaced(
        ERROR_TEST,
        """    try:
        create_push_notifications_jobs("nope", queue)
    except Exception as exc:
        assert str(exc) == "Jobs is not an array"
    assert queue.count == 0
""",
    ),
    "wrong_message": replaced(
        'pytest.raises(Exception, match="Jobs is not an array")', "pytest.raises(Exception)"
    ),
    "job_on_error": replaced(ERROR_TEST, ERROR_TEST.replace("    assert queue.count == 0\n", "")),
    "ignores_queue": replaced(
        JOBS_TEST,
        """    created = create_push_notifications_jobs(JOBS, queue)
    assert [job_data(job) for job in created] == JOBS
""",
    ),
    "swapped": replaced("        assert job_data(job) == data\n", ""),
    "only_first": replaced(
        JOBS_TEST,
        """    create_push_notifications_jobs(JOBS, queue)
    job = queue.get_jobs()[0]
    assert job.origin == "push_notification_code_3"
    assert job_data(job) == JOBS[0]
""",
    ),
}


@pytest.fixture
def write(tmp_path):
    """Write a test file into a folder of its own; return its path."""

    def write(text: str, name: str = "my_job_tests.py"):
        path = tmp_path / name
        path.write_text(text)
        return path

    return write


@pytest.fixture
def spare() -> redis.Redis:
    """The database of test mode, checked empty after each test."""
    client = redis.Redis.from_url(spare_database_url(server.redis_url()))
    yield client
    assert Queue(QUEUE_TASK_10, connection=client).count == 0
    assert Queue(OTHER_QUEUE, connection=client).count == 0
    client.close()


def test_every_broken_version_has_its_sentence_and_its_test():
    assert set(BROKEN) == set(MUTANTS) == set(LACKING)
    assert len(BROKEN) >= 5


def test_the_solution_is_right(write, spare, capsys):
    started = time.monotonic()
    assert check_job_tests(write(SOLUTION))
    assert time.monotonic() - started < 20
    assert capsys.readouterr().out.startswith("✅ Right:")


def test_the_scaffold_is_not_yet(write, spare, capsys):
    assert not check_job_tests(write(SCAFFOLD))
    out = capsys.readouterr().out
    assert out.startswith("❌ Not yet:")
    assert "none calls create_push_notifications_jobs" in out


@pytest.mark.parametrize("mutant", list(LACKING))
def test_tests_that_let_a_broken_version_through_get_its_sentence(mutant, write, spare, capsys):
    assert not check_job_tests(write(LACKING[mutant]))
    what, fix = BROKEN[mutant]
    assert capsys.readouterr().out == (
        f"❌ Not yet: your tests still pass when the function {what}: {fix}.\n"
    )


def test_a_test_that_fails_on_the_right_function_is_named(write, spare, capsys):
    text = replaced("assert len(jobs) == 2", "assert len(jobs) == 3")
    assert not check_job_tests(write(text))
    out = capsys.readouterr().out
    assert "test_create_two_new_jobs_to_the_queue fails on the right function" in out
    assert "(AssertionError: assert 2 == 3)" in out


def test_a_missing_file(tmp_path, capsys):
    assert not check_job_tests(tmp_path / "my_job_tests.py")
    assert capsys.readouterr().out == (
        "❌ Not yet: my_job_tests.py is missing: run the %%writefile cell first.\n"
    )


def test_a_file_that_does_not_import(write, spare, capsys):
    text = SOLUTION.replace("import create_push_notifications_jobs", "import create_push_jobs")
    assert not check_job_tests(write(text))
    out = capsys.readouterr().out
    assert "does not import: ImportError: cannot import name 'create_push_jobs'" in out


def test_a_file_without_tests(write, spare, capsys):
    assert not check_job_tests(write(SOLUTION.split("\n\ndef test_")[0]))
    assert "my_job_tests.py has no tests" in capsys.readouterr().out


def test_one_test_is_not_enough(write, spare, capsys):
    assert not check_job_tests(write(SOLUTION.split("\n\ndef test_create_")[0]))
    assert "there is one test: write two" in capsys.readouterr().out


def test_a_fixture_that_returns_instead_of_yielding_leaves_jobs(write, spare, capsys):
    text = replaced("        yield q", "        return q")
    assert not check_job_tests(write(text))
    assert "your tests leave 2 job(s) in the test-mode queue" in capsys.readouterr().out


OUTSIDE_IMPORTS = """from redis import Redis
from rq import Queue

from helpers import redis_url
from helpers.job_creation import reset_queue
from helpers.notifications import QUEUE_TASK_10
"""


def test_a_queue_outside_test_mode(write, spare, raw, capsys):
    text = OUTSIDE_IMPORTS + replaced(
        "    with queue_in_test_mode() as q:\n        yield q",
        "    q = Queue(QUEUE_TASK_10, connection=Redis.from_url(redis_url()))\n"
        "    yield q\n    reset_queue(q)",
    )
    try:
        assert not check_job_tests(write(text))
    finally:
        reset_queue(Queue(QUEUE_TASK_10, connection=raw))
    out = capsys.readouterr().out
    assert "create jobs on push_notification_code_3 on database 0, outside test mode" in out
