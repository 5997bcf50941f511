"""The pysnmp 7 engine behind :class:`collectors.snmp.api.SnmpSession`: SNMPv3 (and v2c on request)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

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

from collectors.credentials import SnmpCredentials, SnmpV2cCredentials
from collectors.snmp.api import (
    END_OF_MIB_VIEW,
    GET,
    OID,
    SnmpAuthError,
    SnmpError,
    SnmpSession,
    SnmpTarget,
    SnmpTimeout,
    oid_str,
)

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
_NO_VALUE = (rfc1905.NoSuchObject, rfc1905.NoSuchInstance, univ.Null)


def py_value(value):
    """pyasn1 value -> the plain Python the native codec gives for the same bytes."""
    # Order matters: in pyasn1, Null (and so noSuchObject, noSuchInstance, endOfMibView) is an OctetString.
    if isinstance(value, rfc1905.EndOfMibView):
        return END_OF_MIB_VIEW
    if isinstance(value, _NO_VALUE):
        return None
    if isinstance(value, univ.OctetString):
        return bytes(value)
    if isinstance(value, univ.Integer):
        return int(value)
    if isinstance(value, univ.ObjectIdentifier):
        return tuple(value)
    raise SnmpError(f"unsupported value type {type(value).__name__}")


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


def _classify(indication) -> SnmpError:
    """pysnmp error indication -> our exception; the text names the failure, never a key."""
    if isinstance(indication, errind.RequestTimedOut):
        return SnmpTimeout(str(indication))
    if isinstance(indication, _AUTH_FAILURES):
        return SnmpAuthError(str(indication))
    return SnmpError(str(indication))


class PysnmpEngine:
    def __init__(self) -> None:
        self.engine = SnmpEngine()

    async def session(self, target: SnmpTarget, creds: SnmpCredentials) -> PysnmpSession:
        transport_cls = Udp6TransportTarget if ":" in target.host else UdpTransportTarget
        transport = await transport_cls.create(
            (target.host, target.port), timeout=target.timeout, retries=target.retries
        )
        context = ContextData(contextName=getattr(creds, "context", "") or "")
        return PysnmpSession(target, engine=self.engine, auth=_auth_data(creds), transport=transport, context=context)

    def close(self) -> None:
        self.engine.close_dispatcher()


@dataclass
class PysnmpSession(SnmpSession):
    engine: SnmpEngine | None = None
    auth: object = None
    transport: object = None
    context: ContextData | None = None

    async def _exchange(self, pdu_type: int, oids: Sequence[OID], max_repetitions: int = 0):
        varbinds = [ObjectType(ObjectIdentity(oid_str(o))) for o in oids]
        if pdu_type == GET:
            reply = await get_cmd(self.engine, self.auth, self.transport, self.context, *varbinds, lookupMib=False)
        else:
            reply = await bulk_cmd(
                self.engine, self.auth, self.transport, self.context, 0, max_repetitions, *varbinds, lookupMib=False
            )
        err_ind, err_status, err_index, var_binds = reply
        if err_ind:
            raise _classify(err_ind)
        return int(err_status), int(err_index), [(tuple(name), py_value(value)) for name, value in var_binds]
