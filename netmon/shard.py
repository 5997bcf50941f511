"""Shards: which devices one ``netmon run`` of N polls, by the rule Prometheus' ``hashmod`` relabeling uses.

A device belongs to shard ``md5(hostname)`` mod N, the digest's last 8 bytes
read as a big-endian unsigned 64-bit number (Prometheus
``model/relabel/relabel.go``, action ``hashmod``). The same rule on both sides
means a Prometheus configuration can split or label targets exactly as the
netmon shards split the polling (docs/scaling.md).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Protocol, TypeVar

# Far beyond any city; a typo such as 0/10000 should be refused, not quietly leave almost every shard empty.
MAX_SHARDS = 1024


def shard_of(hostname: str, n: int) -> int:
    """The shard (0..n-1) of ``hostname`` among ``n``: Prometheus' ``hashmod`` of the same string."""
    if n < 1:
        raise ValueError(f"the number of shards must be at least 1, not {n}")
    digest = hashlib.md5(hostname.encode(), usedforsecurity=False).digest()
    # The last 8 bytes, as Prometheus does "to give the same result as earlier versions".
    return int.from_bytes(digest[8:], "big") % n


@dataclass(frozen=True)
class Shard:
    """Shard ``index`` of ``count`` (written ``index/count``, as on the command line)."""

    index: int
    count: int

    def __post_init__(self) -> None:
        if not 1 <= self.count <= MAX_SHARDS:
            raise ValueError(f"{self}: the number of shards must be in 1..{MAX_SHARDS}")
        if not 0 <= self.index < self.count:
            raise ValueError(f"{self}: the shard must be in 0..{self.count - 1} (K < N)")

    def __str__(self) -> str:
        return f"{self.index}/{self.count}"

    def holds(self, hostname: str) -> bool:
        return shard_of(hostname, self.count) == self.index


def parse_shard(text: object) -> Shard:
    """``"K/N"`` -> Shard(K, N); ValueError saying what is wrong (the caller names the file or flag)."""
    if not isinstance(text, str):  # YAML reads 1/2 as a string, but 1 as a number: that is not a shard
        raise ValueError(f"shard: {text!r} is not of the form K/N (e.g. 0/4)")
    index, sep, count = text.strip().partition("/")
    if not sep or not index.strip().isdigit() or not count.strip().isdigit():
        raise ValueError(f"shard: {text!r} is not of the form K/N (e.g. 0/4)")
    try:
        return Shard(int(index), int(count))
    except ValueError as exc:
        raise ValueError(f"shard: {exc}") from None  # "shard: 2/2: the shard must be in 0..1 (K < N)"


class _Named(Protocol):
    @property
    def hostname(self) -> str: ...


Named = TypeVar("Named", bound=_Named)


def in_shard(devices: Iterable[Named], shard: Shard | None) -> list[Named]:
    """The devices of ``shard`` (all of them when there is no shard), in their order."""
    if shard is None:
        return list(devices)
    return [d for d in devices if shard.holds(d.hostname)]
