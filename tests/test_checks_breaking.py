"""The self-checks of notebook 11: an idempotent job on real workers, a requeue by error."""

from __future__ import annotations

import uuid

import pytest
from rq import Queue, Worker

from helpers.breaking import SMS_KEY, requeue_failed
from helpers.checks import breaking as checks
from helpers.checks.verdict import on_check_database

HEADER = """
from rq import get_current_job

from helpers.breaking import send_sms
"""

SOLUTION = """
def send_once(phone_number, message, notification_id):
    r = get_current_job().connection
    if r.set(f"sent:{notification_id}", 1, nx=True, ex=24 * 3600):
        send_sms(r, phone_number, message)
"""

LUA_SOLUTION = '''
SEND = """
if redis.call('SET', KEYS[1], 1, 'NX', 'EX', 86400) then return 1 end
return 0
"""


def send_once(phone_number, message, notification_id):
    r = get_current_job().connection
    if r.eval(SEND, 1, "sms-sent:" + notification_id) == 1:
        send_sms(r, phone_number, message)
'''

SCAFFOLD = """
def send_once(phone_number, message, notification_id):
    r = get_current_job().connection
    send_sms(r, phone_number, message)
"""

SEND_THEN_MARK = """
def send_once(phone_number, message, notification_id):
    r = get_current_job().connection
    if r.get(f"sent:{notification_id}"):
        return
    send_sms(r, phone_number, message)
    r.set(f"sent:{notification_id}", 1)
"""

GET_THEN_SET = """
def send_once(phone_number, message, notification_id):
    r = get_current_job().connection
    if r.get(f"sent:{notification_id}"):
        return
    r.set(f"sent:{notification_id}", 1)
    send_sms(r, phone_number, message)
"""

NX_IGNORED = """
def send_once(phone_number, message, notification_id):
    r = get_current_job().connection
    r.set(f"sent:{notification_id}", 1, nx=True)
    send_sms(r, phone_number, message)
"""

KEYED_BY_PHONE = """
def send_once(phone_number, message, notification_id):
    r = get_current_job().connection
    if r.set(f"sent:{phone_number}", 1, nx=True):
        send_sms(r, phone_number, message)
"""

RAISES_ON_A_COPY = """
class AlreadySent(Exception):
    pass


def send_once(phone_number, message, notification_id):
    r = get_current_job().connection
    if not r.set(f"sent:{notification_id}", 1, nx=True):
        raise AlreadySent(notification_id)
    send_sms(r, phone_number, message)
"""

PUSHES_ITSELF = """
def send_once(phone_number, message, notification_id):
    r = get_current_job().connection
    if r.set(f"sent:{notification_id}", 1, nx=True):
        r.rpush("breaking:sms", f"to {phone_number}: {message}")
"""


@pytest.fixture
def job_module(tmp_path, monkeypatch):
    """Write a job module under a fresh name, importable here and by the workers."""
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setenv("PYTHONPATH", str(tmp_path))

    def write(body: str) -> str:
        name = f"my_idempotent_{uuid.uuid4().hex[:8]}"
        (tmp_path / f"{name}.py").write_text(HEADER + body)
        return name

    return write


def message(capsys) -> str:
    lines = capsys.readouterr().out.strip().splitlines()
    assert len(lines) == 1, lines
    return lines[0]


def check_db_keys(raw) -> set[bytes]:
    client = on_check_database(raw)
    try:
        return set(client.scan_iter())
    finally:
        client.close()


def test_the_solution_passes_and_leaves_nothing_behind(job_module, r, raw, capsys):
    before = check_db_keys(raw)
    raw.rpush(SMS_KEY, "the notebook's own SMS")
    assert checks.check_send_once(job_module(SOLUTION), r).ok is True
    assert message(capsys).startswith("✅ Right: each notification sent once")
    assert check_db_keys(raw) <= before
    # the notebook's SMS are untouched (another kernel on this Redis may be sending its own)
    assert b"the notebook's own SMS" in raw.lrange(SMS_KEY, 0, -1)
    assert Worker.count(connection=on_check_database(raw)) == 0
    raw.delete(SMS_KEY)


def test_a_lua_solution_passes(job_module, r, capsys):
    assert checks.check_send_once(job_module(LUA_SOLUTION), r).ok is True


def test_the_scaffold_sends_twice_when_the_job_runs_again(job_module, r, capsys):
    assert checks.check_send_once(job_module(SCAFFOLD), r).ok is False
    assert message(capsys) == (
        "❌ Not yet: notification n-3 was sent 2 times: a worker died just after sending, and "
        "RQ ran its job again; mark the id before sending, with SET NX, and send only when "
        "the mark is new."
    )


def test_marking_after_sending_sends_twice(job_module, r, capsys):
    assert checks.check_send_once(job_module(SEND_THEN_MARK), r).ok is False
    assert "notification n-3 was sent 2 times: a worker died just after sending" in message(capsys)


def test_ignoring_what_set_nx_answers_sends_twice(job_module, r, capsys):
    assert checks.check_send_once(job_module(NX_IGNORED), r).ok is False
    assert "notification n-3 was sent 2 times" in message(capsys)


def test_get_then_set_sends_twice_with_two_workers(job_module, r, capsys):
    assert checks.check_send_once(job_module(GET_THEN_SET), r).ok is False
    said = message(capsys)
    assert "was sent twice when two workers ran copies of its job at the same time" in said
    assert said.endswith("SET NX checks and marks in one step.")


def test_a_mark_per_phone_number_drops_another_notification(job_module, r, capsys):
    assert checks.check_send_once(job_module(KEYED_BY_PHONE), r).ok is False
    assert message(capsys) == (
        "❌ Not yet: notification n-2 was not sent: it has the same phone number and message "
        "as n-1 but an id of its own; mark each notification_id (one key per id)."
    )


def test_a_copy_that_raises_fails(job_module, r, capsys):
    assert checks.check_send_once(job_module(RAISES_ON_A_COPY), r).ok is False
    said = message(capsys)
    assert "after a worker died, the second run: the job of notification n-3 failed" in said
    assert said.endswith("send_once must return normally.")


def test_sending_without_the_gateway_is_named(job_module, r, capsys):
    assert checks.check_send_once(job_module(PUSHES_ITSELF), r).ok is False
    assert "send with send_sms(r, phone_number, message)" in message(capsys)


def test_a_missing_or_broken_file_is_named(job_module, r, capsys):
    assert checks.check_send_once("my_idempotent_not_there", r).ok is False
    assert "there is no my_idempotent_not_there.py" in message(capsys)
    assert checks.check_send_once(job_module("def send_once(\n"), r).ok is False
    assert "does not import: it raised SyntaxError" in message(capsys)
    assert checks.check_send_once(job_module("def send_it(): pass\n"), r).ok is False
    assert "has no function send_once" in message(capsys)


# Requeueing the GatewayDown failures.


def requeue_solution(queue: Queue) -> int:
    """The notebook's solution."""
    registry = queue.failed_job_registry
    requeued = 0
    for job_id in registry.get_job_ids():
        result = queue.fetch_job(job_id).latest_result()
        if "GatewayDown" in result.exc_string.strip().splitlines()[-1]:
            registry.requeue(job_id)
            requeued += 1
    return requeued


def test_requeue_solution_passes(r, capsys):
    assert checks.check_requeue(requeue_solution, r).ok is True
    assert message(capsys).startswith("✅ Right: the 3 GatewayDown failures are back")


def test_the_workbooks_requeue_passes(r, capsys):
    assert checks.check_requeue(lambda q: requeue_failed(q, "GatewayDown"), r).ok is True


def test_requeue_scaffold_fails(r, capsys):
    def scaffold(queue):
        raise NotImplementedError("requeue_gateway_failures is not written yet")

    assert checks.check_requeue(scaffold, r).ok is False
    assert message(capsys) == (
        "❌ Not yet: requeue_gateway_failures raised NotImplementedError: "
        "requeue_gateway_failures is not written yet."
    )


def test_requeueing_every_failure_fails(r, capsys):
    def everything(queue):
        registry = queue.failed_job_registry
        ids = registry.get_job_ids()
        for job_id in ids:
            registry.requeue(job_id)
        return len(ids)

    assert checks.check_requeue(everything, r).ok is False
    assert "requeue only the GatewayDown failures" in message(capsys)


def test_enqueueing_copies_fails(r, capsys):
    def copies(queue):
        jobs = [queue.fetch_job(i) for i in queue.failed_job_registry.get_job_ids()]
        gateway = [j for j in jobs if "GatewayDown" in j.latest_result().exc_string]
        for job in gateway:
            queue.enqueue(job.func, *job.args)
        return len(gateway)

    assert checks.check_requeue(copies, r).ok is False
    assert "the queue got new jobs, not the failed ones" in message(capsys)


def test_not_returning_the_count_fails(r, capsys):
    def silent(queue):
        requeue_solution(queue)

    assert checks.check_requeue(silent, r).ok is False
    assert message(capsys) == (
        "❌ Not yet: it returned None; return how many jobs it requeued (3)."
    )


def test_matching_the_message_of_a_timeout_fails(r, capsys):
    def by_word(queue):
        registry = queue.failed_job_registry
        requeued = 0
        for job_id in registry.get_job_ids():
            if "exceeded" not in queue.fetch_job(job_id).latest_result().exc_string:
                registry.requeue(job_id)
                requeued += 1
        return requeued

    assert checks.check_requeue(by_word, r).ok is False
    assert "requeue only the GatewayDown failures" in message(capsys)
