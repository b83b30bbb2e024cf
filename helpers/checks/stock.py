"""The self-check of notebook 09: a reservation that never oversells under a burst."""

from __future__ import annotations

from helpers.checks.verdict import Verdict, verdict
from helpers.core.concurrency import at_once
from helpers.stock import get_item_by_id, set_reserved_stock, stock_key

__all__ = ["check_atomic_reservation"]


def check_atomic_reservation(reserve, r, rounds: int = 5, clients: int = 40) -> Verdict:
    """Race ``reserve(r, item)`` from many threads on Suitcase 650 (2 in stock): 2 must win."""
    item = get_item_by_id(3)
    for _ in range(rounds):
        set_reserved_stock(r, 3, 0)
        results = at_once(lambda: reserve(r, item), clients)
        errors = [x for x in results if isinstance(x, Exception)]
        if errors:
            set_reserved_stock(r, 3, 0)
            return verdict(False, f"it raised {type(errors[0]).__name__}: {errors[0]}")
        confirmed, stored = results.count(True), r.get(stock_key(3))
        stored = stored.decode() if isinstance(stored, bytes) else stored
        if confirmed != 2 or stored != "2":
            set_reserved_stock(r, 3, 0)
            return verdict(
                False,
                f"{clients} clients at once got {confirmed} reservations and item.3 says "
                f"{stored}; with 2 in stock both must be 2.",
            )
    set_reserved_stock(r, 3, 0)
    return verdict(
        True, f"{rounds} races of {clients} clients: exactly 2 reservations each time, never more."
    )
