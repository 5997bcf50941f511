"""Inventory model: what the network is made of, independent of where it was declared."""

from __future__ import annotations

from dataclasses import dataclass, field

ROLES = ("switch", "wlc", "router")
DEFAULT_SNMP_PORT = 161


@dataclass(frozen=True, slots=True)
class Site:
    name: str
    kind: str
    address: str = ""
    lat: float | None = None
    lon: float | None = None


@dataclass(frozen=True, slots=True)
class Device:
    hostname: str
    address: str  # management address (IPv4 or IPv6 literal)
    site: str
    role: str
    snmp_profile: str | None = None
    ssh_profile: str | None = None
    port: int = DEFAULT_SNMP_PORT
    interval: int | None = None  # seconds; None = the configured default
    timeout: float | None = None  # SNMP seconds per request; None = the configured default
    retries: int | None = None
    platform: str | None = None  # netmiko device_type for SSH collection (cisco_ios, cisco_nxos, ...)
    ssh_port: int = 22


@dataclass(frozen=True, slots=True)
class FibreLink:
    """A fibre the city owns between two device ports, with its length."""

    a: str  # hostname
    a_port: str
    b: str
    b_port: str
    length_km: float | None = None


@dataclass(frozen=True)
class Inventory:
    sites: list[Site] = field(default_factory=list)
    devices: list[Device] = field(default_factory=list)
    links: list[FibreLink] = field(default_factory=list)

    def site(self, name: str) -> Site | None:
        return next((s for s in self.sites if s.name == name), None)
