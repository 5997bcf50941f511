"""The native SNMP engine: netmon's BER codec and USM over one asyncio UDP socket per address family.

Every request gets a fresh request-id (SNMPv3: msgID too); an answer is
accepted only when it decodes cleanly, carries an id we are waiting for,
comes from the address and port we sent to, and passes the request's own
check: SNMPv2c the community and PDU type; SNMPv3 the user, engine ID, HMAC
and decryption. Anything else is dropped, counted by reason (see
:meth:`NativeTransport.take_drops`) and logged at most once per source and
reason per minute, so a flood of junk cannot flood the log, and the request
keeps waiting for its real answer. Retries resend the same message (same
ids, as Net-SNMP does), so a late answer to the first try still completes
the request.

SNMPv3 follows RFC 3414: the first request to an agent discovers its engine
ID, boots and time (kept per agent); a notInTimeWindow report resynchronises
the clock, an unknownEngineID report (the agent was replaced) rediscovers,
other reports (unknown user, wrong digest, decryption error, unsupported
level) fail the request as an authentication error.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import ipaddress
import logging
import os
import random
import socket
import struct
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from collectors.credentials import SnmpCredentials, SnmpV2cCredentials, SnmpV3Credentials
from collectors.snmp import ber, usm
from collectors.snmp.api import (
    OID,
    SnmpAuthError,
    SnmpBadAnswer,
    SnmpError,
    SnmpSession,
    SnmpTarget,
    SnmpTimeout,
    SnmpUnreachable,
    oid_str,
)
from netmon.limits import LogLimiter

log = logging.getLogger(__name__)


# Linux's IP_RECVERR / IPV6_RECVERR (<linux/in.h>, <linux/in6.h>; the socket module does not name them): ICMP
# errors for an unconnected socket are queued with the address they concern, so one shared socket can still tell
# which agent's port is closed.
IP_RECVERR, IPV6_RECVERR = 11, 25
_NETWORK_REFUSED = {errno.ECONNREFUSED, errno.EHOSTUNREACH, errno.ENETUNREACH, errno.EHOSTDOWN}
_RECVERR = {socket.AF_INET: (socket.IPPROTO_IP, IP_RECVERR), socket.AF_INET6: (socket.IPPROTO_IPV6, IPV6_RECVERR)}


class _Protocol(asyncio.DatagramProtocol):
    def __init__(self, owner: NativeTransport, sock: socket.socket | None = None):
        self.owner = owner
        self.sock = sock

    def datagram_received(self, data: bytes, addr) -> None:
        self.owner.received(data, addr)

    def error_received(self, exc: Exception) -> None:
        """ICMP port or host unreachable: the requests to that address fail now, not at their timeout."""
        log.debug("SNMP socket error: %s", exc)
        if self.sock is not None:
            self.owner.drain_errors(self.sock, exc)


class Drop(Exception):
    """A received packet is not the answer we wait for; ``reason`` is counted."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


@dataclass
class _Pending:
    future: asyncio.Future
    peer: tuple[str, int]
    accept: Callable[[object, bytes], object]  # raises Drop, or returns the request's result
    refused: str | None = None  # why the last packet from the peer itself was refused


@dataclass
class EngineState:
    """What we know of an SNMPv3 agent's authoritative engine (RFC 3414 section 2.3)."""

    engine_id: bytes
    boots: int
    time: int
    synced_at: float  # time.monotonic() when ``time`` was read

    def stale(self, boots: int, engine_time: int) -> bool:
        """RFC 3414 3.2.7b: an authenticated message from an older boot or > 150 s behind is a replay."""
        own_boots, own_time = self.now()
        return boots < own_boots or (boots == own_boots and engine_time < own_time - usm.TIME_WINDOW)

    def now(self) -> tuple[int, int]:
        return self.boots, max(0, min(self.time + int(time.monotonic() - self.synced_at), 2**31 - 1))

    def sync(self, boots: int, engine_time: int, force: bool = False) -> None:
        """RFC 3414 3.2.7b: move forward only; ``force`` for an authenticated notInTimeWindow report."""
        if force or (boots, engine_time) > (self.boots, self.time):
            self.boots, self.time, self.synced_at = boots, engine_time, time.monotonic()


class NativeTransport:
    def __init__(self) -> None:
        self._sockets: dict[int, asyncio.DatagramTransport] = {}
        self._raw: dict[asyncio.DatagramTransport, socket.socket] = {}
        self._pending: dict[int, _Pending] = {}
        self._rng = random.SystemRandom()
        self._salt = self._rng.randrange(0, 2**64)
        self._engines: dict[tuple[str, int], EngineState] = {}
        self._drops: Counter[str] = Counter()
        self._logged = LogLimiter()  # once a minute per (source, reason)

    async def session(self, target: SnmpTarget, creds: SnmpCredentials) -> SnmpSession:
        try:
            address = ipaddress.ip_address(target.host)
        except ValueError:
            raise SnmpError(f"{target.host!r} is not an IP address") from None
        if address.version == 6 and address.ipv4_mapped:
            address = address.ipv4_mapped  # ::ffff:a.b.c.d is an IPv4 peer: answers come from a.b.c.d
        family = socket.AF_INET6 if address.version == 6 else socket.AF_INET
        udp = await self._socket(family)
        peer = (str(address), target.port)
        if isinstance(creds, SnmpV2cCredentials):
            return NativeSession(target, transport=self, udp=udp, peer=peer, community=creds.community.encode())
        return NativeV3Session(target, transport=self, udp=udp, peer=peer, creds=creds)

    async def _socket(self, family: int) -> asyncio.DatagramTransport:
        if family not in self._sockets:
            loop = asyncio.get_running_loop()
            local = ("::", 0) if family == socket.AF_INET6 else ("0.0.0.0", 0)
            sock = socket.socket(family, socket.SOCK_DGRAM)
            try:
                with contextlib.suppress(OSError):  # not Linux: requests to a closed port wait for their timeout
                    sock.setsockopt(*_RECVERR[family], 1)
                sock.bind(local)
                sock.setblocking(False)
                transport, _ = await loop.create_datagram_endpoint(lambda: _Protocol(self, sock), sock=sock)
            except BaseException:
                sock.close()
                raise
            self._sockets[family] = transport
            self._raw[transport] = sock
        return self._sockets[family]

    def new_id(self) -> int:
        """A random request-id / msgID no outstanding request uses: hard to guess for an off-path forger."""
        while True:
            candidate = self._rng.randrange(1, 2**31)
            if candidate not in self._pending:
                return candidate

    def next_salt(self) -> int:
        self._salt = (self._salt + 1) % 2**64
        return self._salt

    async def request(
        self, udp: asyncio.DatagramTransport, peer: tuple[str, int], key: int, message: bytes,
        accept: Callable[[object, bytes], object], timeout: float, retries: int,
    ):  # fmt: skip
        """Send ``message`` (and resend it on timeout); return what ``accept`` makes of the answer."""
        future = asyncio.get_running_loop().create_future()
        pending = self._pending[key] = _Pending(future, peer, accept)
        try:
            for _ in range(retries + 1):
                self._send(udp, message, peer)
                try:
                    return await asyncio.wait_for(asyncio.shield(future), timeout)
                except TimeoutError:
                    continue
            if pending.refused:
                # The agent is there but speaks nonsense: not a network problem, say so.
                raise SnmpBadAnswer(f"{peer[0]}:{peer[1]} answered, but not acceptably ({pending.refused})")
            raise SnmpTimeout(f"no response from {peer[0]}:{peer[1]} after {retries + 1} x {timeout:g} s")
        finally:
            self._pending.pop(key, None)

    def received(self, data: bytes, addr) -> None:
        source = (addr[0], addr[1])
        try:
            if ber.message_version(data) == 3:
                parsed = usm.decode_message(data)
                key = parsed.msg_id
            else:
                parsed = ber.decode_message(data)
                key = parsed.request_id
        except ber.BerError:
            self._drop("malformed", source)
            self._blame(source, "malformed")
            return
        entry = self._pending.get(key)
        if entry is None:
            self._drop("unknown_request_id", source)  # includes answers that arrive after we gave up
            return
        if _normal(source) != entry.peer:
            self._drop("wrong_source", source)
            return
        if entry.future.done():
            self._drop("duplicate", source)
            return
        try:
            result = entry.accept(parsed, data)
        except Drop as verdict:
            self._drop(verdict.reason, source)
            entry.refused = verdict.reason
            return
        except (ber.BerError, ValueError, OverflowError):
            self._drop("malformed", source)
            entry.refused = "malformed"
            return
        entry.future.set_result(result)

    def _send(self, udp: asyncio.DatagramTransport, message: bytes, peer: tuple[str, int]) -> None:
        """Send on the socket itself: an ICMP error queued for another agent is reported by the next send (on
        loopback at once), and would otherwise make asyncio drop this datagram unsent. Such an error is read (the
        agents it concerns fail as unreachable) and the send tried again."""
        sock = self._raw.get(udp)
        if sock is None or udp.get_write_buffer_size():
            udp.sendto(message, peer)  # asyncio holds a backlog: keep the order
            return
        for _ in range(8):
            try:
                sock.sendto(message, peer)
                return
            except (BlockingIOError, InterruptedError):
                udp.sendto(message, peer)
                return
            except OSError as exc:
                if exc.errno not in _NETWORK_REFUSED:
                    raise
                if not self.drain_errors(sock, exc):
                    # nothing queued: the error is this send's own (no route to the agent)
                    raise SnmpUnreachable(f"{peer[0]}:{peer[1]}: {(exc.strerror or str(exc)).lower()}") from None
        udp.sendto(message, peer)

    def drain_errors(self, sock: socket.socket, exc: Exception) -> int:
        """Read the socket's queued ICMP errors; for the ones that say nobody is there (port, host or network
        unreachable, by the errno the kernel stored with each), that address's requests fail as unreachable.
        Returns how many errors were read."""
        read = 0
        for _ in range(1024):  # bounded: the queue holds what the kernel kept
            try:
                _data, ancillary, _flags, addr = sock.recvmsg(512, 512, socket.MSG_ERRQUEUE)
            except OSError:  # empty (EAGAIN), or not Linux
                return read
            read += 1
            for level, kind, data in ancillary:
                if (level, kind) in _RECVERR.values() and len(data) >= 4:
                    error = struct.unpack_from("=I", data)[0]  # struct sock_extended_err.ee_errno
                    if error in _NETWORK_REFUSED and addr:
                        self.unreachable(addr, OSError(error, os.strerror(error)))
        return read

    def unreachable(self, addr, exc: Exception) -> None:
        """The network refused packets to ``addr``: its outstanding requests fail as ``unreachable``."""
        peer = _normal((addr[0], addr[1]))
        why = getattr(exc, "strerror", None) or type(exc).__name__
        for entry in self._pending.values():
            if entry.peer == peer and not entry.future.done():
                entry.future.set_exception(SnmpUnreachable(f"{peer[0]}:{peer[1]}: {why.lower()} (ICMP)"))

    def _blame(self, source: tuple[str, int], reason: str) -> None:
        """An undecodable packet from a peer we wait on: its requests should say so if they time out."""
        peer = _normal(source)
        for entry in self._pending.values():
            if entry.peer == peer:
                entry.refused = reason

    # -- SNMPv3 engines --------------------------------------------------------------

    async def engine(self, udp, peer: tuple[str, int], target: SnmpTarget, context: bytes = b"") -> EngineState:
        """The agent's engine ID, boots and time: discovered once (RFC 3414 section 4), then kept.

        The probe carries the session's context name, as pysnmp's does: agents that pick their
        data by context (snmpsim, some proxies) ignore a probe for a context they do not serve.
        """
        state = self._engines.get(peer)
        if state is None:
            msg_id, request_id = self.new_id(), self.new_id()
            scoped = usm.scoped_pdu(b"", context, ber.encode_pdu(ber.GET, request_id, []))
            probe = usm.encode_message(msg_id, usm.FLAG_REPORTABLE, b"", 0, 0, b"", scoped)
            state = await self.request(udp, peer, msg_id, probe, _accept_discovery, target.timeout, target.retries)
            self._engines[peer] = state
        return state

    def forget_engine(self, peer: tuple[str, int]) -> None:
        self._engines.pop(peer, None)

    # -- bookkeeping -----------------------------------------------------------

    def _drop(self, reason: str, source: tuple[str, int]) -> None:
        self._drops[reason] += 1
        if self._logged.allow((source[0], reason), time.monotonic()):
            log.warning("dropped SNMP packet from %s:%s: %s (logged once a minute per source)", *source, reason)

    def take_drops(self) -> dict[str, int]:
        drops = dict(self._drops)
        self._drops.clear()
        return drops

    def close(self) -> None:
        for transport in self._sockets.values():
            transport.close()
        self._sockets.clear()
        self._raw.clear()


def _accept_discovery(msg, data: bytes) -> EngineState:
    if not isinstance(msg, usm.Message):
        raise Drop("wrong_version")
    if msg.encrypted or not msg.engine_id:
        raise Drop("not_a_report")
    _, _, pdu = usm.open_scoped_pdu(msg.msg_data)
    if pdu.pdu_type != ber.REPORT:
        raise Drop("not_a_report")
    return EngineState(msg.engine_id, msg.boots, msg.engine_time, time.monotonic())


def _normal(source: tuple[str, int]) -> tuple[str, int]:
    host = source[0]
    if host.startswith("::ffff:"):
        host = host[7:]
    return (str(ipaddress.ip_address(host)), source[1])


@dataclass
class NativeSession(SnmpSession):
    """SNMPv2c: community in the clear, request-id matching."""

    transport: NativeTransport | None = None
    udp: asyncio.DatagramTransport | None = None
    peer: tuple[str, int] = ("", 0)
    community: bytes = b""

    def __repr__(self) -> str:  # the community is a secret
        return f"NativeSession({self.peer[0]}:{self.peer[1]})"

    async def _exchange(self, pdu_type: int, oids: Sequence[OID], max_repetitions: int = 0):
        request_id = self.transport.new_id()
        try:
            message = ber.encode_request(self.community, pdu_type, request_id, oids, 0, max_repetitions)
        except ber.BerError as exc:
            raise SnmpError(str(exc)) from None

        def accept(msg, data: bytes) -> ber.Message:
            if not isinstance(msg, ber.Message):
                raise Drop("wrong_version")
            if msg.pdu_type != ber.RESPONSE:
                raise Drop("not_a_response")
            if msg.community != self.community:
                raise Drop("wrong_community")
            return msg

        reply = await self.transport.request(
            self.udp, self.peer, request_id, message, accept, self.target.timeout, self.target.retries
        )
        return reply.error_status, reply.error_index, reply.varbinds


@dataclass
class NativeV3Session(SnmpSession):
    """SNMPv3 with USM: discovery, time synchronisation, authentication and privacy."""

    transport: NativeTransport | None = None
    udp: asyncio.DatagramTransport | None = None
    peer: tuple[str, int] = ("", 0)
    creds: SnmpV3Credentials | None = None

    def __repr__(self) -> str:
        return f"NativeV3Session({self.peer[0]}:{self.peer[1]})"

    async def _exchange(self, pdu_type: int, oids: Sequence[OID], max_repetitions: int = 0):
        # At most one rediscovery and one clock resynchronisation, then a real answer or an error.
        context = self.creds.context.encode()
        rediscovered = False
        for _ in range(3):
            state = await self.transport.engine(self.udp, self.peer, self.target, context)
            pdu = await self._send(state, pdu_type, oids, max_repetitions)
            if pdu.pdu_type == ber.RESPONSE:
                return pdu.error_status, pdu.error_index, pdu.varbinds
            reported = pdu.varbinds[0][0] if pdu.varbinds else None
            if reported == usm.NOT_IN_TIME_WINDOW:
                continue  # accept() resynchronised the clock from the authenticated report
            if reported in (usm.UNKNOWN_ENGINE_ID, usm.UNKNOWN_USER_NAME) and not rediscovered:
                # A replaced or reinstalled agent has a new engine ID; depending on the agent that
                # shows as unknownEngineID or as unknownUserName. Rediscover once and see.
                self.transport.forget_engine(self.peer)
                rediscovered = True
                fresh = await self.transport.engine(self.udp, self.peer, self.target, context)
                if reported == usm.UNKNOWN_ENGINE_ID or fresh.engine_id != state.engine_id:
                    continue
            what = usm.REPORTS.get(reported, f"report {oid_str(reported) if reported else '(empty)'}")
            raise SnmpAuthError(f"agent refused the request: {what}")
        raise SnmpAuthError("agent refused the request: could not synchronise with its engine")

    async def _send(self, state: EngineState, pdu_type: int, oids: Sequence[OID], max_repetitions: int) -> ber.Pdu:
        c = self.creds
        msg_id, request_id = self.transport.new_id(), self.transport.new_id()
        try:
            pdu = ber.encode_pdu(pdu_type, request_id, oids, 0, max_repetitions)
        except ber.BerError as exc:
            raise SnmpError(str(exc)) from None
        scoped = usm.scoped_pdu(state.engine_id, c.context.encode(), pdu)
        user = c.user.encode()
        auth_key = priv_key = None
        boots, engine_time = state.now() if c.auth_protocol else (0, 0)
        flags, priv_params = usm.FLAG_REPORTABLE, b""
        if c.auth_protocol:
            flags |= usm.FLAG_AUTH
            auth_key = usm.auth_key(c.auth_key.encode(), c.auth_protocol, state.engine_id)
        if c.priv_protocol:
            flags |= usm.FLAG_PRIV
            priv_key = usm.priv_key(c.priv_key.encode(), c.auth_protocol, c.priv_protocol, state.engine_id)
            ciphertext, priv_params = usm.encrypt(
                c.priv_protocol, priv_key, boots, engine_time, self.transport.next_salt(), scoped
            )
            scoped = ber.encode_octets(ciphertext)
        message = usm.encode_message(
            msg_id, flags, state.engine_id, boots, engine_time, user, scoped, c.auth_protocol, auth_key, priv_params
        )

        def accept(msg, data: bytes) -> ber.Pdu:
            if not isinstance(msg, usm.Message):
                raise Drop("wrong_version")
            authenticated = bool(msg.flags & usm.FLAG_AUTH)
            if authenticated:
                if not c.auth_protocol or msg.engine_id != state.engine_id or msg.user != user:
                    raise Drop("wrong_security")
                if not usm.verify_mac(data, msg, c.auth_protocol, auth_key):
                    raise Drop("wrong_digest")
            if msg.encrypted:
                if not c.priv_protocol:
                    raise Drop("wrong_security")
                plaintext = usm.decrypt(
                    c.priv_protocol, priv_key, msg.boots, msg.engine_time, msg.priv_params, msg.msg_data
                )
            else:
                plaintext = msg.msg_data
            _, _, pdu = usm.open_scoped_pdu(plaintext, padded=msg.encrypted and c.priv_protocol == "des")
            if pdu.pdu_type == ber.REPORT:
                # Reports may come unauthenticated (unknown user, wrong digest): they can only end the
                # request with an error. Only an authenticated one may move our clock.
                if authenticated and pdu.varbinds and pdu.varbinds[0][0] == usm.NOT_IN_TIME_WINDOW:
                    state.sync(msg.boots, msg.engine_time, force=True)
                return pdu
            if pdu.pdu_type != ber.RESPONSE:
                raise Drop("not_a_response")
            if c.auth_protocol and not authenticated:
                raise Drop("unauthenticated")
            if bool(c.priv_protocol) != msg.encrypted:
                raise Drop("wrong_security")  # an answer at another security level than the request's
            if pdu.request_id != request_id:
                raise Drop("unknown_request_id")
            if authenticated:
                if state.stale(msg.boots, msg.engine_time):
                    raise Drop("not_in_time_window")
                state.sync(msg.boots, msg.engine_time)
            return pdu

        try:
            return await self.transport.request(
                self.udp, self.peer, msg_id, message, accept, self.target.timeout, self.target.retries
            )
        except SnmpTimeout:
            # Perhaps our engine record is wrong (agent replaced, or a forged discovery answer
            # fooled us): start from a fresh discovery next time rather than failing forever.
            self.transport.forget_engine(self.peer)
            raise
