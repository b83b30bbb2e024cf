"""The foundation: the Redis server, worker processes, job events, lifecycle and errors.

Nothing here imports the lessons, the checks, the widgets or the command line; they build
on it. Each module holds one concern:

- :mod:`~helpers.core.errors`: every error a learner can meet, one line with the fix;
- :mod:`~helpers.core.home`: where the workbook keeps its files (``.workbook/``);
- :mod:`~helpers.core.waiting`: the one wait-until-deadline loop;
- :mod:`~helpers.core.processes`: process identity (pid and start time), trees, signals;
- :mod:`~helpers.core.server`: find or start the workbook's Redis, and connect to it;
- :mod:`~helpers.core.lifecycle`: "stop everything this kernel started" (``cleanup()``);
- :mod:`~helpers.core.workers`: :class:`WorkerProcess` and :class:`WorkerGroup`;
- :mod:`~helpers.core.worker_main`: what runs inside a worker process;
- :mod:`~helpers.core.recovery`: settling the job of a worker that died;
- :mod:`~helpers.core.events`: job events (progress, completed, failed) on the job side;
- :mod:`~helpers.core.listener`: the creator side's :class:`Listener`;
- :mod:`~helpers.core.webapp`, :mod:`~helpers.core.serving`, :mod:`~helpers.core.http`:
  Express-style JSON apps, serving them from a thread, and an HTTP client.
"""
