"""SNMP transport: credentials and the session interface collectors use."""

from collectors.snmp.credentials import SnmpCredentials, SnmpV2cCredentials, SnmpV3Credentials
from collectors.snmp.session import (
    SnmpError,
    SnmpSession,
    SnmpTarget,
    SnmpTimeout,
    open_session,
)

__all__ = [
    "SnmpCredentials",
    "SnmpError",
    "SnmpSession",
    "SnmpTarget",
    "SnmpTimeout",
    "SnmpV2cCredentials",
    "SnmpV3Credentials",
    "open_session",
]
