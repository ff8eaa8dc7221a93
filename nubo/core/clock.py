"""nubo's notion of now.

Services read time only from here, so tests can move it forward (``POST /_nubo/clock``) and see
time-based rules (retention, deduplication windows, the 60-second rules) without sleeping.
"""

from __future__ import annotations

import time
from typing import Callable


class Clock:
    def __init__(self) -> None:
        self._offset = 0.0
        self._subscribers: list[Callable[[], None]] = []

    def now(self) -> float:
        """Seconds since the epoch, including any advance."""
        return time.time() + self._offset

    def advance(self, seconds: float) -> None:
        if seconds < 0:
            raise ValueError("the clock only moves forward")
        self._offset += seconds
        for callback in list(self._subscribers):
            callback()

    def subscribe(self, callback: Callable[[], None]) -> None:
        """Call ``callback`` after every advance (waiters re-check their deadlines)."""
        self._subscribers.append(callback)

    @property
    def offset(self) -> float:
        return self._offset
