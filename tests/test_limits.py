"""The network-facing limits: token buckets never let more through than their rate allows, and forget idle keys."""

from __future__ import annotations

from collections import Counter

from hypothesis import given
from hypothesis import strategies as st

from netmon.limits import RateLimiter

arrivals = st.lists(st.tuples(st.integers(0, 20), st.floats(0, 0.05)), min_size=1, max_size=400)


@given(arrivals, st.floats(1, 100), st.integers(1, 50), st.floats(1, 200), st.integers(1, 100))
def test_buckets_bound_what_passes(steps, rate, burst, total_rate, total_burst):
    limiter = RateLimiter(rate, burst, total_rate, total_burst, remember=8)
    now, passed, per_key = 0.0, 0, Counter()
    first: dict[int, float] = {}
    for key, gap in steps:
        now += gap
        first.setdefault(key, now)
        if limiter.allow(key, now):
            passed += 1
            per_key[key] += 1
    assert passed <= total_burst + total_rate * now + 1e-6
    for key, n in per_key.items():
        # a forgotten key comes back with a full bucket: at most one burst per refill time on top of the rate
        refills = 1 + (now - first[key]) * rate / burst
        assert n <= burst * refills + rate * (now - first[key]) + 1e-6
    assert len(limiter) <= 8


def test_a_flood_from_many_keys_keeps_memory_bounded():
    limiter = RateLimiter(1.0, 1.0, 1e9, 1e9, remember=100)
    for n in range(10_000):
        limiter.allow(f"198.51.100.{n}", n * 1e-4)
    assert len(limiter) <= 100
