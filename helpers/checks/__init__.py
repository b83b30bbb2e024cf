"""The self-checks, one module per lesson: each judges the learner's answer against live Redis.

Every check prints one sentence, either that the answer is right or what is wrong with it,
and returns a :class:`~helpers.checks.verdict.Verdict`, true when right. Import a check
from its lesson's module: ``from helpers.checks.client import check_read_hash``.
"""
