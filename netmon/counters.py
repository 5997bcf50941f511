"""Counter arithmetic: successive raw SNMP counter samples -> safe deltas.

The rules, in order (the first that applies wins):

1. no previous sample: no delta (``first``), the sample is the baseline;
2. the device restarted: sysUpTime advanced clearly less than the wall
   clock did (it went back, or a reboot during a long outage left it
   smaller than expected); the 497-day TimeTicks wrap is not a restart:
   0 (``reboot``);
3. ifCounterDiscontinuityTime changed: 0 (``discontinuity``);
4. the counter grew: the difference (``ok``);
5. it went back: a Counter32 is taken to have wrapped once (``wrap``); a
   Counter64 cannot wrap in practice, so it was reset (``reset``, 0);
6. a delta above what the link could carry in the elapsed time, or a
   Counter32 move of more than half its range (a wrap cannot be told from
   a counter clear past that), is not believed (``implausible``, 0).

A rule that drops a delta loses at most one interval of traffic. That is
the trade: never a negative, never a spike, so reports and Prometheus
``rate()`` on the totals we expose stay truthful. The price of the
half-range rule: a 32-bit-only interface carrying more than 2**31 octets
in one interval (286 Mb/s over a minute) is under-counted; such links have
64-bit counters on any device built this century.
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
    """True when sysUpTime advanced clearly less than the wall clock did.

    The expected value is the previous one plus the elapsed time, modulo
    2**32 (TimeTicks wrap after 497 days). Behind the expectation by more
    than 10 s or 5 % means a restart, whether the uptime went backwards or a
    reboot during a long outage left it merely smaller than expected. A
    little ahead is clock drift; ahead by more than a minute or the whole
    interval is not the same uptime any more (a swapped device): a restart too.
    """
    if prev_ticks is None or cur_ticks is None:
        return False
    elapsed_ticks = max(elapsed_s, 0.0) * 100
    expected = (prev_ticks + int(elapsed_ticks)) % TICKS_MODULUS
    behind = (expected - cur_ticks) % TICKS_MODULUS
    ahead = (cur_ticks - expected) % TICKS_MODULUS
    return behind > max(1000.0, elapsed_ticks * 0.05) and ahead > max(6000.0, elapsed_ticks)


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
    if max_rate is not None and max_rate > 0 and delta > max_rate * max(elapsed, 1.0) * RATE_SLACK:
        return Delta(0, "implausible")
    if bits == 32 and delta > modulus // 2:
        # A Counter32 that moved more than half its range in one interval cannot be
        # told from a cleared counter: do not believe it, whatever the line rate.
        return Delta(0, "implausible")
    return Delta(delta, reason)
