"""Counter arithmetic: wraps, reboots, resets; never negative, never a spike."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from netmon.counters import CounterSample, counter_delta, rebooted

M32 = 2**32
M64 = 2**64


def s(value, at, uptime=None, disc=None):
    return CounterSample(value, at, uptime, disc)


def test_first_sample_is_a_baseline():
    d = counter_delta(None, s(5, 0), 64)
    assert (d.value, d.reason) == (0, "first")


def test_counter32_wrap():
    d = counter_delta(s(M32 - 100, 0, 1000), s(50, 60, 7000), 32, max_rate=1e9 / 8)
    assert (d.value, d.reason) == (150, "wrap")


def test_counter64_large_values_are_exact():
    d = counter_delta(s(2**63 - 10, 0), s(2**63 + 5, 60), 64)
    assert d.value == 15


def test_counter64_going_back_is_a_reset_not_a_wrap():
    d = counter_delta(s(10_000, 0, 1000), s(20, 60, 7000), 64)
    assert (d.value, d.reason) == (0, "reset")


def test_reboot_gives_zero_even_if_counter_looks_like_it_grew():
    # sysUpTime went from 10 days to 30 s: whatever the counter says, this interval is unknown.
    d = counter_delta(s(100, 0, 86_400_000), s(5_000_000, 60, 3_000), 64)
    assert (d.value, d.reason) == (0, "reboot")


def test_counter32_cleared_without_reboot_is_not_a_huge_wrap():
    d = counter_delta(s(3_000_000, 0, 1000), s(10, 60, 7000), 32)
    assert (d.value, d.reason) == (0, "implausible")


def test_discontinuity_time_change():
    d = counter_delta(s(100, 0, 1000, 0), s(200, 60, 7000, 6500), 64)
    assert (d.value, d.reason) == (0, "discontinuity")


def test_spike_above_line_rate_is_dropped():
    # 1 Gb/s for 60 s is at most 7.5e9 octets; 1e12 is a bogus jump.
    d = counter_delta(s(0, 0, 1000), s(10**12, 60, 7000), 64, max_rate=1e9 / 8)
    assert (d.value, d.reason) == (0, "implausible")


def test_uptime_wrap_after_497_days_is_not_a_reboot():
    prev = M32 - 1000  # 10 s before the TimeTicks wrap
    assert not rebooted(prev, 5000, 60.0)  # 60 s later: 50 s past the wrap
    assert rebooted(prev, 3_000, 600.0)  # 10 min later it should be near 59,000
    assert rebooted(500_000, 100, 60.0)
    assert not rebooted(500_000, 510_000, 60.0)  # a little ahead of the wall clock is fine


def test_reboot_during_a_long_outage_is_caught():
    # Down for two hours, rebooted along the way: uptime grew, but far less than the wall clock.
    assert rebooted(100_000, 200_000, 7200.0)
    d = counter_delta(s(2**40, 0, 100_000), s(2**40 + 5 * 10**9, 7200, 200_000), 64, max_rate=1e9 / 8)
    assert (d.value, d.reason) == (0, "reboot")


def test_counter32_clear_on_fast_link_is_not_a_wrap():
    # 1 Gb/s could carry 4 GB in a minute, but a Counter32 "wrap" of more than half
    # its range cannot be told from "clear counters": no spike.
    d = counter_delta(s(1000, 0, 100), s(10, 60, 6100), 32, max_rate=1e9 / 8)
    assert (d.value, d.reason) == (0, "implausible")


def test_bad_width_rejected():
    with pytest.raises(ValueError):
        counter_delta(None, s(1, 0), 16)


increments = st.lists(st.integers(min_value=0, max_value=2**31), min_size=1, max_size=40)


@given(start=st.integers(min_value=0, max_value=M32 - 1), steps=increments)
@settings(max_examples=300)
def test_counter32_sum_of_deltas_recovers_true_traffic(start, steps):
    """With increments below the line-rate bound, wraps are undone exactly."""
    true_total, raw, t = 0, start, 0.0
    prev = s(raw, t, 0)
    got = 0
    for inc in steps:
        t += 60
        raw = (raw + inc) % M32
        true_total += inc
        cur = s(raw, t, int(t * 100))
        d = counter_delta(prev, cur, 32, max_rate=2**31 / 60)
        got += d.value
        prev = cur
    assert got == true_total


@given(
    values=st.lists(st.integers(min_value=0, max_value=M64 - 1), min_size=2, max_size=30),
    uptimes=st.lists(st.one_of(st.none(), st.integers(min_value=0, max_value=M32 - 1)), min_size=30, max_size=30),
    bits=st.sampled_from([32, 64]),
    rate=st.one_of(st.none(), st.floats(min_value=1, max_value=1e10)),
)
@settings(max_examples=500)
def test_never_negative_never_above_bound(values, uptimes, bits, rate):
    prev = None
    for i, v in enumerate(values):
        cur = s(v % (2**bits), i * 60.0, uptimes[i])
        d = counter_delta(prev, cur, bits, max_rate=rate)
        assert d.value >= 0
        if rate is not None:
            assert d.value <= rate * 60 * 1.5
        if bits == 32:
            assert d.value <= 2**31  # never more than half the range: no wrap-or-clear guess
        prev = cur


@given(ticks=st.integers(min_value=0, max_value=M32 - 1), elapsed=st.floats(min_value=0, max_value=86400))
def test_uptime_that_advanced_normally_is_never_a_reboot(ticks, elapsed):
    cur = int(ticks + elapsed * 100) % M32
    assert not rebooted(ticks, cur, elapsed)


@given(
    ticks=st.integers(min_value=0, max_value=M32 - 1),
    elapsed=st.floats(min_value=1, max_value=86400),
    since_boot=st.floats(min_value=0, max_value=0.9),
)
def test_uptime_well_behind_the_wall_clock_is_a_reboot(ticks, elapsed, since_boot):
    """Rebooted some time in the interval: uptime is at most 90 % of the elapsed time."""
    cur = int(elapsed * 100 * since_boot)
    expected = (ticks + int(elapsed * 100)) % M32
    assert rebooted(ticks, cur, elapsed) or (expected - cur) % M32 <= max(1000, elapsed * 5)
