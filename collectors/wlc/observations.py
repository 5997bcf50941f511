"""Typed observations of a wireless LAN controller: access points, radios, WLANs, clients.

What the controller says, as it says it: client MACs and user names are the
raw values here. They are personal data of residents; the store replaces them
with keyed pseudonyms (:mod:`netmon.privacy`) before anything is written, and
no collector logs them. ``repr`` leaves them out so an error message or a
debug print of a :class:`Client` cannot leak them by accident.

MACs are always written ``aa:bb:cc:dd:ee:ff``. An access point is keyed by
the MAC its controller indexes it by (Cisco: the base radio MAC; Aruba: the
AP's MAC); radios and clients refer to their AP by that MAC.
"""

from __future__ import annotations

from dataclasses import dataclass, field

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
