"""Queuing System in Python: the package behind the workbook's notebooks.

Its layers (``tests/test_layers.py`` holds them to it): the foundation imports only itself,
the lessons the foundation, and checks, widgets and the command line those two:

- ``helpers.core``: the foundation (the Redis server and connections, worker processes,
  job events, lifecycle, errors);
- the lessons, one module per lesson, with the course's names (their ``__all__`` is what
  the notebooks import): ``install`` (task 0), ``client`` (1–4), ``pubsub`` (5),
  ``notifications`` (the job functions of 6–9), ``job_creation`` and ``kue_log`` (6–10),
  ``testmode`` (11), ``stock`` (12), ``seats`` and ``seat_app`` (13); ``breaking`` (notebook
  11, beyond the course);
- ``helpers.checks``: the self-checks, one module per lesson;
- ``helpers.widgets``: one module per widget;
- ``helpers.cli``: ``python -m helpers ...``.
"""

from helpers.core.lifecycle import cleanup
from helpers.core.server import connect, raw_connection, redis_url

__all__ = ["cleanup", "connect", "finish", "raw_connection", "redis_url"]


def finish():
    """The last cell of a notebook: what still runs, and a button that stops it."""
    from helpers.widgets.finish import finish as show  # ipywidgets only when a notebook asks

    return show()
