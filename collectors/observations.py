"""Typed observations: the contract between collectors and the store.

A collector returns these and nothing else. Where the data came from (SNMP,
SSH) does not show here, so the store and the exporters do not care.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class SystemInfo:
    """SNMPv2-MIB system group."""

    descr: str
    object_id: str
    uptime_ticks: int | None  # hundredths of a second, a 32-bit TimeTicks
    name: str


# IF-MIB ifOperStatus values
OPER_STATUS = {1: "up", 2: "down", 3: "testing", 4: "unknown", 5: "dormant", 6: "notPresent", 7: "lowerLayerDown"}
ADMIN_STATUS = {1: "up", 2: "down", 3: "testing"}


@dataclass(frozen=True, slots=True)
class InterfaceSample:
    """One row of ifTable + ifXTable at one instant.

    Counters are the device's raw values; ``counter_bits`` says whether the
    octet and packet counters are the 64-bit HC ones or the 32-bit fallback.
    Errors and discards only exist as Counter32 in IF-MIB.
    """

    ifindex: int
    name: str
    descr: str
    alias: str
    type: int
    speed_bps: int | None
    admin_status: int
    oper_status: int
    in_octets: int | None
    out_octets: int | None
    in_ucast_pkts: int | None
    out_ucast_pkts: int | None
    in_errors: int | None
    out_errors: int | None
    in_discards: int | None
    out_discards: int | None
    counter_bits: int
    discontinuity_ticks: int | None = None

    @property
    def oper_up(self) -> bool:
        return self.oper_status == 1

    @property
    def admin_up(self) -> bool:
        return self.admin_status == 1


@dataclass(frozen=True, slots=True)
class CollectorError:
    collector: str
    reason: str  # short, bounded set: timeout, auth, snmp_error, parse, internal
    message: str  # never carries credentials
