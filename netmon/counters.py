"""Counter arithmetic: successive raw SNMP counter samples -> safe deltas.

The rules, in order (the first that applies wins):

1. no previous sample: no delta (``first``), the sample is the baseline;
2. the device rebooted (sysUpTime went backwards, and not because the
   32-bit TimeTicks wrapped after 497 days): 0 (``reboot``);
3. ifCounterDiscontinuityTime changed: 0 (``discontinuity``);
4. the counter grew: the difference (``ok``);
5. it went back: a Counter32 is taken to have wrapped once (``wrap``); a
   Counter64 cannot wrap in practice, so it was reset (``reset``, 0);
6. a delta above what the link could carry in the elapsed time (or, with no
   known speed, a Counter32 move of more than half its range) is not
   believed (``implausible``, 0).

A rule that drops a delta loses at most one interval of traffic. That is
the trade: never a negative, never a spike, so reports and Prometheus
``rate()`` on the totals we expose stay truthful.
"""

from __future__ import annotations

from dataclasses import dataclass

TICKS_MODULUS = 2**32  # sysUpTime is a TimeTicks: hundredths of a second, 32 bits
COUNTER_MODULUS = {32: 2**32, 64: 2**64}
# Headroom over the nominal line rate: counters are read at slightly
# different instants from the wall clock we divide by.
RATE_SLACK = 1.5


@dataclass(frozen=True, slots=True)
class CounterSample:
    value: int
    at: float  # wall-clock seconds when the poll read it
    uptime_ticks: int | None = None  # sysUpTime read in the same poll
    discontinuity_ticks: int | None = None  # ifCounterDiscontinuityTime


@dataclass(frozen=True, slots=True)
class Delta:
    value: int
    reason: str  # first | ok | wrap | reboot | discontinuity | reset | implausible | clock


def rebooted(prev_ticks: int | None, cur_ticks: int | None, elapsed_s: float) -> bool:
    """True when sysUpTime went backwards for a reason other than its own wrap.

    TimeTicks wrap after 2**32 / 100 s (497 days). A wrap is recognised when
    the previous value plus the elapsed wall time crosses 2**32 and the new
    value lands near where that arithmetic predicts.
    """
    if prev_ticks is None or cur_ticks is None or cur_ticks >= prev_ticks:
        return False
    advanced = prev_ticks + max(elapsed_s, 0.0) * 100
    if advanced >= TICKS_MODULUS:
        expected = advanced - TICKS_MODULUS
        tolerance = max(1000.0, elapsed_s * 100 * 0.1)
        if abs(cur_ticks - expected) <= tolerance:
            return False
    return True


def counter_delta(
    prev: CounterSample | None,
    cur: CounterSample,
    bits: int,
    max_rate: float | None = None,
) -> Delta:
    """Increase of a counter between two samples.

    ``bits`` is 32 or 64. ``max_rate`` is the most the counter can grow per
    second (octets: speed / 8; packets: speed / 8 / 64), or ``None`` when
    unknown.
    """
    if bits not in COUNTER_MODULUS:
        raise ValueError(f"counter width must be 32 or 64, not {bits}")
    if prev is None:
        return Delta(0, "first")
    elapsed = cur.at - prev.at
    if elapsed < 0:
        return Delta(0, "clock")
    if rebooted(prev.uptime_ticks, cur.uptime_ticks, elapsed):
        return Delta(0, "reboot")
    if (
        prev.discontinuity_ticks is not None
        and cur.discontinuity_ticks is not None
        and prev.discontinuity_ticks != cur.discontinuity_ticks
    ):
        return Delta(0, "discontinuity")
    modulus = COUNTER_MODULUS[bits]
    diff = cur.value - prev.value
    if diff >= 0:
        delta, reason = diff, "ok"
    elif bits == 32:
        delta, reason = diff + modulus, "wrap"
    else:
        return Delta(0, "reset")
    if max_rate is not None and max_rate > 0:
        if delta > max_rate * max(elapsed, 1.0) * RATE_SLACK:
            return Delta(0, "implausible")
    elif bits == 32 and delta > modulus // 2:
        # Without a line rate, a Counter32 that moved more than half its range either
        # way in one interval cannot be told from a reset: do not believe it.
        return Delta(0, "implausible")
    return Delta(delta, reason)
