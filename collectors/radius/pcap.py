"""Accounting-Requests from captured traffic (scapy): a capture file, or live from an interface.

A file: backfill after an outage, or replay a recording. Live (``sniff``):
where netmon is not the accounting server itself but sees a copy of the
traffic (a mirror port, or the RADIUS server's own host), scapy captures
the requests going to the accounting port (BPF ``inbound and udp dst port
1813``, compiled by tcpdump). Either way each datagram passes the listener's
checks (:func:`collectors.radius.listener.accept`: declared NAS by source
address, framing, authenticator, attributes) and becomes a record stamped
with its capture time. Nothing is answered: the real server does that. A
NAS's retransmissions are captured too; the store recognises them.
"""

from __future__ import annotations

import threading
from collections import Counter, deque
from collections.abc import Callable, Iterator
from pathlib import Path

from collectors.radius.listener import Batch, Dropped, NasTable, accept


class PcapError(Exception):
    pass


def read(
    path: str | Path, nases: NasTable, port: int = 1813, verify: bool = True, batch_size: int = 5000
) -> Iterator[Batch]:
    """Batches of records (and drop counts, last packet per NAS) from the capture, in capture order."""
    from scapy.error import Scapy_Exception
    from scapy.layers import inet, inet6, l2  # noqa: F401 - importing them registers the link and IP layers
    from scapy.utils import PcapReader

    try:
        reader = PcapReader(str(path))
    except (OSError, Scapy_Exception) as exc:
        raise PcapError(f"{path}: not a readable pcap/pcapng capture: {exc}") from None
    batch = Batch()
    with reader:
        for frame in reader:
            add(batch, frame, nases, port, verify)
            if len(batch.records) >= batch_size:
                yield batch
                batch = Batch()
    if batch:
        yield batch


def add(batch: Batch, frame, nases: NasTable, port: int, verify: bool = True) -> None:
    """One captured frame into ``batch``: a record, a drop count, or nothing (not accounting traffic)."""
    from scapy.layers.inet import IP, UDP
    from scapy.layers.inet6 import IPv6

    if UDP not in frame or frame[UDP].dport != port:
        return
    source = frame[IP].src if IP in frame else frame[IPv6].src if IPv6 in frame else None
    if source is None:
        return
    at = float(frame.time)
    try:
        nas, _, record = accept(bytes(frame[UDP].payload), source, nases, at, verify=verify)
    except Dropped as drop:
        batch.counts[(drop.kind, drop.reason)] += 1
        return
    batch.records.append(record)
    batch.last_packet[nas.name] = max(at, batch.last_packet.get(nas.name, at))


def sniff(
    interface: str,
    nases: NasTable,
    store_batch: Callable[[Batch], object],
    stop: threading.Event,
    port: int = 1813,
    every: float = 1.0,
) -> Counter:
    """Capture live until ``stop`` is set; every ``every`` seconds what arrived is handed to ``store_batch``.

    The capture socket is opened here, so a missing privilege (root or CAP_NET_RAW), an unknown
    interface or a missing tcpdump (which compiles the filter) is a :class:`PcapError` at once.
    """
    from scapy.config import conf
    from scapy.error import Scapy_Exception
    from scapy.layers import inet, inet6, l2  # noqa: F401 - importing them registers the link and IP layers
    from scapy.sendrecv import AsyncSniffer

    try:
        sock = conf.L2listen(iface=interface, filter=f"inbound and udp dst port {port}")
    except PermissionError:
        raise PcapError("capturing needs root or the CAP_NET_RAW capability") from None
    except (OSError, Scapy_Exception) as exc:
        raise PcapError(f"cannot capture on {interface!r}: {exc}") from None
    frames: deque = deque()
    sniffer = AsyncSniffer(opened_socket=sock, store=False, prn=frames.append)
    sniffer.start()
    totals: Counter = Counter()
    try:
        while not stop.wait(every):
            totals.update(_flush(frames, nases, port, store_batch))
    finally:
        sniffer.stop(join=True)
        sock.close()
        totals.update(_flush(frames, nases, port, store_batch))
    return totals


def _flush(frames: deque, nases: NasTable, port: int, store_batch) -> Counter:
    batch = Batch()
    while frames:
        add(batch, frames.popleft(), nases, port)
    if not batch:
        return Counter()
    result = store_batch(batch)
    return batch.counts + (result if isinstance(result, Counter) else Counter())


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
