"""Typed observations: the contract between collectors and the store.

A collector returns these and nothing else. Where the data came from (SNMP,
SSH) does not show here, so the store and the exporters do not care. A list
of readings travels in a small wrapper that says what it is (:class:`Interfaces`,
:class:`Optics`, :class:`Hardware`, :class:`Neighbors`), so one device poll's
observations are told apart by type (:class:`Observations`, NAV's "shadow
container"), never by which collector module returned them.

Wi-Fi controllers (the last section) say what they say as they say it:
client MACs and user names are the raw values there. They are personal data
of residents; the store replaces them with keyed pseudonyms
(:mod:`netmon.privacy`) before anything is written, and no collector logs
them. ``repr`` leaves them out so an error message or a debug print of a
:class:`Client` cannot leak them by accident. MACs are always written
``aa:bb:cc:dd:ee:ff``. An access point is keyed by the MAC its controller
indexes it by (Cisco: the base radio MAC; Aruba: the AP's MAC); radios and
clients refer to their AP by that MAC.
"""

from __future__ import annotations

from dataclasses import dataclass, field


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


# -- Wi-Fi controllers ----------------------------------------------------------------------------------------

BANDS = ("2.4GHz", "5GHz", "6GHz")
AP_STATUSES = ("up", "down", "downloading", "disabled", "unknown")


@dataclass(frozen=True, slots=True)
class AccessPoint:
    mac: str
    name: str
    model: str = ""
    serial: str = ""
    ip: str = ""
    location: str = ""
    status: str = "unknown"  # one of AP_STATUSES
    uptime_seconds: int | None = None


@dataclass(frozen=True, slots=True)
class Radio:
    """One radio (slot) of an AP.

    ``tx_power`` is in the unit ``tx_power_unit`` names: ``"dBm"`` when the
    controller gives (or lets us derive) an absolute power, ``"level"`` for a
    Cisco power level (1 = strongest, each step about 3 dB weaker) when the
    radio does not publish its level-to-dBm table, ``""`` when unknown.
    ``utilization_ratio`` is the channel utilisation the AP measures, 0..1.
    """

    ap_mac: str
    slot: int
    band: str | None  # one of BANDS, None when not derivable
    channel: int | None
    tx_power: float | None
    tx_power_unit: str
    clients: int | None
    utilization_ratio: float | None
    status: str = "unknown"  # up | down | unknown


@dataclass(frozen=True, slots=True)
class Wlan:
    """A WLAN (SSID) and how many clients the controller counts on it."""

    ssid: str
    wlan_id: int | None  # the controller's WLAN index (Cisco); None where SSIDs are the key (Aruba)
    clients: int | None


@dataclass(frozen=True, slots=True)
class Client:
    """One wireless client (station) as the controller sees it.

    ``bytes_rx`` counts bytes received *from* the client (uplink) and
    ``bytes_tx`` bytes sent *to* it (downlink), both from the network's side.
    ``rssi_dbm`` and ``snr_db`` are the signal at the AP; ``None`` when the
    controller does not give them. ``status`` is the controller's own state
    name (``associated``, ``authenticated``, ``probing``...).
    """

    mac: str = field(repr=False)
    ap_mac: str
    ssid: str
    wlan_id: int | None
    protocol: str  # 802.11ax | 802.11ac | 802.11n | 802.11a | 802.11g | 802.11b | ... | unknown
    rssi_dbm: int | None
    snr_db: int | None
    bytes_rx: int | None
    bytes_tx: int | None
    status: str
    username: str = field(default="", repr=False)


@dataclass(frozen=True, slots=True)
class WlcResult:
    """Everything one poll of a controller returned.

    ``reported_ap_count`` and ``reported_client_count`` are the controller's
    own totals (a scalar it keeps), when it has one: they can differ from the
    length of ``aps``/``clients`` (APs that are known but not joined, a table
    the agent truncates). An empty controller is a valid answer.
    """

    profile: str  # aireos | c9800 | aruba
    controller_model: str
    aps: tuple[AccessPoint, ...] = ()
    radios: tuple[Radio, ...] = ()
    wlans: tuple[Wlan, ...] = ()
    clients: tuple[Client, ...] = ()
    reported_ap_count: int | None = None
    reported_client_count: int | None = None

    def clients_per_ssid(self) -> dict[str, int]:
        """Client rows per SSID, from the client table (not the controller's WLAN counters)."""
        counts: dict[str, int] = {}
        for c in self.clients:
            counts[c.ssid] = counts.get(c.ssid, 0) + 1
        return counts


# -- what one collector run returns, and one device poll's observations together --------------------------------


@dataclass(frozen=True, slots=True)
class Interfaces:
    """IF-MIB ifTable + ifXTable of one device."""

    samples: list[InterfaceSample]


@dataclass(frozen=True, slots=True)
class Optics:
    """Transceiver DOM readings of one device (every sensor it has)."""

    readings: list[OpticReading]


@dataclass(frozen=True, slots=True)
class Hardware:
    """The hardware inventory of one device."""

    items: list[HardwareItem]


@dataclass(frozen=True, slots=True)
class Neighbors:
    """What one protocol (``lldp``, ``cdp``) sees on the device's ports; LLDP also gives the device's own chassis id."""

    protocol: str
    neighbors: list[Neighbor]
    chassis_id: str | None = None


@dataclass
class Steps:
    """What a collector with steps of its own returns (an SSH session: the login, then each command).

    Its own runs (``cli``, ``cli.optics``, ...) and errors, the observations the steps gave, and when the device's
    uptime was read (``read_at``, Unix time; None: no uptime in the observations).
    """

    observations: list = field(default_factory=list)
    runs: list[CollectorRun] = field(default_factory=list)
    errors: list[CollectorError] = field(default_factory=list)
    read_at: float | None = None


Observation = SystemInfo | Interfaces | Optics | Hardware | Neighbors | WlcResult


@dataclass
class Observations:
    """One device poll's observations, by type: what the store records for the poll. ``None``: not collected."""

    system: SystemInfo | None = None
    interfaces: list[InterfaceSample] | None = None
    optics: list[OpticReading] | None = None
    hardware: list[HardwareItem] | None = None
    neighbors: list[Neighbor] | None = None  # LLDP and CDP together
    chassis_id: str | None = None  # the device's own LLDP chassis id, when LLDP was read
    wlc: WlcResult | None = None

    def add(self, observation: Observation) -> None:
        match observation:
            case SystemInfo():
                self.system = observation
            case Interfaces(samples):
                self.interfaces = samples
            case Optics(readings):
                self.optics = readings
            case Hardware(items):
                self.hardware = items
            case Neighbors(_, neighbors, chassis_id):
                self.neighbors = (self.neighbors or []) + neighbors
                if chassis_id is not None:
                    self.chassis_id = chassis_id
            case WlcResult():
                self.wlc = observation
            case _:
                raise TypeError(f"not an observation: {type(observation).__name__}")
