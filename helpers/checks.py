"""Self-checks for the exercises: each inspects the learner's answer against live Redis.

Every check prints one sentence, either that the answer is right or what is wrong with it,
and returns True or False, so a notebook cell shows the verdict and a test can assert it.
"""

from __future__ import annotations


def verdict(ok: bool, message: str) -> bool:
    """Print ``message`` after a mark that says right or not yet; return ``ok``."""
    print(f"{'✅ Right' if ok else '❌ Not yet'}: {message}")
    return ok


def check_atomic_reservation(reserve, r, rounds: int = 5, clients: int = 40) -> bool:
    """Race ``reserve(r, item)`` from many threads on Suitcase 650 (2 in stock): 2 must win."""
    import threading

    from helpers.stock import get_item_by_id, reserve_stock_by_id, stock_key

    item = get_item_by_id(3)
    for _ in range(rounds):
        reserve_stock_by_id(r, 3, 0)
        start = threading.Barrier(clients)
        results: list[object] = []

        def client(start: threading.Barrier = start, results: list[object] = results) -> None:
            start.wait()
            try:
                results.append(reserve(r, item))
            except Exception as exc:  # the verdict names it
                results.append(exc)

        threads = [threading.Thread(target=client) for _ in range(clients)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(30)
        errors = [x for x in results if isinstance(x, Exception)]
        if errors:
            reserve_stock_by_id(r, 3, 0)
            return verdict(False, f"it raised {type(errors[0]).__name__}: {errors[0]}")
        confirmed, stored = results.count(True), r.get(stock_key(3))
        stored = stored.decode() if isinstance(stored, bytes) else stored
        if confirmed != 2 or stored != "2":
            reserve_stock_by_id(r, 3, 0)
            return verdict(
                False,
                f"{clients} clients at once got {confirmed} reservations and item.3 says "
                f"{stored}; with 2 in stock both must be 2.",
            )
    reserve_stock_by_id(r, 3, 0)
    return verdict(
        True, f"{rounds} races of {clients} clients: exactly 2 reservations each time, never more."
    )
