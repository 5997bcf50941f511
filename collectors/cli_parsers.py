"""CLI output -> observations, without SSH: TextFSM rows in, typed observations out.

Parsing goes through ntc-templates' TextFSM index (:func:`parse_rows`, the same
``CliTable`` path netmiko's ``use_textfsm=True`` takes); everything after it is a
pure function of the parsed rows (a list of dicts with lower-case keys), so the
recorded outputs in ``../shared/fixtures/cli`` test it directly.

Units follow :class:`collectors.observations.OpticReading`: dBm, Celsius, amperes
(the CLI prints milliamperes), volts. ``N/A``, ``--`` and blanks are "no reading",
never zero.
"""

from __future__ import annotations

import functools
import io
import ipaddress
import re
from collections.abc import Iterable
from decimal import Decimal, InvalidOperation
from pathlib import Path

from collectors.observations import HardwareItem, Neighbor, OpticReading, SystemInfo

KINDS = ("system", "hardware", "optics", "lldp", "cdp")

# The commands run per TextFSM platform, in this order. Each has an ntc-templates
# template; the exact spelling matters: the index matches the command by regular
# expression, and e.g. cisco_ios "show interfaces transceiver" falls to the
# "show interfaces" template, so IOS gets the singular "show interface transceiver".
COMMANDS: dict[str, dict[str, str]] = {
    "cisco_ios": {
        "system": "show version",
        "hardware": "show inventory",
        "optics": "show interface transceiver",
        "lldp": "show lldp neighbors detail",
        "cdp": "show cdp neighbors detail",
    },
    "cisco_nxos": {
        "system": "show version",
        "hardware": "show inventory",
        # the plain command only lists vendor/part/serial; the DOM values need "details"
        "optics": "show interface transceiver details",
        "lldp": "show lldp neighbors detail",
        "cdp": "show cdp neighbors detail",
    },
    "arista_eos": {
        "system": "show version",
        "optics": "show interfaces transceiver detail",
        "lldp": "show lldp neighbors detail",
    },
    "juniper_junos": {
        "system": "show version",
        "lldp": "show lldp neighbors",
    },
}

# netmiko device_type -> ntc-templates platform
PLATFORMS = {
    "cisco_ios": "cisco_ios",
    "cisco_xe": "cisco_ios",
    "cisco_nxos": "cisco_nxos",
    "arista_eos": "arista_eos",
    "juniper_junos": "juniper_junos",
    "juniper": "juniper_junos",
}

TICKS_MODULUS = 2**32  # SystemInfo.uptime_ticks is a 32-bit TimeTicks, like sysUpTime


class CliParseError(ValueError):
    """TextFSM rejected the output (its template hit an Error state) or has no template for it."""


def template_platform(device_type: str) -> str:
    try:
        return PLATFORMS[device_type]
    except KeyError:
        raise ValueError(
            f"unsupported device_type {device_type!r} (supported: {', '.join(sorted(PLATFORMS))})"
        ) from None


# The project's own TextFSM templates (``collectors/templates/``), where ntc-templates has none or misreads the
# output: (platform, command) -> template. The 9800's AP summary has one in ntc-templates, but it misreads 17.9+
# output (see the template's comment); AireOS's radio lists have the same columns for both bands.
TEMPLATES = Path(__file__).with_name("templates")
_RADIO_LIST = TEMPLATES / "cisco_wlc_ssh_show_advanced_802.11_summary.textfsm"
OWN_TEMPLATES = {
    ("cisco_ios", "show wlan summary"): TEMPLATES / "cisco_ios_show_wlan_summary.textfsm",
    ("cisco_ios", "show ap summary"): TEMPLATES / "cisco_ios_show_ap_summary.textfsm",
    ("cisco_wlc_ssh", "show advanced 802.11b summary"): _RADIO_LIST,
    ("cisco_wlc_ssh", "show advanced 802.11a summary"): _RADIO_LIST,
}


@functools.cache
def _template_text(path: Path) -> str:
    return path.read_text(encoding="utf-8")


def _first_line_of(exc: Exception) -> str:
    # TextFSM's message quotes the offending input line: keep only its first line, bounded.
    return str(exc).strip().splitlines()[0][:160] if str(exc).strip() else type(exc).__name__


def parse_rows(platform: str, command: str, raw: str) -> list[dict[str, str]]:
    """TextFSM-parse ``raw`` (rows with lower-case keys) with netmon's own template for (platform, command) where
    it has one (:data:`OWN_TEMPLATES`), else ntc-templates' (the index netmiko's ``use_textfsm`` uses)."""
    import textfsm
    from ntc_templates.parse import parse_output
    from textfsm.clitable import CliTableError

    own = OWN_TEMPLATES.get((platform, command))
    try:
        if own is None:
            rows = parse_output(platform=platform, command=command, data=raw)
            return [{str(k).lower(): v for k, v in row.items()} for row in rows]
        fsm = textfsm.TextFSM(io.StringIO(_template_text(own)))  # a parser holds state: a new one per output
        keys = [h.lower() for h in fsm.header]
        return [dict(zip(keys, row, strict=True)) for row in fsm.ParseText(raw)]
    except (textfsm.TextFSMError, CliTableError) as exc:
        raise CliParseError(_first_line_of(exc)) from None


# -- values -------------------------------------------------------------------------------------

_NUMBER = re.compile(r"[-+]?\d+(?:\.\d+)?")


def number(text: object) -> Decimal | None:
    """A decimal reading, or None for N/A, --, blanks and anything else that is not a number."""
    if not isinstance(text, str):
        return None
    text = text.strip()
    if not _NUMBER.fullmatch(text):
        return None
    try:
        return Decimal(text)
    except InvalidOperation:  # pragma: no cover - the regex already vouched for it
        return None


def cell(row: dict, key: str) -> str:
    """A TextFSM row's value as stripped text (the first of a list value; "" when absent)."""
    value = row.get(key, "")
    if isinstance(value, list):
        value = value[0] if value else ""
    return str(value or "").strip()


# Uptime phrases of every CLI netmon reads: IOS "2 years, 31 weeks, 6 days, 9 hours, 55 minutes" and "123 day(s),
# 5 hour(s)", NX-OS "5 days, 3:02:01", AireOS "109 days 16 hrs 33 mins 12 secs", ArubaOS "2d:17h:8m:4s", and the
# compact "5w2d", "1y2w" of older IOS neighbour and uptime columns.
_UPTIME_PART = re.compile(
    r"(\d+)\s*(years?|weeks?|days?|hours?|hrs?|minutes?|mins?|seconds?|secs?|[ywdhms])(?:\(s\))?(?![a-z])", re.I
)
_UPTIME_SECONDS = {
    "year": 365 * 86400,  # IOS counts a year as 365 days
    "y": 365 * 86400,
    "week": 7 * 86400,
    "w": 7 * 86400,
    "day": 86400,
    "d": 86400,
    "hour": 3600,
    "hr": 3600,
    "h": 3600,
    "minute": 60,
    "min": 60,
    "m": 60,
    "second": 1,
    "sec": 1,
    "s": 1,
}
_CLOCK = re.compile(r"(?:(\d+)\s+days?,?\s+)?(\d+):(\d{2}):(\d{2})\b")


def uptime_seconds(text: str) -> int | None:
    """Seconds in an uptime phrase (any of the forms above); None when it says nothing recognisable."""
    if not text:
        return None
    total, found = 0, False
    clock = _CLOCK.search(text)
    if clock:
        days, h, m, s = clock.groups()
        total += int(days or 0) * 86400 + int(h) * 3600 + int(m) * 60 + int(s)
        found = True
        text = text[: clock.start()] + text[clock.end() :]
    for amount, unit in _UPTIME_PART.findall(text):
        unit = unit.lower()
        total += int(amount) * _UPTIME_SECONDS[unit if len(unit) == 1 or unit in _UPTIME_SECONDS else unit[:-1]]
        found = True
    return total if found else None


def uptime_ticks(text: str) -> int | None:
    """The uptime as TimeTicks (hundredths of a second, modulo 2**32 like sysUpTime)."""
    seconds = uptime_seconds(text)
    return None if seconds is None else (seconds * 100) % TICKS_MODULUS


# -- show version -> SystemInfo -----------------------------------------------------------------


def system_from_rows(platform: str, rows: list[dict], fallback_name: str = "") -> SystemInfo | None:
    """SystemInfo from ``show version`` rows; None when the rows say nothing about the device.

    ``descr`` is composed to read like the device's sysDescr; ``object_id`` is
    always "" (the CLI has no sysObjectID). ``fallback_name`` (the CLI prompt)
    is used when the output has no host name (Arista's ``show version``).
    """
    if not rows:
        return None
    row = rows[0]
    name = cell(row, "hostname")
    if platform == "cisco_ios":
        image, version = cell(row, "software_image"), cell(row, "version")
        hardware = [h for h in (row.get("hardware") or []) if h] if isinstance(row.get("hardware"), list) else []
        if not hardware and cell(row, "hardware"):
            hardware = [cell(row, "hardware")]
        descr = "Cisco IOS Software"
        if image:
            descr += f" ({image})"
        if version:
            descr += f", Version {version}"
        if hardware:
            descr += ", " + ", ".join(hardware)
        if not (image or version or hardware):
            descr = ""
    elif platform == "cisco_nxos":
        version, model = cell(row, "os"), cell(row, "platform")
        descr = "Cisco NX-OS Software" if version or model else ""
        if version:
            descr += f", Version {version}"
        if model:
            descr += f", {model}"
    elif platform == "arista_eos":
        image, model = cell(row, "image"), cell(row, "model")
        descr = f"Arista Networks EOS version {image or '?'} running on an Arista Networks {model or '?'}"
        if not (image or model):
            descr = ""
    elif platform == "juniper_junos":
        model, version = cell(row, "model"), cell(row, "junos_version")
        descr = f"Juniper Networks {model or '?'}, Junos {version or '?'}" if model or version else ""
    else:
        descr = ""
    if not name and not descr:
        return None
    return SystemInfo(
        descr=descr,
        object_id="",
        uptime_ticks=uptime_ticks(cell(row, "uptime")),
        name=name or fallback_name,
    )


# -- show inventory -> HardwareItem -------------------------------------------------------------

_PORT_NAME = re.compile(
    r"^(gi|te|tw|fo|hu|fa|et|eth|ethernet|gigabitethernet|tengigabitethernet|twentyfivegige|"
    r"fortygigabitethernet|hundredgige|xe|ge|et-)\S*\d",
    re.I,
)


def inventory_class(name: str, descr: str) -> str:
    """The class of a ``show inventory`` entry, from its name and description, in the
    vocabulary of :mod:`collectors.hardware` (ENTITY-MIB classes, with a plugged-in
    port called ``transceiver``). ``show inventory`` lists field-replaceable units
    only, so an entry that is none of the others is a module."""
    lname = name.strip().lower()
    text = f"{lname} {descr.lower()}"
    if "chassis" in lname or re.fullmatch(r"(switch\s*)?\d+", lname):
        return "chassis"  # a stack member ("Switch 1", "1") is a chassis of its own
    if re.search(r"\bstack\b", text):
        return "stack"
    if re.search(r"power[\s-]*supply|\bpsu\b|\bps\s*-?\d+\b", text):
        return "powerSupply"
    if re.search(r"\bfans?\b", text):
        return "fan"
    if _PORT_NAME.match(lname):
        return "transceiver"  # an inventory entry named after a port is what is plugged into it
    if re.search(r"\b(module|supervisor|line ?card|sup\d*|expansion|uplink)\b", text):
        return "module"
    if re.search(r"\b(sfp|sfp\+|sfp28|qsfp\S*|xfp|cfp\d*|gbic|transceiver)(\b|$)", text):
        return "transceiver"
    if "chassis" in text:
        return "chassis"
    return "module"


_PLACEHOLDER = re.compile(r"n/?a|none|unknown|-+", re.I)


def _field(row: dict, key: str) -> str:
    """A hardware field, with the devices' "N/A" / "--" placeholders as empty."""
    value = cell(row, key)
    return "" if _PLACEHOLDER.fullmatch(value) else value


def hardware_from_rows(rows: Iterable[dict]) -> list[HardwareItem]:
    """``show inventory`` (IOS, NX-OS): NAME, DESCR, PID, VID, SN per entry."""
    items = []
    for row in rows:
        name, descr = cell(row, "name"), cell(row, "descr")
        model, serial = _field(row, "pid"), _field(row, "sn")
        if not (name or descr or model or serial):
            continue
        items.append(
            HardwareItem(
                index=None,
                klass=inventory_class(name, descr),
                name=name,
                description=descr,
                model=model,
                serial=serial,
                hardware_rev=_field(row, "vid"),
            )
        )
    return items


# -- transceivers -> OpticReading ---------------------------------------------------------------

_LABELS = {
    "temperature": "Temperature",
    "voltage": "Voltage",
    "bias": "Bias Current",
    "tx_power": "Tx Power",
    "rx_power": "Rx Power",
}
# NX-OS "details": column prefix -> sensor kind
_NXOS_PREFIX = {"temperature": "temperature", "voltage": "voltage", "amps": "bias", "tx": "tx_power", "rx": "rx_power"}
_NXOS_THRESHOLDS = {
    "alarm_high": "high_alarm",
    "warn_high": "high_warning",
    "warn_low": "low_warning",
    "alarm_low": "low_alarm",
}
# Arista "detail": section title -> sensor kind
_ARISTA_TYPES = {
    "temperature": "temperature",
    "voltage": "voltage",
    "current": "bias",
    "bias current": "bias",
    "tx power": "tx_power",
    "rx power": "rx_power",
}
_ARISTA_THRESHOLDS = {
    "high_alarm_threshold": "high_alarm",
    "high_warn_threshold": "high_warning",
    "low_warn_threshold": "low_warning",
    "low_alarm_threshold": "low_alarm",
}


def _base_unit(kind: str, value: Decimal) -> float:
    """CLI unit -> observation unit: milliamperes become amperes, everything else is already right."""
    return float(value / 1000) if kind == "bias" else float(value)


def _reading(port: str, lane: int, kind: str, value: Decimal, thresholds: dict[str, Decimal]) -> OpticReading:
    sensor = f"{port} Lane {lane} {_LABELS[kind]}" if lane else f"{port} {_LABELS[kind]}"
    return OpticReading(
        ifname=port or None,
        ifindex=None,
        lane=lane,
        kind=kind,
        value=_base_unit(kind, value),
        thresholds={k: _base_unit(kind, v) for k, v in thresholds.items()},
        sensor=sensor,
    )


def optics_from_rows(rows: Iterable[dict]) -> list[OpticReading]:
    """Transceiver DOM readings from any supported template's rows (told apart by their columns).

    - IOS ``show interface transceiver``: one row per port, no thresholds;
    - NX-OS ``show interface transceiver details``: one row per port or lane, with thresholds;
    - Arista ``show interfaces transceiver detail``: one row per (port, sensor type), with thresholds;
    - Arista ``show interfaces transceiver``: one row per port, no thresholds;
    - NX-OS ``show interface transceiver`` (no DOM, only part numbers): no readings.
    """
    out: list[OpticReading] = []
    for row in rows:
        if "tx_pwr" in row:  # cisco_ios
            port = cell(row, "interface")
            for kind, column in (
                ("temperature", "temperature"),
                ("voltage", "voltage"),
                ("bias", "current"),
                ("tx_power", "tx_pwr"),
                ("rx_power", "rx_pwr"),
            ):
                value = number(row.get(column))
                if value is not None:
                    out.append(_reading(port, 0, kind, value, {}))
        elif "tx_value" in row:  # cisco_nxos details
            port = cell(row, "interface")
            lane_text = cell(row, "lane")
            lane = int(lane_text) if lane_text.isdigit() else 0
            for prefix, kind in _NXOS_PREFIX.items():
                value = number(row.get(f"{prefix}_value"))
                if value is None:
                    continue
                limits = {}
                for suffix, threshold in _NXOS_THRESHOLDS.items():
                    limit = number(row.get(f"{prefix}_{suffix}"))
                    if limit is not None:
                        limits[threshold] = limit
                out.append(_reading(port, lane, kind, value, limits))
        elif "current_value" in row and "type" in row:  # arista_eos detail
            kind = _ARISTA_TYPES.get(cell(row, "type").lower())
            value = number(row.get("current_value"))
            if kind is None or value is None:
                continue
            limits = {}
            for column, threshold in _ARISTA_THRESHOLDS.items():
                limit = number(row.get(column))
                if limit is not None:
                    limits[threshold] = limit
            out.append(_reading(cell(row, "port"), 0, kind, value, limits))
        elif "tx_power" in row and "bias_current" in row:  # arista_eos plain
            port = cell(row, "port")
            for kind, column in (
                ("temperature", "temp"),
                ("voltage", "voltage"),
                ("bias", "bias_current"),
                ("tx_power", "tx_power"),
                ("rx_power", "rx_power"),
            ):
                value = number(row.get(column))
                if value is not None:
                    out.append(_reading(port, 0, kind, value, {}))
    return out


# -- LLDP / CDP -> Neighbor ---------------------------------------------------------------------


_MAC = re.compile(r"[0-9a-f]{2}(:[0-9a-f]{2}){5}")
_MAC_FORMS = (
    re.compile(r"([0-9a-f]{4})\.([0-9a-f]{4})\.([0-9a-f]{4})", re.I),  # Cisco aabb.ccdd.eeff
    re.compile(r"([0-9a-f]{2})" + r"[:-]([0-9a-f]{2})" * 5, re.I),  # aa:bb:.. or aa-bb-..
)


def mac_or_text(text: str) -> str:
    """A MAC address written any common way becomes ``aa:bb:cc:dd:ee:ff`` (as the SNMP LLDP
    collector renders one); anything else is returned unchanged."""
    text = text.strip()
    for form in _MAC_FORMS:
        match = form.fullmatch(text)
        if match:
            digits = "".join(match.groups()).lower()
            return ":".join(digits[i : i + 2] for i in range(0, 12, 2))
    return text


def mac_address(text: str) -> str:
    """``aa:bb:cc:dd:ee:ff`` when ``text`` is a MAC address written any common way, else ""."""
    value = mac_or_text(text)
    return value if _MAC.fullmatch(value) else ""


def ip_or_empty(text: str, unspecified: bool = True) -> str:
    """An address when ``text`` is an IPv4/IPv6 address (``unspecified=False``: not 0.0.0.0 or ::); else "".

    LLDP can also announce a MAC (Arista's subtype "Ethernet"), which is not an address one can reach."""
    try:
        address = ipaddress.ip_address(text.strip())
    except ValueError:
        return ""
    return "" if address.is_unspecified and not unspecified else str(address)


def _unquote(text: str) -> str:
    text = text.strip()
    if len(text) >= 2 and text[0] == text[-1] == '"':
        return text[1:-1]
    return text


def neighbors_from_rows(protocol: str, rows: Iterable[dict]) -> list[Neighbor]:
    """LLDP or CDP neighbours from the detail templates (and Junos ``show lldp neighbors``),
    with the meanings the SNMP collectors give (:mod:`collectors.lldp`, :mod:`collectors.cdp`):

    - LLDP ``remote_port`` is the announced port ID (IOS's ``Port id``; the port
      description only when there is no ID); chassis and port IDs that are MAC
      addresses are written ``aa:bb:cc:dd:ee:ff``;
    - CDP ``remote_name`` is the Device ID as announced (NX-OS's template calls it
      ``chassis_id``; it may carry a serial in parentheses); CDP has no chassis ID;
    - ``remote_address`` only holds an IP address;
    - ``local_port`` is the port as the device prints it (IOS LLDP abbreviates:
      ``Gi1/0/1``; CDP spells it out: ``GigabitEthernet1/0/1``).
    """
    if protocol not in ("lldp", "cdp"):
        raise ValueError(f"protocol must be 'lldp' or 'cdp', not {protocol!r}")
    out = []
    for row in rows:
        port_id = _unquote(cell(row, "neighbor_port_id"))
        port_descr = _unquote(cell(row, "neighbor_interface"))
        if protocol == "cdp":
            # IOS: neighbor_name is the Device ID; NX-OS: chassis_id is, neighbor_name is the System Name
            name = cell(row, "chassis_id") or _unquote(cell(row, "neighbor_name"))
            chassis, remote_port = "", port_id or port_descr
        else:
            name = _unquote(cell(row, "neighbor_name"))
            chassis, remote_port = mac_or_text(cell(row, "chassis_id")), mac_or_text(port_id or port_descr)
        neighbor = Neighbor(
            protocol=protocol,
            local_port=cell(row, "local_interface"),
            remote_name=name,
            remote_port=remote_port,
            remote_chassis_id=chassis,
            remote_address=ip_or_empty(cell(row, "mgmt_address")),
            remote_platform=cell(row, "platform"),
            remote_description=_unquote(cell(row, "neighbor_description")),
        )
        if neighbor.local_port or neighbor.remote_name or neighbor.remote_port:
            out.append(neighbor)
    return out


def observations(kind: str, platform: str, rows: list[dict], fallback_name: str = ""):
    """Dispatch: ``system`` -> SystemInfo | None; the other kinds -> a list."""
    if kind == "system":
        return system_from_rows(platform, rows, fallback_name)
    if kind == "hardware":
        return hardware_from_rows(rows)
    if kind == "optics":
        return optics_from_rows(rows)
    if kind in ("lldp", "cdp"):
        return neighbors_from_rows(kind, rows)
    raise ValueError(f"unknown kind {kind!r} (one of {', '.join(KINDS)})")


# -- telling "nothing there" from "not understood" ----------------------------------------------

_DEVICE_ERROR = re.compile(
    r"^\s*(%\s*(invalid|incomplete|ambiguous|unknown|unrecognized|bad)\b.*"
    r"|(error|syntax error|unknown command)\b.*"
    r"|invalid (input|command)\b.*)$",
    re.I | re.M,
)
_DISABLED = re.compile(r"\b(lldp|cdp)\b.*\bnot (enabled|running)\b|\bfeature (lldp|cdp) not enabled\b", re.I)

# Lines a device prints when there is legitimately nothing to list.
_BENIGN_LINES = [
    re.compile(p, re.I)
    for p in (
        r"^\s*$",
        r"^\s*total\s+(cdp\s+)?entries\s+displayed\s*:\s*0\s*$",
        r"^\s*capability codes:?",
        r"^\s*\([a-z]\)\s+\w",  # capability legend
        r"^\s*device[\s-]id\s+local\s+intf",
        r"^\s*interface\s+\S+\s+detected\s+0\s+lldp\s+neighbors",
        r"^\s*local\s+interface\s+parent\s+interface\s+chassis",  # Junos header
        r"^\s*-{3,}[\s-]*$",
        # transceiver legends and headers with no rows
        r"^\s*if device is externally calibrated",
        r"^\s*(\+\+|mA:|NA or N/A|N/A:|A2D readouts|the threshold values)",
        r"^\s*(optical\s*)+$",
        r"^\s*(temp(erature)?|port)\s+\(?(celsius|volts|ma|dbm)",
        r"^\s*(high alarm|temperature\s+voltage|bias)\b",
        r"^\s*port\s+\(celsius\)",
        r"^\s*no transceiver",
        r"^\s*transceiver is not (present|applicable)",
        r"^\s*(ethernet|eth|fc|mgmt)\S*\d\s*$",  # an NX-OS port heading with nothing under it
        r"^\s*diagnostic monitoring is not implemented",
        r"^\s*(load for|time source is)\b",
    )
]


def device_error(raw: str) -> str | None:
    """The device's own error line ("% Invalid input detected ..."), if it printed one."""
    match = _DEVICE_ERROR.search(raw or "")
    return match.group(0).strip()[:160] if match else None


def feature_disabled(raw: str) -> bool:
    """ "% LLDP is not enabled", "CDP is not enabled": nothing to list, and not an error."""
    return bool(_DISABLED.search(raw or ""))


def empty_output_ok(raw: str) -> bool:
    """True when an output with no parsed rows is a device saying "nothing here"
    (blank, "Total entries displayed: 0", legends and headers only) rather than
    output the template did not understand."""
    return all(any(p.search(line) for p in _BENIGN_LINES) for line in (raw or "").splitlines())
