"""The SNMP API: the one seam collectors use (get, get-many and bulk-walk of columns), and what engines implement.

Collectors never touch an SNMP engine directly. Everything they need is here:

* :meth:`SnmpSession.get` fetches scalars (one request for many OIDs);
* :meth:`SnmpSession.walk_columns` walks a set of table columns with GETBULK,
  all columns side by side in one PDU, so a 15-column table of 48 rows costs
  a handful of requests instead of one walk per column;

and the values come back as plain Python (``int``, ``bytes``, OID tuples).

Two engines sit behind the same interface (:class:`collectors.snmp.client.SnmpClient`
picks one per session): ``native`` speaks SNMPv2c and SNMPv3/USM with netmon's own BER codec
(:mod:`collectors.snmp.ber`, :mod:`collectors.snmp.usm`) over one asyncio UDP
socket, and ``pysnmp`` (pysnmp 7), the reference, used for 3DES privacy and for
everything when configured with ``engine: pysnmp``. Collectors cannot tell
them apart; the tests run the collectors over both. This module is what both
engines import: the session base (the walking logic), the target, the errors,
the OID type and the two PDU types a session sends.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

OID = tuple[int, ...]
# The PDU types a session sends (RFC 3416 tags; the native codec encodes them as they are).
GET = 0xA0
GET_BULK = 0xA5

# A walk stops after this many requests even if the agent keeps answering:
# a broken agent that returns the same OIDs forever must not pin a poller.
MAX_REQUESTS_PER_WALK = 10_000


class _EndOfMibView:
    __slots__ = ()

    def __repr__(self) -> str:
        return "END_OF_MIB_VIEW"


END_OF_MIB_VIEW = _EndOfMibView()  # a varbind's value when the agent has nothing further (endOfMibView)


class SnmpError(Exception):
    """The agent answered with an error, or the answer made no sense."""

    reason = "snmp_error"


class SnmpTimeout(SnmpError):
    """No answer within timeout x (retries + 1)."""

    reason = "timeout"


class SnmpUnreachable(SnmpError):
    """The network said no one listens there (ICMP port or host unreachable): no point waiting for the timeout."""

    reason = "unreachable"


class SnmpBadAnswer(SnmpError):
    """The agent answered, but every answer was refused (malformed, wrong community...)."""

    reason = "bad_answer"


class SnmpAuthError(SnmpError):
    """USM rejected us (unknown user, wrong key, wrong level)."""

    reason = "auth"


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
