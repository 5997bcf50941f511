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
class CollectorRun:
    """One run of one collector against one device: how long it took and, when it failed, why."""

    collector: str
    duration: float
    error_reason: str | None = None  # None: success


@dataclass(frozen=True, slots=True)
class CollectorError:
    collector: str
    reason: str  # short, bounded set: timeout, auth, snmp_error, parse, internal
    message: str  # never carries credentials


# -- fibre health, topology, hardware (issue 3) ---------------------------------

SENSOR_KINDS = ("rx_power", "tx_power", "temperature", "bias", "voltage")
THRESHOLD_KINDS = ("low_alarm", "low_warning", "high_warning", "high_alarm")


@dataclass(frozen=True, slots=True)
class OpticReading:
    """One transceiver sensor, in base units: dBm for power, Celsius, amperes, volts.

    ``ifname`` links it to an interface when the device says which one (ENTITY-MIB
    containment or alias mapping, or the CLI's port column); ``lane`` is 0 for
    single-lane optics and 1..N for each lane of a multi-lane one.
    ``thresholds`` maps THRESHOLD_KINDS to values in the same unit, where known.
    """

    ifname: str | None
    ifindex: int | None
    lane: int
    kind: str  # one of SENSOR_KINDS
    value: float
    thresholds: dict[str, float]
    sensor: str  # the device's own name for the sensor, for humans


@dataclass(frozen=True, slots=True)
class Neighbor:
    """A neighbour seen on a local port through LLDP or CDP."""

    protocol: str  # "lldp" | "cdp"
    local_port: str
    remote_name: str  # sysName / Device-ID as the neighbour announces it
    remote_port: str
    remote_chassis_id: str = ""
    remote_address: str = ""  # management address, when announced
    remote_platform: str = ""
    remote_description: str = ""


@dataclass(frozen=True, slots=True)
class HardwareItem:
    """One ENTITY-MIB entPhysicalEntry (or a CLI `show inventory` line)."""

    index: int | None
    klass: str  # chassis | module | transceiver | powerSupply | fan | stack
    name: str
    description: str
    model: str
    serial: str
    firmware: str = ""
    software: str = ""
    hardware_rev: str = ""
    contained_in: int | None = None
