"""Accounting-Requests from a packet capture (scapy reads it): backfill after an outage, or replay a recording.

Each UDP datagram to the accounting port passes the listener's checks
(:func:`collectors.radius.listener.accept`: declared NAS by source address,
framing, authenticator, attributes) and becomes a record stamped with its
capture time. Nothing is answered. A capture from a NAS that retransmitted
holds the same request more than once: the store recognises the duplicates.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from pathlib import Path

from collectors.radius.listener import Batch, Dropped, NasTable, accept


class PcapError(Exception):
    pass


def read(
    path: str | Path, nases: NasTable, port: int = 1813, verify: bool = True, batch_size: int = 5000
) -> Iterator[Batch]:
    """Batches of records (and drop counts, last packet per NAS) from the capture, in capture order."""
    try:
        from scapy.error import Scapy_Exception
        from scapy.layers.inet import IP, UDP
        from scapy.layers.inet6 import IPv6
        from scapy.utils import PcapReader
    except ImportError as exc:  # pragma: no cover - scapy is a dependency
        raise PcapError(f"scapy is needed to read captures: {exc}") from None
    try:
        reader = PcapReader(str(path))
    except (OSError, Scapy_Exception) as exc:
        raise PcapError(f"{path}: not a readable pcap/pcapng capture: {exc}") from None
    batch = Batch()
    with reader:
        for frame in reader:
            if UDP not in frame or frame[UDP].dport != port:
                continue
            source = frame[IP].src if IP in frame else frame[IPv6].src if IPv6 in frame else None
            if source is None:
                continue
            at = float(frame.time)
            try:
                nas, _, record = accept(bytes(frame[UDP].payload), source, nases, at, verify=verify)
            except Dropped as drop:
                batch.counts[(drop.kind, drop.reason)] += 1
                continue
            batch.records.append(record)
            batch.last_packet[nas.name] = max(at, batch.last_packet.get(nas.name, at))
            if len(batch.records) >= batch_size:
                yield batch
                batch = Batch()
    if batch:
        yield batch


def summary(counts: Counter) -> str:
    """``N stored, M duplicates, dropped: reason n, ...`` for (type, result) counts."""
    stored = sum(n for (_, result), n in counts.items() if result == "ok")
    same = sum(n for (_, result), n in counts.items() if result == "duplicate")
    dropped: Counter = Counter()
    for (_, result), n in counts.items():
        if result not in ("ok", "duplicate", "ignored"):
            dropped[result] += n
    text = ", ".join(f"{r} {n}" for r, n in sorted(dropped.items())) or "none"
    return f"{stored} stored, {same} duplicates, dropped: {text}"
