"""The RADIUS accounting listener: UDP in, verified records to the store's writer, answers after the commit.

A NAS retransmits an Accounting-Request until it gets an Accounting-Response,
so answering is a promise that the record is safe: the answer goes out only
after the transaction holding the record has committed. Packets are gathered
while the previous batch is being written (group commit): under a burst the
cost of a commit is shared by every packet that arrived meanwhile, and
answers are never delayed by more than one commit.

Whatever is not a valid request from a declared NAS is dropped without an
answer and counted by reason (``unknown_nas``, ``bad_authenticator``,
``truncated``, ``malformed``, ``not_accounting``, ``implausible``: values no
session can have, see :func:`collectors.radius.codec.implausible`,
``overload``); each source
is logged at most once a minute. A retransmission (same source, identifier
and authenticator within 30 s, RFC 5080 2.2.2) is answered again from a
cache without being stored twice. Nothing here writes the store: the
``commit`` callable does, in the writer thread it is given.
"""

from __future__ import annotations

import asyncio
import ipaddress
import logging
import socket
import time
from collections import Counter, OrderedDict
from collections.abc import Callable, Iterable
from concurrent.futures import Executor
from dataclasses import dataclass, field

from collectors.credentials import Nas
from collectors.radius import codec
from netmon.limits import LogLimiter

log = logging.getLogger(__name__)
DEDUP_SECONDS = 30.0
DEDUP_MAX = 200_000
RECEIVE_BUFFER = 8 << 20  # a failover burst must wait in the kernel, not be dropped by it


class NasTable:
    """The NAS a packet comes from, by its UDP source address (never by what the packet claims)."""

    def __init__(self, nases: Iterable[Nas]):
        self.nases = list(nases)
        self._cache: dict[str, Nas | None] = {}

    def find(self, address: str) -> Nas | None:
        if address in self._cache:
            return self._cache[address]
        ip = normal_address(address)
        if ip is None:
            return None
        # The most specific declaration wins (a single controller inside a declared network).
        found = max((n for n in self.nases if ip in n.network), key=lambda n: n.network.prefixlen, default=None)
        if len(self._cache) < 65536:
            self._cache[address] = found
        return found


def normal_address(address: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    """A source address as one spelling: no zone index, an IPv4-mapped IPv6 address as IPv4."""
    try:
        ip = ipaddress.ip_address(address.split("%", 1)[0])
    except ValueError:
        return None
    if ip.version == 6 and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip


class Dropped(Exception):
    """A packet refused: ``kind`` is its type label (``unknown`` before it could be read), ``reason`` the drop's."""

    def __init__(self, kind: str, reason: str, detail: str = ""):
        super().__init__(reason)
        self.kind, self.reason, self.detail = kind, reason, detail


def accept(
    data: bytes, source: str, nases: NasTable, now: float, verify: bool = True
) -> tuple[Nas, codec.Packet, codec.AccountingRecord]:
    """The checks every Accounting-Request passes, in the listener and in pcap replay: a declared NAS,
    sound framing, an Accounting-Request, the right authenticator, readable stored attributes."""
    nas = nases.find(source)
    if nas is None:
        raise Dropped("unknown", "unknown_nas")
    try:
        packet = codec.parse(data)
    except codec.Malformed as exc:
        raise Dropped("unknown", exc.reason) from None
    if packet.code != codec.ACCOUNTING_REQUEST:
        raise Dropped("unknown", "not_accounting")
    if verify and not codec.verify_request(data, nas.secret):
        raise Dropped("unknown", "bad_authenticator")
    try:
        # The source goes with the record: one declaration may cover a network of controllers, whose session
        # ids are their own (and whose Accounting-On concerns only their own sessions).
        record = codec.decode_accounting(packet, nas.name, now, str(normal_address(source)))
    except codec.Malformed as exc:
        raise Dropped("unknown", exc.reason) from None
    why = codec.implausible(record)
    if why is not None:
        raise Dropped(record.status_name, "implausible", why)
    return nas, packet, record


@dataclass
class Batch:
    """What one commit stores: verified records, dropped packets by (type, result), last packet time per NAS.

    The commit counts the records itself (``ok``, or ``duplicate`` when a record changed nothing).
    """

    records: list[codec.AccountingRecord] = field(default_factory=list)
    counts: Counter = field(default_factory=Counter)
    last_packet: dict[str, float] = field(default_factory=dict)
    failed: set[int] = field(default_factory=set)  # indexes into records the commit could not store: no answer

    def __bool__(self) -> bool:
        return bool(self.records or self.counts)


class AccountingListener(asyncio.DatagramProtocol):
    def __init__(
        self,
        nases: NasTable,
        commit: Callable[[Batch], object],
        executor: Executor,
        clock: Callable[[], float] = time.time,
        max_pending: int = 50_000,
    ):
        self.nases = nases
        self.commit = commit
        self.executor = executor
        self.clock = clock
        self.max_pending = max_pending
        self.transport: asyncio.DatagramTransport | None = None
        self.stats: Counter = Counter()  # (type, result) since start, for tests and the benchmark
        self._batch = Batch()
        self._responses: list[tuple[object, bytes, tuple]] = []
        self._flushing = False
        self._idle = asyncio.Event()
        self._idle.set()
        self._answered: OrderedDict[tuple, tuple[float, bytes | None]] = OrderedDict()
        self._logged = LogLimiter()  # once a minute per source
        self._retry_after = 0.0  # after a failed commit: wait before the next try

    async def start(self, host: str, port: int) -> AccountingListener:
        loop = asyncio.get_running_loop()
        await loop.create_datagram_endpoint(lambda: self, local_addr=(host, port))
        return self

    @property
    def address(self) -> tuple[str, int]:
        return self.transport.get_extra_info("sockname")[:2]

    def connection_made(self, transport) -> None:
        self.transport = transport
        sock = transport.get_extra_info("socket")
        try:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, RECEIVE_BUFFER)
        except OSError:
            pass

    def close(self) -> None:
        if self.transport is not None:
            self.transport.close()

    async def drain(self) -> None:
        """Wait until every packet received so far is committed and answered."""
        while self._flushing or self._batch:
            await self._idle.wait()
            await asyncio.sleep(0)

    # -- receive --------------------------------------------------------------------------

    def datagram_received(self, data: bytes, addr) -> None:
        now = self.clock()
        try:
            self._receive(data, addr, now)
        except Exception:  # a bug must not take the listener down; the packet is dropped and counted
            log.exception("RADIUS: internal error on a packet from %s", addr[0])
            self._drop(addr[0], "unknown", "internal", now)

    def _receive(self, data: bytes, addr, now: float) -> None:
        source = addr[0]
        try:
            nas, packet, record = accept(data, source, self.nases, now)
        except Dropped as drop:
            return self._drop(source, drop.kind, drop.reason, now, drop.detail)
        key = (source, addr[1], packet.identifier, packet.authenticator)
        self._expire(now)
        seen = self._answered.get(key)
        if seen is not None:
            _, response = seen
            if response is not None:  # already stored and answered: the answer was lost, send it again
                self.transport.sendto(response, addr)
            self._count("duplicate", "duplicate")
            return None
        if len(self._batch.records) >= self.max_pending:
            return self._drop(source, record.status_name, "overload", now)
        self._batch.records.append(record)  # counted by the commit: ok, or duplicate when it changed nothing
        self._batch.last_packet[nas.name] = now
        self._responses.append((addr, codec.accounting_response(data, nas.secret), key))
        self._answered[key] = (now + DEDUP_SECONDS, None)
        self._schedule()
        return None

    def _count(self, kind: str, result: str) -> None:
        self._batch.counts[(kind, result)] += 1
        self._schedule()

    def _drop(self, source: str, kind: str, reason: str, now: float, detail: str = "") -> None:
        self._count(kind, reason)
        if self._logged.allow(source, now):
            log.warning(
                "RADIUS: dropped a packet from %s: %s%s (at most one message a minute per source)", source, reason,
                f" ({detail})" if detail else "",
            )  # fmt: skip

    def _expire(self, now: float) -> None:
        answered = self._answered
        while answered:
            expiry, response = next(iter(answered.values()))
            if (expiry > now or response is None) and len(answered) <= DEDUP_MAX:
                break
            answered.popitem(last=False)

    # -- commit, then answer --------------------------------------------------------------

    def _schedule(self) -> None:
        if not self._flushing and self._batch:
            wait = self._retry_after - time.monotonic()
            if wait > 0:
                self._flushing = True  # a timer owns the next flush
                self._idle.clear()
                asyncio.get_running_loop().call_later(wait, self._retry)
                return
            self._flushing = True
            self._idle.clear()
            # call_soon: the datagrams already waiting are read first, so they share this commit
            asyncio.get_running_loop().call_soon(self._flush)

    def _retry(self) -> None:
        self._flushing = False
        self._schedule()

    def _flush(self) -> None:
        batch, responses = self._batch, self._responses
        self._batch, self._responses = Batch(), []
        future = asyncio.get_running_loop().run_in_executor(self.executor, self.commit, batch)
        future.add_done_callback(lambda f: self._flushed(f, batch, responses))

    def _flushed(self, future: asyncio.Future, batch: Batch, responses) -> None:
        self._flushing = False
        error = future.exception() if not future.cancelled() else asyncio.CancelledError()
        if error is None:
            self.stats.update(batch.counts)
            if isinstance(future.result(), Counter):
                self.stats.update(future.result())
            expiry = self.clock() + DEDUP_SECONDS
            for index, (addr, response, key) in enumerate(responses):  # responses[i] answers batch.records[i]
                if index in batch.failed:
                    self._answered.pop(key, None)  # not stored: its retransmission must be tried again
                    continue
                self._answered[key] = (expiry, response)
                self._answered.move_to_end(key)
                if self.transport is not None and not self.transport.is_closing():
                    self.transport.sendto(response, addr)
        else:
            # Nothing was stored: no answer, so the NAS retransmits; the counts come back as store errors.
            log.error("RADIUS: could not store %d accounting records: %r", len(batch.records), error)
            for _, _, key in responses:
                self._answered.pop(key, None)
            self._batch.counts.update(batch.counts)
            for record in batch.records:
                self._batch.counts[(record.status_name, "store_error")] += 1
            self._batch.last_packet.update(batch.last_packet)
            self._retry_after = time.monotonic() + 1.0
        if isinstance(error, asyncio.CancelledError):
            self._idle.set()
            return
        if self._batch:
            self._schedule()
        else:
            self._idle.set()
