"""The one SNMP seam collectors use: get, get-many and bulk-walk of columns.

Collectors never touch an SNMP engine directly. Everything they need is here:

* :meth:`SnmpSession.get` fetches scalars (one request for many OIDs);
* :meth:`SnmpSession.walk_columns` walks a set of table columns with GETBULK,
  all columns side by side in one PDU, so a 15-column table of 48 rows costs
  a handful of requests instead of one walk per column;

and the values come back as plain Python (``int``, ``bytes``, OID tuples).

Two engines sit behind the same interface (:class:`SnmpClient` picks one per
session): ``native`` speaks SNMPv2c and SNMPv3/USM with netmon's own BER codec
(:mod:`collectors.snmp.ber`, :mod:`collectors.snmp.usm`) over one asyncio UDP
socket, and ``pysnmp`` (pysnmp 7), the reference, used for 3DES privacy and for
everything when configured with ``engine: pysnmp``. Collectors cannot tell
them apart; the tests run the collectors over both.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from collectors.snmp.ber import END_OF_MIB_VIEW, GET, GET_BULK
from collectors.snmp.credentials import SnmpCredentials, SnmpV2cCredentials

OID = tuple[int, ...]
ENGINES = ("native", "pysnmp")

# A walk stops after this many requests even if the agent keeps answering:
# a broken agent that returns the same OIDs forever must not pin a poller.
MAX_REQUESTS_PER_WALK = 10_000


class SnmpError(Exception):
    """The agent answered with an error, or the answer made no sense."""

    reason = "snmp_error"


class SnmpTimeout(SnmpError):
    """No answer within timeout x (retries + 1)."""

    reason = "timeout"


class SnmpBadAnswer(SnmpError):
    """The agent answered, but every answer was refused (malformed, wrong community...)."""

    reason = "bad_answer"


class SnmpAuthError(SnmpError):
    """USM rejected us (unknown user, wrong key, wrong level)."""

    reason = "auth"


def parse_oid(text: str) -> OID:
    return tuple(int(x) for x in text.strip(".").split("."))


def oid_str(oid: Iterable[int]) -> str:
    return ".".join(str(x) for x in oid)


@dataclass(frozen=True)
class SnmpTarget:
    """Where and how patiently to ask. ``host`` is an IP address, never a name resolved per poll."""

    host: str
    port: int = 161
    timeout: float = 2.0
    retries: int = 1
    max_repetitions: int = 25


@dataclass
class SessionStats:
    requests: int = 0
    varbinds: int = 0
    seconds: float = 0.0


@dataclass
class SnmpSession:
    """What collectors call. Engines implement :meth:`_exchange`; the walking logic is shared."""

    target: SnmpTarget
    stats: SessionStats = field(default_factory=SessionStats)

    async def _exchange(
        self, pdu_type: int, oids: Sequence[OID], max_repetitions: int = 0
    ) -> tuple[int, int, list[tuple[OID, object]]]:
        """Send one GET or GETBULK; return (error-status, error-index, varbinds) or raise SnmpError."""
        raise NotImplementedError

    async def _request(self, pdu_type: int, oids: Sequence[OID], max_repetitions: int = 0) -> list:
        started = time.perf_counter()
        error_status, error_index, varbinds = await self._exchange(pdu_type, oids, max_repetitions)
        self.stats.requests += 1
        self.stats.varbinds += len(varbinds)
        self.stats.seconds += time.perf_counter() - started
        if error_status:
            raise SnmpError(f"agent error-status {error_status} at varbind {error_index}")
        return varbinds

    async def get(self, oids: Sequence[OID]) -> dict[OID, object]:
        """GET several OIDs in one request; missing ones map to ``None``."""
        varbinds = await self._request(GET, oids)
        return {oid: (None if value is END_OF_MIB_VIEW else value) for oid, value in varbinds}

    async def walk_columns(self, columns: Sequence[OID]) -> dict[OID, dict[OID, object]]:
        """Walk table columns with GETBULK, all of them in each request.

        Returns ``{column: {index: value}}``. A column the agent does not
        implement comes back empty. The walk of one column ends when the
        agent leaves its subtree or reports endOfMibView. An OID that does
        not increase (a broken agent) fails the walk with :class:`SnmpError`,
        like Net-SNMP's "OID not increasing": a table cut short would look
        like interfaces that vanished.
        """
        result: dict[OID, dict[OID, object]] = {c: {} for c in columns}
        cursor = {c: c for c in columns}
        active = list(columns)
        requests = 0
        while active:
            requests += 1
            if requests > MAX_REQUESTS_PER_WALK:
                raise SnmpError(f"walk did not finish after {MAX_REQUESTS_PER_WALK} requests")
            varbinds = await self._request(GET_BULK, [cursor[c] for c in active], self.target.max_repetitions)
            if not varbinds:
                raise SnmpError("empty GETBULK response")
            width = len(active)
            finished: set[OID] = set()
            for i, (oid, value) in enumerate(varbinds):
                column = active[i % width]
                if column in finished:
                    continue
                n = len(column)
                if value is END_OF_MIB_VIEW or oid[:n] != column:
                    finished.add(column)
                    continue
                if oid <= cursor[column]:
                    raise SnmpError(f"agent returned OIDs out of order in column {oid_str(column)}")
                cursor[column] = oid
                result[column][oid[n:]] = value
            active = [c for c in active if c not in finished]
        return result


def _native_can(creds: SnmpCredentials) -> bool:
    from collectors.snmp.usm import NATIVE_PRIV

    return isinstance(creds, SnmpV2cCredentials) or creds.priv_protocol in (None, *NATIVE_PRIV)


class SnmpClient:
    """Owns the engines (sockets, pysnmp's SnmpEngine). One per process; sessions are cheap.

    ``engine="native"`` (the default) uses netmon's own codec for SNMPv2c and
    SNMPv3 (every auth protocol; DES and AES privacy) and pysnmp for 3DES;
    ``engine="pysnmp"`` uses pysnmp for everything.
    """

    def __init__(self, engine: str = "native") -> None:
        if engine not in ENGINES:
            raise ValueError(f"unknown SNMP engine {engine!r} (one of {', '.join(ENGINES)})")
        self.engine = engine
        self._native = None
        self._pysnmp = None

    async def session(self, target: SnmpTarget, creds: SnmpCredentials) -> SnmpSession:
        if self.engine == "native" and _native_can(creds):
            if self._native is None:
                from collectors.snmp.native import NativeTransport

                self._native = NativeTransport()
            return await self._native.session(target, creds)
        if self._pysnmp is None:
            from collectors.snmp.pysnmp_engine import PysnmpEngine

            self._pysnmp = PysnmpEngine()
        return await self._pysnmp.session(target, creds)

    def take_drops(self) -> dict[str, int]:
        """Responses dropped (malformed, forged, late) since the last call, by reason."""
        return self._native.take_drops() if self._native else {}

    def close(self) -> None:
        if self._native is not None:
            self._native.close()
        if self._pysnmp is not None:
            self._pysnmp.close()


async def open_session(client: SnmpClient, target: SnmpTarget, creds: SnmpCredentials) -> SnmpSession:
    return await client.session(target, creds)
