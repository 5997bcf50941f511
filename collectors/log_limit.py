"""At most one log line per key (a packet's source, say) per interval, with a bounded memory.

Listeners that drop packets from the network must say so, but a flood (or a
spoofed flood from many addresses) must neither fill the log nor grow the
memory of who was logged: keys older than the interval are forgotten once
more than ``remember`` are held. Each listener owns its own limiter.
"""

from __future__ import annotations

from collections.abc import Hashable


class LogLimiter:
    def __init__(self, every: float = 60.0, remember: int = 4096):
        self.every, self.remember = every, remember
        self._last: dict[Hashable, float] = {}

    def allow(self, key: Hashable, now: float) -> bool:
        """True (and remembered) when ``key`` was not logged in the last ``every`` seconds."""
        if now - self._last.get(key, -self.every) < self.every:
            return False
        if len(self._last) > self.remember:
            self._last = {k: t for k, t in self._last.items() if now - t < self.every}
        self._last[key] = now
        return True

    def __len__(self) -> int:
        return len(self._last)
