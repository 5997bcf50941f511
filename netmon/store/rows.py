"""Typed rows the store hands out to more than one of its readers."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class DeviceRow:
    """A device as the scheduler needs it: inventory plus its store id."""

    id: int
    hostname: str
    address: str
    port: int
    site: str
    role: str
    snmp_profile: str | None
    ssh_profile: str | None
    interval: int | None
    snmp_timeout: float | None = None
    snmp_retries: int | None = None
    platform: str | None = None
    ssh_port: int = 22
