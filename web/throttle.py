"""Failed log-ins slow a password guesser down: after a few failures a name (or an address) waits.

Counted per name (a guesser trying one account from many addresses) and per client address (one address
trying many names). While a name or an address waits, a log-in is refused without checking its password,
so waiting out the lock is the only way on; a success clears the name's count. Kept in the server's memory:
`postprod serve` is one process, and a restart forgets the counts (the passwords are argon2 hashes, slow to
try anyway).
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

NAME_FAILURES = 5  # failures of one name within WINDOW before it waits
ADDRESS_FAILURES = 20  # failures from one address within WINDOW (several people behind one NAT)
WINDOW = 15 * 60.0
LOCK = 15 * 60.0


@dataclass
class _Count:
    failures: list[float] = field(default_factory=list)
    locked_until: float = 0.0


class LoginThrottle:
    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self._counts: dict[tuple[str, str], _Count] = {}

    def wait_seconds(self, name: str, address: str) -> int:
        """Whole seconds before `name` may try again from `address`; 0 when it may now."""
        now = self._clock()
        with self._lock:
            left = max((c.locked_until - now for c in self._of(name, address) if c), default=0.0)
        return math.ceil(left) if left > 0 else 0

    def failed(self, name: str, address: str) -> None:
        now = self._clock()
        with self._lock:
            for key, limit in ((("name", _key(name)), NAME_FAILURES), (("address", address), ADDRESS_FAILURES)):
                count = self._counts.setdefault(key, _Count())
                count.failures = [t for t in count.failures if now - t < WINDOW] + [now]
                if len(count.failures) >= limit:
                    count.locked_until, count.failures = now + LOCK, []

    def succeeded(self, name: str) -> None:
        with self._lock:
            self._counts.pop(("name", _key(name)), None)

    def _of(self, name: str, address: str) -> list[_Count | None]:
        return [self._counts.get(("name", _key(name))), self._counts.get(("address", address))]


def _key(name: str) -> str:
    return name.strip().casefold()
