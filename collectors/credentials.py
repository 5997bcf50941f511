"""Credential profiles: SNMP (v2c community, v3 USM user), SSH, and RADIUS clients, as the secrets file declares them.

These objects hold secrets, so their ``repr`` never shows them: a profile that
ends up in a log line or a traceback prints its name and security level only.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field

AUTH_PROTOCOLS = ("md5", "sha", "sha224", "sha256", "sha384", "sha512")
PRIV_PROTOCOLS = ("des", "3des", "aes", "aes128", "aes192", "aes256")


@dataclass(frozen=True)
class SnmpV2cCredentials:
    profile: str
    community: str = field(repr=False)

    version = "2c"

    @property
    def security_level(self) -> str:
        return "community"


@dataclass(frozen=True)
class SnmpV3Credentials:
    profile: str
    user: str
    auth_protocol: str | None = None
    auth_key: str | None = field(default=None, repr=False)
    priv_protocol: str | None = None
    priv_key: str | None = field(default=None, repr=False)
    context: str = ""

    version = "3"

    def __post_init__(self) -> None:
        if self.auth_protocol is not None and self.auth_protocol not in AUTH_PROTOCOLS:
            # The value is not echoed: a key pasted into the wrong field must not reach a log.
            raise ValueError(f"unknown SNMPv3 auth protocol (one of {', '.join(AUTH_PROTOCOLS)})")
        if self.priv_protocol is not None and self.priv_protocol not in PRIV_PROTOCOLS:
            raise ValueError(f"unknown SNMPv3 privacy protocol (one of {', '.join(PRIV_PROTOCOLS)})")
        if self.priv_protocol and not self.auth_protocol:
            raise ValueError("SNMPv3 privacy needs authentication (there is no noAuthPriv level)")
        if self.auth_protocol and not self.auth_key:
            raise ValueError("SNMPv3 auth protocol set without an auth key")
        if self.priv_protocol and not self.priv_key:
            raise ValueError("SNMPv3 privacy protocol set without a privacy key")
        for key in (self.auth_key, self.priv_key):
            # RFC 3414 section 11.2: pass phrases shorter than 8 octets are refused by agents.
            if key is not None and len(key) < 8:
                raise ValueError("SNMPv3 keys must be at least 8 characters (RFC 3414)")

    @property
    def security_level(self) -> str:
        if self.priv_protocol:
            return "authPriv"
        if self.auth_protocol:
            return "authNoPriv"
        return "noAuthNoPriv"


SnmpCredentials = SnmpV2cCredentials | SnmpV3Credentials


@dataclass(frozen=True)
class SshCredentials:
    profile: str
    username: str
    password: str | None = field(default=None, repr=False)
    key_file: str | None = None
    enable_secret: str | None = field(default=None, repr=False)


@dataclass(frozen=True)
class Nas:
    """A declared RADIUS client (a controller): its name, the address or network it sends from, its secret."""

    name: str
    network: ipaddress.IPv4Network | ipaddress.IPv6Network
    secret: bytes = field(repr=False)
