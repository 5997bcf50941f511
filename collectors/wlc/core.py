"""What every controller profile shares: value decoding, RF helpers, the controller's model.

Pure functions (MAC and address rendering, band from channel, Cisco power
levels) are kept free of SNMP so they can be tested on their own.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable, Iterable, Sequence

from collectors.observations import AccessPoint, Client, Radio, Wlan, WlcResult
from collectors.snmp.api import OID, SnmpError, SnmpSession

SYS_DESCR = (1, 3, 6, 1, 2, 1, 1, 1, 0)
ENT_PHYSICAL_CLASS = (1, 3, 6, 1, 2, 1, 47, 1, 1, 1, 1, 5)
ENT_PHYSICAL_MODEL = (1, 3, 6, 1, 2, 1, 47, 1, 1, 1, 1, 13)
ENT_CLASS_CHASSIS = 3

# 20 MHz channel centres (IEEE 802.11 channel numbering).
CHANNELS_24 = frozenset(range(1, 15))
CHANNELS_5 = frozenset([32, *range(36, 69, 4), 96, *range(100, 145, 4), *range(149, 178, 4)])
CHANNELS_6 = frozenset([2, *range(1, 234, 4)])


class NotAController(SnmpError):
    """The device is not a controller netmon has a profile for."""

    reason = "unsupported"


def text(value: object) -> str:
    """An OCTET STRING as text: UTF-8 (lenient), without NULs and surrounding blanks."""
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace").replace("\x00", "").strip()
    return ""


def number(value: object) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def mac(value: object) -> str:
    """``aa:bb:cc:dd:ee:ff`` from 6 raw octets or a 6-part OID index; ``""`` for anything else."""
    if (
        isinstance(value, bytes | tuple)
        and len(value) == 6
        and all(isinstance(b, int) and 0 <= b <= 255 for b in value)
    ):
        return ":".join(f"{b:02x}" for b in value)
    return ""


def ip_text(value: object) -> str:
    """IpAddress or InetAddress octets as text; ``""`` for none, the wrong size, or 0.0.0.0 / ::."""
    if not isinstance(value, bytes) or len(value) not in (4, 16):
        return ""
    address = ipaddress.ip_address(value)
    return "" if address.is_unspecified else str(address)


def string_index(index: OID) -> str | None:
    """Decode a string used as a (non-IMPLIED) table index: a length, then that many octets."""
    if not index or index[0] != len(index) - 1 or not all(0 <= b <= 255 for b in index[1:]):
        return None
    return bytes(index[1:]).decode("utf-8", "replace")


def seconds_from_ticks(value: object) -> int | None:
    ticks = number(value)
    return ticks // 100 if ticks is not None and ticks >= 0 else None


def ratio_from_percent(value: object) -> float | None:
    percent = number(value)
    return percent / 100 if percent is not None and 0 <= percent <= 100 else None


def band_from_channel(channel: int | None, five_or_six: bool = False) -> str | None:
    """The band a 20 MHz channel number belongs to, or None when it cannot be told.

    Without more to go on, a channel is either 2.4 GHz (1-14) or 5 GHz: 6 GHz
    channel numbers overlap both, so a radio is only put in 6 GHz when it is
    known to be a 5-or-6 GHz radio (``five_or_six``) and the number exists in
    6 GHz but not in 5 GHz.
    """
    if channel is None:
        return None
    if five_or_six:
        in5, in6 = channel in CHANNELS_5, channel in CHANNELS_6
        if in5 and not in6:
            return "5GHz"
        if in6 and not in5:
            return "6GHz"
        return None
    if channel in CHANNELS_24:
        return "2.4GHz"
    if channel in CHANNELS_5:
        return "5GHz"
    return None


def power_levels(value: object) -> list[int]:
    """A Cisco radio's ``bsnAPIfAbsolutePowerList``: dBm per power level, level 1 first ("16,13,10")."""
    out = []
    for part in text(value).split(","):
        try:
            out.append(int(part.strip()))
        except ValueError:
            return []
    return out


def dbm_for_level(level: int | None, levels: Sequence[int]) -> int | None:
    """The dBm of Cisco power ``level`` (1 = the first, strongest entry), or None if out of the list."""
    if level is None or not 1 <= level <= len(levels):
        return None
    return levels[level - 1]


def access_point(
    cols: dict[OID, dict[OID, object]],
    index: OID,
    mac: str,
    status: str,
    *,
    name: OID,
    model: OID,
    serial: OID,
    ip: OID,
    location: OID,
    uptime: OID,
) -> AccessPoint:
    """An AccessPoint from one row of a vendor's AP table: each field named by the column that holds it."""
    return AccessPoint(
        mac=mac,
        name=text(cols[name].get(index)),
        model=text(cols[model].get(index)),
        serial=text(cols[serial].get(index)),
        ip=ip_text(cols[ip].get(index)),
        location=text(cols[location].get(index)),
        status=status,
        uptime_seconds=seconds_from_ticks(cols[uptime].get(index)),
    )


def mac_keyed_aps(
    cols: dict[OID, dict[OID, object]], indexes: Iterable[OID], status_of: Callable[[OID], str], **columns: OID
) -> list[AccessPoint]:
    """The APs of a table indexed by the AP's MAC (Cisco's base radio MAC); a row whose index is not one is skipped.

    ``columns`` name the column of each field, as :func:`access_point` takes them.
    """
    out = []
    for index in indexes:
        ap_mac = mac(index)
        if ap_mac:
            out.append(access_point(cols, index, ap_mac, status_of(index), **columns))
    return out


def rows(columns: dict[OID, dict[OID, object]], *keys: OID) -> list[OID]:
    """Every index present in any of ``keys``' columns, sorted."""
    return sorted({i for k in keys for i in columns.get(k, {})})


def mac_index(index: OID) -> tuple[str, OID]:
    """Split an index that starts with a 6-octet MAC: (mac, the rest)."""
    return mac(index[:6]), index[6:]


async def controller_model(session: SnmpSession, first: str = "") -> str:
    """The controller's model: ``first`` if the profile already knows it, else ENTITY-MIB.

    From ENTITY-MIB, the lowest-numbered chassis with a model name, else (some
    agents leave out entPhysicalClass) the lowest-numbered entity with one.
    """
    if first:
        return first
    cols = await session.walk_columns([ENT_PHYSICAL_CLASS, ENT_PHYSICAL_MODEL])
    models = {i: text(v) for i, v in cols[ENT_PHYSICAL_MODEL].items() if text(v)}
    chassis = [i for i in sorted(models) if cols[ENT_PHYSICAL_CLASS].get(i) == ENT_CLASS_CHASSIS]
    if chassis:
        return models[chassis[0]]
    return models[min(models)] if models else ""


def result(
    profile: str,
    model: str,
    aps: Iterable[AccessPoint] = (),
    radios: Iterable[Radio] = (),
    wlans: Iterable[Wlan] = (),
    clients: Iterable[Client] = (),
    reported_ap_count: int | None = None,
    reported_client_count: int | None = None,
) -> WlcResult:
    """A :class:`WlcResult` in a stable order, whatever order the agent answered in."""
    return WlcResult(
        profile=profile,
        controller_model=model,
        aps=tuple(sorted(aps, key=lambda a: a.mac)),
        radios=tuple(sorted(radios, key=lambda r: (r.ap_mac, r.slot))),
        wlans=tuple(sorted(wlans, key=lambda w: (w.wlan_id is None, w.wlan_id or 0, w.ssid))),
        clients=tuple(sorted(clients, key=lambda c: c.mac)),
        reported_ap_count=reported_ap_count,
        reported_client_count=reported_client_count,
    )
