"""Bounded fuzz suites for every input that comes from the network or a file.

Each target gets random bytes and mutations (bit flips, truncations, insertions, repeats) of valid inputs, and
must either accept them or refuse them with its own error type: never another exception, never a hang, never a
secret or a raw identifier where it must not be. ``NETMON_FUZZ_EXAMPLES`` sets the examples per target (200 in
CI; ``scripts/soak`` runs 100,000).
"""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

EXAMPLES = int(os.environ.get("NETMON_FUZZ_EXAMPLES", "200"))
FUZZ = settings(max_examples=EXAMPLES, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])


@st.composite
def mutated(draw, seeds: list[bytes]) -> bytes:
    """A valid input, then up to eight edits: flip a bit, cut, insert, duplicate a slice, overwrite a byte."""
    data = bytearray(draw(st.sampled_from(seeds)))
    for _ in range(draw(st.integers(0, 8))):
        if not data:
            data += draw(st.binary(min_size=1, max_size=8))
            continue
        at = draw(st.integers(0, len(data) - 1))
        edit = draw(st.sampled_from(("flip", "cut", "insert", "repeat", "byte")))
        if edit == "flip":
            data[at] ^= 1 << draw(st.integers(0, 7))
        elif edit == "cut":
            del data[at:]
        elif edit == "insert":
            data[at:at] = draw(st.binary(min_size=1, max_size=8))
        elif edit == "repeat":
            data[at:at] = data[at : at + draw(st.integers(1, 16))] * draw(st.integers(1, 4))
        else:
            data[at] = draw(st.integers(0, 255))
    return bytes(data)


def inputs(seeds: list[bytes], max_size: int = 1500):
    """Random bytes or mutated seeds."""
    return st.one_of(st.binary(max_size=max_size), mutated(seeds))
