"""The one SNMP seam collectors use: get, get-many and bulk-walk of columns.

Collectors never touch pysnmp directly. Everything they need is here:

* :meth:`SnmpSession.get` fetches scalars (one request for many OIDs);
* :meth:`SnmpSession.walk_columns` walks a set of table columns with GETBULK,
  all columns side by side in one PDU, so a 10-column table of 48 rows costs
  a handful of requests instead of one walk per column;

and the values come back as plain Python (``int``, ``bytes``, OID tuples),
so the engine behind this module can be profiled or replaced without
touching a collector.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from pyasn1.type import univ
from pysnmp.hlapi.v3arch.asyncio import (
    CommunityData,
    ContextData,
    ObjectIdentity,
    ObjectType,
    SnmpEngine,
    Udp6TransportTarget,
    UdpTransportTarget,
    UsmUserData,
    bulk_cmd,
    get_cmd,
    usm3DESEDEPrivProtocol,
    usmAesCfb128Protocol,
    usmAesCfb192Protocol,
    usmAesCfb256Protocol,
    usmDESPrivProtocol,
    usmHMAC128SHA224AuthProtocol,
    usmHMAC192SHA256AuthProtocol,
    usmHMAC256SHA384AuthProtocol,
    usmHMAC384SHA512AuthProtocol,
    usmHMACMD5AuthProtocol,
    usmHMACSHAAuthProtocol,
)
from pysnmp.proto import errind, rfc1905

from collectors.snmp.credentials import SnmpCredentials, SnmpV2cCredentials

OID = tuple[int, ...]

_AUTH = {
    "md5": usmHMACMD5AuthProtocol,
    "sha": usmHMACSHAAuthProtocol,
    "sha224": usmHMAC128SHA224AuthProtocol,
    "sha256": usmHMAC192SHA256AuthProtocol,
    "sha384": usmHMAC256SHA384AuthProtocol,
    "sha512": usmHMAC384SHA512AuthProtocol,
}
_PRIV = {
    "des": usmDESPrivProtocol,
    "3des": usm3DESEDEPrivProtocol,
    "aes": usmAesCfb128Protocol,
    "aes128": usmAesCfb128Protocol,
    "aes192": usmAesCfb192Protocol,
    "aes256": usmAesCfb256Protocol,
}

# A walk stops after this many requests even if the agent keeps answering:
# a broken agent that returns the same OIDs forever must not pin a poller.
MAX_REQUESTS_PER_WALK = 10_000


class SnmpError(Exception):
    """The agent answered with an error, or the answer made no sense."""

    reason = "snmp_error"


class SnmpTimeout(SnmpError):
    """No answer within timeout x (retries + 1)."""

    reason = "timeout"


class SnmpAuthError(SnmpError):
    """USM rejected us (unknown user, wrong key, wrong level)."""

    reason = "auth"


def parse_oid(text: str) -> OID:
    return tuple(int(x) for x in text.strip(".").split("."))


def oid_str(oid: Iterable[int]) -> str:
    return ".".join(str(x) for x in oid)


@dataclass(frozen=True)
class SnmpTarget:
    """Where and how patiently to ask. ``host`` is an address, never a name we resolve per poll."""

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


_NO_VALUE = (rfc1905.NoSuchObject, rfc1905.NoSuchInstance, univ.Null)


def _py(value):
    """pyasn1 value -> plain Python. ``None`` for noSuchObject/noSuchInstance."""
    if isinstance(value, univ.OctetString):
        return bytes(value)
    if isinstance(value, univ.Integer):
        return int(value)
    if isinstance(value, univ.ObjectIdentifier):
        return tuple(value)
    if isinstance(value, _NO_VALUE):
        return None
    return value.prettyPrint()


def _auth_data(creds: SnmpCredentials):
    if isinstance(creds, SnmpV2cCredentials):
        return CommunityData(creds.community, mpModel=1)
    return UsmUserData(
        creds.user,
        authKey=creds.auth_key,
        privKey=creds.priv_key,
        authProtocol=_AUTH[creds.auth_protocol] if creds.auth_protocol else None,
        privProtocol=_PRIV[creds.priv_protocol] if creds.priv_protocol else None,
    )


_AUTH_FAILURES = (
    errind.WrongDigest,
    errind.UnknownUserName,
    errind.UnsupportedSecurityLevel,
    errind.DecryptionError,
    errind.AuthenticationError,
    errind.AuthenticationFailure,
    errind.UnknownSecurityName,
    errind.NotInTimeWindow,
)


def _classify(indication) -> SnmpError:
    """pysnmp error indication -> our exception; the text names the failure, never a key."""
    if isinstance(indication, errind.RequestTimedOut):
        return SnmpTimeout(str(indication))
    if isinstance(indication, _AUTH_FAILURES):
        return SnmpAuthError(str(indication))
    return SnmpError(str(indication))


class SnmpClient:
    """Owns the pysnmp engine. One per process (or per benchmark run); sessions are cheap."""

    def __init__(self) -> None:
        self.engine = SnmpEngine()

    async def session(self, target: SnmpTarget, creds: SnmpCredentials) -> SnmpSession:
        transport_cls = Udp6TransportTarget if ":" in target.host else UdpTransportTarget
        transport = await transport_cls.create(
            (target.host, target.port), timeout=target.timeout, retries=target.retries
        )
        context = ContextData(contextName=getattr(creds, "context", "") or "")
        return SnmpSession(self.engine, target, _auth_data(creds), transport, context)

    def close(self) -> None:
        self.engine.close_dispatcher()


@dataclass
class SnmpSession:
    engine: SnmpEngine
    target: SnmpTarget
    auth: object
    transport: object
    context: ContextData
    stats: SessionStats = field(default_factory=SessionStats)

    async def get(self, oids: Sequence[OID]) -> dict[OID, object]:
        """GET several OIDs in one request; missing ones map to ``None``."""
        started = time.perf_counter()
        err_ind, err_status, err_index, var_binds = await get_cmd(
            self.engine,
            self.auth,
            self.transport,
            self.context,
            *[ObjectType(ObjectIdentity(oid_str(o))) for o in oids],
            lookupMib=False,
        )
        self._account(started, len(var_binds))
        if err_ind:
            raise _classify(err_ind)
        if err_status:
            raise SnmpError(f"{err_status.prettyPrint()} at varbind {int(err_index)}")
        return {tuple(name): _py(value) for name, value in var_binds}

    async def walk_columns(self, columns: Sequence[OID]) -> dict[OID, dict[OID, object]]:
        """Walk table columns with GETBULK, all of them in each request.

        Returns ``{column: {index: value}}``. A column the agent does not
        implement comes back empty. The walk of one column ends when the
        agent leaves its subtree, reports endOfMibView, or returns an OID
        that does not increase (a broken agent; we stop rather than loop).
        """
        result: dict[OID, dict[OID, object]] = {c: {} for c in columns}
        cursor = {c: c for c in columns}
        active = list(columns)
        requests = 0
        while active:
            requests += 1
            if requests > MAX_REQUESTS_PER_WALK:
                raise SnmpError(f"walk did not finish after {MAX_REQUESTS_PER_WALK} requests")
            started = time.perf_counter()
            err_ind, err_status, err_index, var_binds = await bulk_cmd(
                self.engine,
                self.auth,
                self.transport,
                self.context,
                0,
                self.target.max_repetitions,
                *[ObjectType(ObjectIdentity(oid_str(cursor[c]))) for c in active],
                lookupMib=False,
            )
            self._account(started, len(var_binds))
            if err_ind:
                raise _classify(err_ind)
            if err_status:
                raise SnmpError(f"{err_status.prettyPrint()} at varbind {int(err_index)}")
            if not var_binds:
                raise SnmpError("empty GETBULK response")
            width = len(active)
            finished: set[OID] = set()
            for i, (name, value) in enumerate(var_binds):
                column = active[i % width]
                if column in finished:
                    continue
                oid = tuple(name)
                n = len(column)
                if isinstance(value, rfc1905.EndOfMibView) or oid[:n] != column:
                    finished.add(column)
                    continue
                if oid <= cursor[column]:
                    finished.add(column)
                    continue
                cursor[column] = oid
                result[column][oid[n:]] = _py(value)
            active = [c for c in active if c not in finished]
        return result

    def _account(self, started: float, varbinds: int) -> None:
        self.stats.requests += 1
        self.stats.varbinds += varbinds
        self.stats.seconds += time.perf_counter() - started


async def open_session(client: SnmpClient, target: SnmpTarget, creds: SnmpCredentials) -> SnmpSession:
    return await client.session(target, creds)
