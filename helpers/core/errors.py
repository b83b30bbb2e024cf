"""Every error a learner can meet: a :class:`WorkbookError`, one line that says the fix.

A notebook shows such an error as its one line, without a traceback. Errors that a *job*
fails with (``Blacklisted``, ``NotEnoughSeats``) are not here: they are the lesson's
content, and their text is what the original course logs.
"""

from __future__ import annotations

from redis.exceptions import OutOfMemoryError


class WorkbookError(RuntimeError):
    """An error whose message says what went wrong and how to fix it, in one line."""

    def _render_traceback_(self) -> list[str]:
        """Show IPython users the one line, not a traceback."""
        return [f"{type(self).__name__}: {self}"]


class RedisUnavailable(WorkbookError):
    """No Redis can be reached or started; the message names the fixes."""


class UnsupportedPlatform(WorkbookError):
    """The workbook's own server cannot run on this system (Windows without WSL)."""


class InvalidRedisURL(WorkbookError):
    """The URL given for Redis is not one redis-py can use."""


class WrongTypeError(WorkbookError):
    """A command met a key that holds another type (Redis's WRONGTYPE error)."""


class AlreadyStarted(WorkbookError):
    """``start()`` was called on something that was started before."""


class Stopped(WorkbookError):
    """A listener, subscriber or worker was used after ``stop()``."""


class NoConfirmation(WorkbookError, TimeoutError):
    """Redis did not confirm a subscription in time."""


class NotInAJob(WorkbookError):
    """A job-side function was called outside a job that a worker runs."""


class NotAnArray(WorkbookError, TypeError):
    """``create_push_notifications_jobs`` was given something other than a list."""


class InvalidJob(WorkbookError, ValueError):
    """Job data or options a job cannot be created with."""


class PortInUse(WorkbookError):
    """The port asked for is taken by another program."""


class AppNotAnswering(WorkbookError):
    """A widget's web app does not answer at its URL."""


class MissingPackage(WorkbookError):
    """A package the workbook needs is not installed in this Python."""


class WrongFolder(WorkbookError):
    """A folder given to a command cannot be used; the message names the one to give."""


class RedisFull(WorkbookError, OutOfMemoryError):
    """Redis refused a write: it holds ``maxmemory`` already (and evicts nothing)."""


class NotImportable(WorkbookError, ValueError):
    """A job's function that a worker, another process, could not import by its name."""


class NotSerializable(WorkbookError, TypeError):
    """A job's argument that RQ cannot pickle into Redis, or that a worker could not unpickle."""
