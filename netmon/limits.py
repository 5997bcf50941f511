"""Limits for what arrives from the network, each with a bounded memory.

- :class:`LogLimiter`: at most one log line per key (a packet's source, say)
  per interval. Listeners that drop packets must say so, but a flood (or a
  spoofed flood from many addresses) must neither fill the log nor grow the
  memory of who was logged: keys older than the interval are forgotten once
  more than ``remember`` are held.
- :class:`RateLimiter`: token buckets, one per key and one for all keys, so
  one noisy source neither floods the writer nor starves the quiet ones.

Each listener owns its own limiters.
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


class RateLimiter:
    """``rate`` per second per key (bursts of ``burst``), and ``total_rate`` (``total_burst``) for all keys together.

    A key unseen for long enough that its bucket refilled is forgotten once more than ``remember`` are held;
    under a flood from more keys than that, the total bucket still bounds what passes.
    """

    def __init__(self, rate: float, burst: float, total_rate: float, total_burst: float, remember: int = 4096) -> None:
        self.rate, self.burst, self.remember = rate, burst, remember
        self.total_rate, self.total_burst = total_rate, total_burst
        self._buckets: dict[Hashable, tuple[float, float]] = {}  # key -> (tokens, at)
        self._total = (total_burst, None)

    @staticmethod
    def _refill(tokens: float, at: float | None, now: float, rate: float, burst: float) -> float:
        return burst if at is None else min(burst, tokens + max(0.0, now - at) * rate)

    def allow(self, key: Hashable, now: float, cost: float = 1.0) -> bool:
        """Take ``cost`` tokens from the key's bucket and the total one; False (nothing taken) when either has
        too few. A key refused before it was remembered is not remembered: its bucket would be full anyway."""
        known = key in self._buckets
        tokens, at = self._buckets.get(key, (self.burst, None))
        tokens = self._refill(tokens, at, now, self.rate, self.burst)
        total = self._refill(*self._total, now, self.total_rate, self.total_burst)
        if tokens < cost or total < cost:
            if known:
                self._buckets[key] = (tokens, now)
            self._total = (total, now)
            return False
        if not known and len(self._buckets) >= self.remember:
            self._forget(now)
        self._buckets[key] = (tokens - cost, now)
        self._total = (total - cost, now)
        return True

    def _forget(self, now: float) -> None:
        full = self.burst / self.rate if self.rate > 0 else float("inf")
        self._buckets = {k: (t, at) for k, (t, at) in self._buckets.items() if now - at < full}
        if len(self._buckets) >= self.remember:  # more busy keys than remembered: the oldest half go
            keep = sorted(self._buckets.items(), key=lambda kv: kv[1][1])[len(self._buckets) // 2 :]
            self._buckets = dict(keep)

    def __len__(self) -> int:
        return len(self._buckets)
