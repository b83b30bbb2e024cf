"""Queuing System in Python: the package behind the workbook's notebooks."""

from helpers.lifecycle import cleanup
from helpers.server import connect, raw_connection, redis_url

__all__ = ["cleanup", "connect", "raw_connection", "redis_url"]
