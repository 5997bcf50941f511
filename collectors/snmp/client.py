"""The SNMP engines' owner: :class:`SnmpClient` opens sessions on the engine that can serve a credential profile."""

from __future__ import annotations

from collectors.credentials import SnmpCredentials, SnmpV2cCredentials
from collectors.snmp.api import SnmpSession, SnmpTarget
from collectors.snmp.native import NativeTransport
from collectors.snmp.pysnmp_engine import PysnmpEngine
from collectors.snmp.usm import NATIVE_PRIV

ENGINES = ("native", "pysnmp")


def _native_can(creds: SnmpCredentials) -> bool:
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
                self._native = NativeTransport()
            return await self._native.session(target, creds)
        if self._pysnmp is None:
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
