"""Wireless controllers over SSH, for controllers whose SNMP is not allowed: the same observations.

Cisco AireOS (netmiko ``cisco_wlc_ssh``) and the Catalyst 9800 (IOS-XE,
``cisco_xe`` or ``cisco_ios``). The commands are the ones every controller
engineer types, parsed with ntc-templates' TextFSM templates. netmon keeps
three of its own (``collectors/templates/``, :data:`collectors.cli_parsers.OWN_TEMPLATES`): the 9800's ``show wlan
summary`` and AireOS's ``show advanced 802.11a|b summary``, which ntc-templates
lacks, and the 9800's ``show ap summary``, since ntc-templates' reads a 17.9+
location such as "Building A 1" as the country, address and state columns:

========  ======================  =================================  ==========================
platform  system                  access points                      WLANs
========  ======================  =================================  ==========================
AireOS    ``show sysinfo``,       ``show ap summary``,               ``show wlan summary``
          ``show inventory``      ``show advanced 802.11b summary``,
                                  ``show advanced 802.11a summary``
9800      ``show version``        ``show ap summary``                ``show wlan summary``
========  ======================  =================================  ==========================

What maps onto :class:`~collectors.observations.WlcResult`, and how it differs from SNMP:

- APs are keyed as the SNMP profiles, RADIUS (Called-Station-Id) and the AP-to-site
  mappings key them, by the base radio MAC. The 9800's summary prints it (``Radio MAC``,
  beside the ``Ethernet MAC``). AireOS's summary prints only the Ethernet MAC: the radio
  MAC comes from the ``show advanced 802.11a|b summary`` lists (every radio of every
  joined AP, with its AP's name and base radio MAC), joined on the AP name. A release
  that rejects those commands has its APs keyed by the Ethernet MAC instead, logged once
  per controller (:attr:`WlcCliResult.ap_key` says which); so does an AP missing from
  both lists (logged once per AP). Output of them that is not understood is an error and
  gives no AP list at all, rather than the APs under other keys for a poll.
- A listed AP has joined the controller: status ``up`` (the 9800's ``State``
  column is mapped when it says otherwise). The CLI does not list APs that are
  down, so, as with SNMP's missing rows, the store marks them ``gone``.
- WLANs carry SSID and WLAN id; the CLI has no client count per WLAN (``None``).
- No client table: the summaries give counts only. The AireOS per-AP
  ``Clients`` column is returned beside the result (:attr:`WlcCliResult.ap_clients`),
  since WlcResult has no field for a per-AP count without a radio slot; the
  controller's own total (``Number of Active Clients``) is ``reported_client_count``.
- Radios (AireOS): slot, band (the command's), channel (the primary one), transmit power
  (dBm where the release prints it, ``*4/8 (14 dBm)``, else the Cisco power level) and
  operational status; no per-radio clients or channel utilisation. The 9800: none yet
  (``show ap dot11 24ghz|5ghz summary`` would give them).
- System: AireOS's ``System Up Time`` has seconds, so the device's uptime (and
  reboot detection) works as with SNMP; IOS-XE's ``show version`` uptime is in
  minutes, too coarse to tell a reboot from rounding, so it is left out.

ArubaOS ``show ap database [long]`` is parsed too (:func:`aruba_aps_from_rows`,
checked against real recordings) but not yet polled: ArubaOS has no WLAN list
with an ntc-templates template.

:func:`collect` is blocking (netmiko): run it in the scheduler's SSH pool. It
never raises; failures come back as :class:`~collectors.observations.CollectorError`
with the ``cli`` reasons (auth, timeout, prompt, parse, ssh, internal).
"""

from __future__ import annotations

import functools
import logging
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from collectors import cli as ssh
from collectors import cli_parsers
from collectors.base import Context, DeviceFacts, SshCollector, SshSession
from collectors.cli_parsers import cell, ip_or_empty, mac_address
from collectors.credentials import SshCredentials
from collectors.observations import AccessPoint, CollectorError, CollectorRun, Radio, Steps, SystemInfo, Wlan, WlcResult
from collectors.wlc import core

log = logging.getLogger(__name__)

name = "wlc"
# netmiko device_type -> (TextFSM platform, wlc profile name)
PLATFORMS = {
    "cisco_wlc_ssh": ("cisco_wlc_ssh", "aireos"),
    "cisco_wlc": ("cisco_wlc_ssh", "aireos"),
    "cisco_xe": ("cisco_ios", "c9800"),
    "cisco_ios": ("cisco_ios", "c9800"),
}
COMMANDS: dict[str, tuple[tuple[str, str], ...]] = {
    "cisco_wlc_ssh": (
        ("system", "show sysinfo"),
        ("model", "show inventory"),
        ("aps", "show ap summary"),
        ("radios_b", "show advanced 802.11b summary"),
        ("radios_a", "show advanced 802.11a summary"),
        ("wlans", "show wlan summary"),
    ),
    "cisco_ios": (
        ("system", "show version"),
        ("aps", "show ap summary"),
        ("wlans", "show wlan summary"),
    ),
}
RADIO_BANDS = {"radios_b": "2.4GHz", "radios_a": "5GHz"}  # AireOS has no 6 GHz; a 5 GHz XOR slot 0 is in 802.11a's
# AireOS's answer to a command its release does not have (cli_parsers.device_error knows the IOS ones)
_AIREOS_REJECTED = re.compile(r"^\s*Incorrect (usage|input)\b.*$", re.I | re.M)
_RADIO_HEADER = re.compile(r"^\s*(Member\s+RRM\s+Information|AP\s+Name\s+MAC\s+Address)\b", re.I | re.M)
# Controllers (and their APs) whose Ethernet-MAC fallback was logged: said once, not at every poll.
# A bounded memory of log lines only; nothing it holds changes a result.
_FALLBACK_LOGGED: set[tuple[str, str]] = set()
_FALLBACK_LOGGED_MAX = 10_000
REQUIRED = ("aps", "wlans")  # without these there is no Wi-Fi answer

# 9800 "State" (and AireOS variants that print one) -> AccessPoint.status
AP_STATES = {
    "registered": "up",
    "run": "up",
    "joined": "up",
    "downloading": "downloading",
    "image": "downloading",
    "disabled": "disabled",
    "down": "down",
    "discovery": "down",
    "join": "down",
}


def is_wlc_platform(device_type: str | None) -> bool:
    return device_type in PLATFORMS


@dataclass
class WlcCliResult:
    """What one SSH collection of a controller gave. ``wlc`` is None when the APs or WLANs could not be read."""

    host: str
    port: int
    device_type: str
    name: str = ""
    system: SystemInfo | None = None
    wlc: WlcResult | None = None
    ap_clients: dict[str, int] = field(default_factory=dict)  # AP MAC -> clients, where the CLI counts them
    ap_key: str = "radio"  # "radio": APs keyed by their base radio MAC; "ethernet": the release lacks the lists
    errors: list[CollectorError] = field(default_factory=list)
    durations: dict[str, float] = field(default_factory=dict)
    duration: float = 0.0

    @property
    def ok(self) -> bool:
        return not self.errors


# -- parsing: raw text -> rows -> observations (pure) -------------------------------------------


def ap_status(state: str) -> str:
    """A listed AP is joined (``up``) unless its state column says otherwise."""
    if not state:
        return "up"
    return AP_STATES.get(state.strip().lower(), "unknown")


def aps_from_rows(
    rows: list[dict], radio_macs: dict[str, str] | None = None, ethernet_keyed: list[str] | None = None
) -> tuple[list[AccessPoint], dict[str, int]]:
    """``show ap summary`` rows (AireOS or IOS-XE template) -> APs, and clients per AP MAC where printed.

    The key is the row's radio MAC (the 9800's), else the base radio MAC that ``radio_macs``
    (AP name -> MAC, from the radio lists) gives, else the Ethernet MAC; the names of the APs
    keyed by their Ethernet MAC while ``radio_macs`` was given are appended to ``ethernet_keyed``.
    An AP without a readable MAC is kept (with ``mac=""``) for the caller to judge: the
    store keys APs by MAC, so :func:`interpret` leaves such rows out."""
    aps, clients = [], {}
    for row in rows:
        name = cell(row, "ap_name")
        mac = mac_address(cell(row, "radio_mac")) or mac_address((radio_macs or {}).get(name, ""))
        if not mac:
            mac = mac_address(cell(row, "mac_address"))
            if radio_macs is not None and mac and ethernet_keyed is not None:
                ethernet_keyed.append(name)
        if not (mac or name):
            continue
        aps.append(
            AccessPoint(
                mac=mac,
                name=name,
                model=cell(row, "ap_model"),
                ip=ip_or_empty(cell(row, "ip_address"), unspecified=False),
                location=cell(row, "location"),
                status=ap_status(cell(row, "state")),
            )
        )
        if mac and cell(row, "clients").isdigit():
            clients[mac] = int(cell(row, "clients"))
    return aps, clients


_FIRST_NUMBER = re.compile(r"\d+")
_DBM = re.compile(r"\(\s*(-?\d+)\s*dBm\s*\)", re.I)
_LEVEL = re.compile(r"^\*?\s*(\d+)\b")
RADIO_OPER = {"up": "up", "down": "down"}


def radio_channel(text: str) -> int | None:
    """``36*``, ``(157,161)*`` (the primary channel first), ``*11`` -> the channel; ``N/A`` -> None."""
    match = _FIRST_NUMBER.search(text or "")
    return int(match.group(0)) if match else None


def radio_power(text: str) -> tuple[float | None, str]:
    """AireOS's TxPower column -> (power, unit): ``*4/8 (14 dBm)`` -> (14.0, "dBm"); ``1(*)``,
    ``*3/8`` -> (level, "level"), level 1 the strongest; ``N/A`` -> (None, "")."""
    match = _DBM.search(text or "")
    if match:
        return float(match.group(1)), "dBm"
    match = _LEVEL.match((text or "").strip())
    return (float(match.group(1)), "level") if match else (None, "")


def radio_macs_from_rows(rows: list[dict]) -> dict[str, set[str]]:
    """AireOS radio list rows -> AP name -> its base radio MAC(s) (more than one: a name the join cannot use)."""
    out: dict[str, set[str]] = {}
    for row in rows:
        mac, name = mac_address(cell(row, "mac_address")), cell(row, "ap_name")
        if mac and name:
            out.setdefault(name, set()).add(mac)
    return out


def radios_from_rows(rows: list[dict], band: str, ap_macs: set[str]) -> list[Radio]:
    """AireOS ``show advanced 802.11a|b summary`` rows -> the radios of the APs in ``ap_macs``.

    The CLI gives no per-radio client count or channel utilisation (``None``)."""
    out = []
    for row in rows:
        mac, slot = mac_address(cell(row, "mac_address")), cell(row, "slot")
        if mac not in ap_macs or not slot.isdigit():
            continue
        power, unit = radio_power(cell(row, "tx_power"))
        out.append(
            Radio(
                ap_mac=mac,
                slot=int(slot),
                band=band,
                channel=radio_channel(cell(row, "channel")),
                tx_power=power,
                tx_power_unit=unit,
                clients=None,
                utilization_ratio=None,
                status=RADIO_OPER.get(cell(row, "oper").lower(), "unknown"),
            )
        )
    return out


def aruba_status(text: str) -> tuple[str, int | None]:
    """ArubaOS ``show ap database`` Status: ``Up 2d:17h:8m:4s`` -> (``up``, seconds); ``Down`` -> (``down``, None)."""
    words = text.split(None, 1)
    state = words[0].lower() if words else ""
    if state == "up":
        return "up", cli_parsers.uptime_seconds(words[1]) if len(words) > 1 else None
    return ("down", None) if state == "down" else ("unknown", None)


def aruba_aps_from_rows(rows: list[dict]) -> list[AccessPoint]:
    """ArubaOS ``show ap database [long]`` rows -> APs (the long form adds the wired MAC, the key
    the Aruba SNMP profile uses, and the serial). ``N/A`` is empty."""
    aps = []
    for row in rows:
        status, uptime = aruba_status(cell(row, "status"))
        serial = cell(row, "serial")
        aps.append(
            AccessPoint(
                mac=mac_address(cell(row, "mac_address")),
                name=cell(row, "ap_name"),
                model=cell(row, "ap_model"),
                serial="" if serial.upper() == "N/A" else serial,
                ip=ip_or_empty(cell(row, "ip_address"), unspecified=False),
                status=status,
                uptime_seconds=uptime,
            )
        )
    return aps


def wlans_from_rows(rows: list[dict]) -> list[Wlan]:
    """``show wlan summary`` rows -> WLANs (id and SSID; the CLI gives no client count per WLAN)."""
    out = []
    for row in rows:
        ident = cell(row, "wlanid")
        ssid = cell(row, "ssid") or cell(row, "profile")
        if ident.isdigit() and ssid:
            out.append(Wlan(ssid=ssid, wlan_id=int(ident), clients=None))
    return out


_OBJECT_ID = re.compile(r"^System ObjectID\.+\s*([0-9.]+)\s*$", re.M)
_AP_COUNT = re.compile(r"^\s*Number of APs[.:\s]+(\d+)\s*$", re.M)


def system_from_sysinfo(rows: list[dict], raw: str) -> SystemInfo | None:
    """AireOS ``show sysinfo`` -> SystemInfo (descr as the controller's SNMP sysDescr reads, plus the version)."""
    if not rows:
        return None
    row = rows[0]
    name, version = cell(row, "system_name"), cell(row, "product_version")
    if not (name or version):
        return None
    match = _OBJECT_ID.search(raw)
    seconds = cli_parsers.uptime_seconds(cell(row, "system_up_time"))
    return SystemInfo(
        descr="Cisco Controller" + (f", Version {version}" if version else ""),
        object_id=match.group(1).strip(".") if match else "",
        uptime_ticks=None if seconds is None else (seconds * 100) % cli_parsers.TICKS_MODULUS,
        name=name,
    )


def model_from_version(rows: list[dict]) -> str:
    """IOS-XE ``show version``: the chassis model (``C9800-CL-K9``)."""
    for row in rows:
        hardware = row.get("hardware")
        if isinstance(hardware, list) and hardware:
            return str(hardware[0]).strip()
        if isinstance(hardware, str) and hardware.strip():
            return hardware.strip()
    return ""


def model_from_inventory(rows: list[dict]) -> str:
    """AireOS ``show inventory``: the chassis PID (``AIR-CT5520-K9``)."""
    for row in rows:
        if cell(row, "pid") and (cell(row, "name").lower() == "chassis" or len(rows) == 1):
            return cell(row, "pid")
    return cell(rows[0], "pid") if rows else ""


def reported_ap_count(raw: str) -> int | None:
    match = _AP_COUNT.search(raw or "")
    return int(match.group(1)) if match else None


def assemble(device_type: str, outputs: dict[str, str]) -> WlcCliResult:
    """Every command's raw output (by kind) -> a result; what fails to parse becomes an error. Pure."""
    result = WlcCliResult(host="", port=0, device_type=device_type)

    def fail(collector: str, reason: str, message: str) -> None:
        result.errors.append(CollectorError(collector, reason, message))

    interpret(device_type, outputs, result, fail)
    return result


def _rejected(raw: str) -> str | None:
    """The controller's "no such command" line (IOS-XE's ``% Invalid input``, AireOS's ``Incorrect usage``)."""
    match = _AIREOS_REJECTED.search(raw or "")
    return cli_parsers.device_error(raw) or (match.group(0).strip()[:160] if match else None)


def _log_once(result: WlcCliResult, ap_name: str, message: str, *args) -> None:
    where = result.name or f"{result.host}:{result.port}"
    if (where, ap_name) in _FALLBACK_LOGGED:
        return
    if len(_FALLBACK_LOGGED) >= _FALLBACK_LOGGED_MAX:
        _FALLBACK_LOGGED.clear()
    _FALLBACK_LOGGED.add((where, ap_name))
    log.warning("%s: " + message, where, *args)


def interpret(device_type: str, outputs: dict[str, str], result: WlcCliResult, fail: Callable) -> None:
    platform, profile = PLATFORMS[device_type]
    commands = dict(COMMANDS[platform])
    radio_kinds = [kind for kind in RADIO_BANDS if kind in commands]
    rows: dict[str, list[dict]] = {}
    rejected: set[str] = set()  # radio lists this release does not have
    for kind, raw in outputs.items():
        command = commands[kind]
        try:
            rows[kind] = cli_parsers.parse_rows(platform, command, raw)
        except cli_parsers.CliParseError as exc:
            error = _rejected(raw)
            if error and kind in radio_kinds:
                rejected.add(kind)
                continue
            why = f"the device rejected the command: {error}" if error else f"output not understood ({exc})"
            fail(f"{name}.{kind}", "parse", f"{command}: {why}")
            continue
        if kind in radio_kinds and not rows[kind] and not _RADIO_HEADER.search(raw):
            lines = len([line for line in raw.splitlines() if line.strip()])
            fail(f"{name}.{kind}", "parse", f"{command}: nothing recognisable in the output ({lines} lines)")
            rows.pop(kind)
    model, client_total = "", None
    if "system" in rows:
        if platform == "cisco_wlc_ssh":
            result.system = system_from_sysinfo(rows["system"], outputs["system"])
            total = cell(rows["system"][0], "number_active_clients") if rows["system"] else ""
            client_total = int(total) if total.isdigit() else None
        else:
            result.system = cli_parsers.system_from_rows("cisco_ios", rows["system"])
            if result.system is not None:
                # minutes only: not precise enough to compare with the wall clock (see the module doc)
                result.system = SystemInfo(result.system.descr, "", None, result.system.name)
            model = model_from_version(rows["system"])
        if result.system is None:
            fail(f"{name}.system", "parse", f"{commands['system']}: nothing recognisable in the output")
    if "model" in rows:
        model = model_from_inventory(rows["model"])
    radio_macs: dict[str, str] | None = None
    if radio_kinds and rejected.issuperset(radio_kinds):
        result.ap_key = "ethernet"
        _log_once(
            result, "", "the controller has no %s: its APs are keyed by their Ethernet MAC, not the base radio MAC "
            "SNMP and RADIUS use", " or ".join(repr(commands[k]) for k in radio_kinds),
        )  # fmt: skip
    elif radio_kinds:
        by_name: dict[str, set[str]] = {}
        for kind in radio_kinds:
            for ap_name, macs in radio_macs_from_rows(rows.get(kind, [])).items():
                by_name.setdefault(ap_name, set()).update(macs)
        radio_macs = {ap_name: next(iter(macs)) for ap_name, macs in by_name.items() if len(macs) == 1}
    ethernet_keyed: list[str] = []
    aps, per_ap = aps_from_rows(rows.get("aps", []), radio_macs, ethernet_keyed)
    for ap_name in ethernet_keyed:
        _log_once(result, ap_name, "AP %r is in no radio list: keyed by its Ethernet MAC", ap_name)
    aps = [ap for ap in aps if ap.mac]  # the store keys APs by MAC
    wlans = wlans_from_rows(rows.get("wlans", []))
    for kind, found in (("aps", aps), ("wlans", wlans)):
        raw = outputs.get(kind)
        if kind in rows and not found and not _says_none(raw or ""):
            lines = len([line for line in (raw or "").splitlines() if line.strip()])
            fail(f"{name}.{kind}", "parse", f"{commands[kind]}: nothing recognisable in the output ({lines} lines)")
            rows.pop(kind)
    radios: dict[tuple[str, int], Radio] = {}
    ap_macs = {ap.mac for ap in aps}
    for kind in radio_kinds:
        for radio in radios_from_rows(rows.get(kind, []), RADIO_BANDS[kind], ap_macs):
            radios.setdefault((radio.ap_mac, radio.slot), radio)
    # A radio list that failed (not understood, not run) leaves the keys unknown: no AP list rather than
    # the APs under other MACs for a poll. One the release does not have is not needed.
    required = [*REQUIRED, *(kind for kind in radio_kinds if kind not in rejected)]
    if all(kind in rows for kind in required):
        result.wlc = core.result(
            profile,
            model,
            aps=aps,
            radios=radios.values(),
            wlans=wlans,
            reported_ap_count=reported_ap_count(outputs.get("aps", "")),
            reported_client_count=client_total,
        )
        result.ap_clients = per_ap


_NONE_LINE = re.compile(
    r"^\s*($|-{3,}|number of (aps|wlans)\b.*\b0\s*$|(ap name|wlan id|id)\s+\S.*$|[A-Z]{2,3}\s+=\s+.*$|global ap\b.*$)",
    re.I,
)


def _says_none(raw: str) -> bool:
    """An empty controller ("Number of APs: 0", headers only) is a valid answer, not garbage."""
    return all(_NONE_LINE.match(line) for line in raw.splitlines())


# -- SSH ---------------------------------------------------------------------------------------


def _close(conn, device_type: str) -> None:
    """Log out. netmiko's AireOS clean-up re-enables paging and then waits about 6 s for the
    session to end; paging is per session on AireOS, so a plain ``logout`` is enough."""
    if PLATFORMS.get(device_type, ("",))[0] == "cisco_wlc_ssh":

        def cleanup(command: str = "logout") -> None:
            conn.write_channel(command + conn.RETURN)

        conn.cleanup = cleanup
    ssh.log_out(conn)


def collect(
    host: str,
    port: int,
    device_type: str,
    credentials: SshCredentials,
    timeouts: ssh.CliTimeouts | None = None,
    *,
    enable_secret: str | None = None,
    known_hosts: str | None = None,
    label: str = "",
) -> WlcCliResult:
    """Log in to one controller over SSH and read its APs, WLANs and system; never raises.

    The session is :func:`collectors.cli.run_session`'s (login, enable, time bounds, error
    reasons, secrets kept out of messages); a command that fails is reported as ``wlc.<kind>``."""
    timeouts = timeouts or ssh.CliTimeouts()
    started = time.monotonic()
    result = WlcCliResult(host=host, port=port, device_type=device_type, name=label)
    where = f"{host}:{port}"
    fail = ssh.recorder(result.errors, (credentials.password, enable_secret), label or where)
    if device_type not in PLATFORMS:
        fail(name, "internal", f"unsupported controller device_type {device_type!r} ({', '.join(sorted(PLATFORMS))})")
        return result
    platform = PLATFORMS[device_type][0]
    outputs: dict[str, str] = {}
    ssh.run_session(
        host, port, device_type, credentials, timeouts, COMMANDS[platform],
        lambda kind, command, raw, conn: outputs.__setitem__(kind, raw), fail, result.durations,
        started=started, enable_secret=enable_secret if platform == "cisco_ios" else None,
        known_hosts=known_hosts, prefix=name, close=functools.partial(_close, device_type=device_type),
    )  # fmt: skip
    try:
        interpret(device_type, outputs, result, fail)
    except Exception as exc:  # a parser bug is this device's error, not the pool's
        log.exception("%s: could not interpret the controller's output", label or where)
        fail(name, "internal", f"{type(exc).__name__}: {ssh.first_line(str(exc))}")
    if result.wlc is None and not any(e.collector in ("cli", name) for e in result.errors):
        fail(name, "parse", "no access point or WLAN list could be read")
    result.duration = time.monotonic() - started
    return result


# -- the collector: a controller whose SNMP is not allowed, polled over SSH instead ----------------------------


def timeouts_within(deadline: float) -> ssh.CliTimeouts:
    """SSH limits that fit inside a poll deadline: a quarter each for the steps of the login, half per command."""
    step = max(1.0, min(10.0, deadline / 4))
    return ssh.CliTimeouts(step, step, step, step, max(1.0, min(30.0, deadline / 2)), max(1.0, deadline - 2.0))


def over_ssh(device: DeviceFacts) -> bool:
    """A controller whose Wi-Fi data comes over SSH: no SNMP profile, an SSH profile and a controller CLI."""
    return (
        device.role == "wlc"
        and not device.snmp_profile
        and bool(device.ssh_profile)
        and is_wlc_platform(device.platform)
    )


def steps(out: WlcCliResult, started: float, hostname: str) -> Steps:
    """The SSH collection as runs: ``cli`` (the session) and ``wlc`` (its commands), and what they gave.

    A controller that answered is up, even if its system command said nothing we understood."""
    failed: dict[str, str] = {}
    for e in out.errors:
        failed.setdefault(ssh.name if e.collector == ssh.name else name, e.reason)
    connect = out.durations.get("connect", 0.0)
    result = Steps(runs=[CollectorRun(ssh.name, connect, failed.get(ssh.name))], errors=list(out.errors))
    if ssh.name not in failed:
        result.runs.append(CollectorRun(name, out.duration - connect, failed.get(name) if out.wlc is None else None))
        result.observations.append(out.system or SystemInfo("", "", None, hostname))
        if out.wlc is not None:
            result.observations.append(out.wlc)
        result.read_at = started + connect + out.durations.get("system", 0.0)
    return result


async def _read(session: SshSession, context: Context) -> Steps:
    started = time.time()
    creds = session.credentials
    call = functools.partial(
        collect, session.host, session.port, session.platform, creds, timeouts_within(session.deadline),
        enable_secret=creds.enable_secret, label=session.label,
    )  # fmt: skip
    return steps(await session.run(call), started, context.device.hostname)


# Polled like an SNMP controller (same interval, same deadline, same store path), in the SSH pool.
COLLECTOR = SshCollector(name, "poll", _read, over_ssh)
