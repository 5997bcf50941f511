"""The native SNMPv2c engine: netmon's BER codec over one asyncio UDP socket per address family.

Every request gets a fresh random request-id; a response is accepted only
when it decodes cleanly, is a Response PDU, carries a request-id we are
waiting for, comes from the address and port we sent to, and carries the
community we sent. Anything else is dropped, counted by reason (see
:meth:`NativeTransport.take_drops`) and logged at most once per source and
reason per minute, so a flood of junk cannot flood the log. Retries resend
the same message (same request-id, as Net-SNMP does), so a late answer to
the first try still completes the request.
"""

from __future__ import annotations

import asyncio
import ipaddress
import logging
import random
import socket
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from collectors.snmp import ber
from collectors.snmp.credentials import SnmpV2cCredentials
from collectors.snmp.session import OID, SnmpError, SnmpSession, SnmpTarget, SnmpTimeout

log = logging.getLogger(__name__)
LOG_EVERY = 60.0  # seconds between log lines for the same source and drop reason


class _Protocol(asyncio.DatagramProtocol):
    def __init__(self, owner: NativeTransport):
        self.owner = owner

    def datagram_received(self, data: bytes, addr) -> None:
        self.owner.received(data, addr)

    def error_received(self, exc: Exception) -> None:
        # ICMP port unreachable and friends: the request simply times out.
        log.debug("SNMP socket error: %s", exc)


class NativeTransport:
    def __init__(self) -> None:
        self._sockets: dict[int, asyncio.DatagramTransport] = {}
        self._pending: dict[int, tuple[asyncio.Future, tuple[str, int], bytes]] = {}
        self._next_id = random.SystemRandom().randrange(1, 2**31 - 1)
        self._drops: Counter[str] = Counter()
        self._last_log: dict[tuple[str, str], float] = {}

    async def session(self, target: SnmpTarget, creds: SnmpV2cCredentials) -> NativeSession:
        try:
            address = ipaddress.ip_address(target.host)
        except ValueError:
            raise SnmpError(f"{target.host!r} is not an IP address") from None
        family = socket.AF_INET6 if address.version == 6 else socket.AF_INET
        transport = await self._socket(family)
        return NativeSession(
            target,
            transport=self,
            udp=transport,
            peer=(str(address), target.port),
            community=creds.community.encode(),
        )

    async def _socket(self, family: int) -> asyncio.DatagramTransport:
        if family not in self._sockets:
            loop = asyncio.get_running_loop()
            local = ("::", 0) if family == socket.AF_INET6 else ("0.0.0.0", 0)
            transport, _ = await loop.create_datagram_endpoint(lambda: _Protocol(self), local_addr=local, family=family)
            self._sockets[family] = transport
        return self._sockets[family]

    def new_request_id(self) -> int:
        while True:
            self._next_id = self._next_id % (2**31 - 1) + 1
            if self._next_id not in self._pending:
                return self._next_id

    async def request(
        self, udp: asyncio.DatagramTransport, peer: tuple[str, int], community: bytes, message: bytes,
        request_id: int, timeout: float, retries: int,
    ) -> ber.Message:  # fmt: skip
        future = asyncio.get_running_loop().create_future()
        self._pending[request_id] = (future, peer, community)
        try:
            for _ in range(retries + 1):
                udp.sendto(message, peer)
                try:
                    return await asyncio.wait_for(asyncio.shield(future), timeout)
                except TimeoutError:
                    continue
            raise SnmpTimeout(f"no response from {peer[0]}:{peer[1]} after {retries + 1} x {timeout:g} s")
        finally:
            self._pending.pop(request_id, None)

    def received(self, data: bytes, addr) -> None:
        source = (addr[0], addr[1])
        try:
            msg = ber.decode_message(data)
        except ber.BerError:
            self._drop("malformed", source)
            return
        entry = self._pending.get(msg.request_id)
        if entry is None:
            self._drop("unknown_request_id", source)  # includes answers that arrive after we gave up
            return
        future, peer, community = entry
        if _normal(source) != peer:
            self._drop("wrong_source", source)
        elif msg.pdu_type != ber.RESPONSE:
            self._drop("not_a_response", source)
        elif msg.community != community:
            self._drop("wrong_community", source)
        elif future.done():
            self._drop("duplicate", source)
        else:
            future.set_result(msg)

    def _drop(self, reason: str, source: tuple[str, int]) -> None:
        self._drops[reason] += 1
        now = time.monotonic()
        key = (source[0], reason)
        if now - self._last_log.get(key, -LOG_EVERY) >= LOG_EVERY:
            self._last_log[key] = now
            log.warning("dropped SNMP packet from %s:%s: %s (logged once a minute per source)", *source, reason)

    def take_drops(self) -> dict[str, int]:
        drops = dict(self._drops)
        self._drops.clear()
        return drops

    def close(self) -> None:
        for transport in self._sockets.values():
            transport.close()
        self._sockets.clear()


def _normal(source: tuple[str, int]) -> tuple[str, int]:
    host = source[0]
    if host.startswith("::ffff:"):
        host = host[7:]
    return (str(ipaddress.ip_address(host)), source[1])


@dataclass
class NativeSession(SnmpSession):
    transport: NativeTransport | None = None
    udp: asyncio.DatagramTransport | None = None
    peer: tuple[str, int] = ("", 0)
    community: bytes = b""

    def __repr__(self) -> str:  # the community is a secret
        return f"NativeSession({self.peer[0]}:{self.peer[1]})"

    async def _exchange(self, pdu_type: int, oids: Sequence[OID], max_repetitions: int = 0):
        request_id = self.transport.new_request_id()
        try:
            message = ber.encode_request(self.community, pdu_type, request_id, oids, 0, max_repetitions)
        except ber.BerError as exc:
            raise SnmpError(str(exc)) from None
        reply = await self.transport.request(
            self.udp, self.peer, self.community, message, request_id, self.target.timeout, self.target.retries
        )
        return reply.error_status, reply.error_index, reply.varbinds
