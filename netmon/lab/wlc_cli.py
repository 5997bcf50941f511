"""The simulated controller's CLI: what an AireOS or Catalyst 9800 controller prints, from the same model.

The command outputs are rendered from :class:`netmon.lab.wlc_agent.ControllerModel`'s
own SNMP table (``ControllerModel.table``), decoded back, so the SNMP agent and
the SSH device describe exactly the same APs and WLANs at the same moment:
names, MACs, models, addresses, locations, which APs are up, clients per AP.
As on a real controller, an AP that is not joined is not in ``show ap summary``.

The model knows one MAC per AP (the base radio MAC, SNMP's key); each AP's
Ethernet MAC is derived from it (the locally administered bit flipped), so it
is distinct, as on a real AP. The 9800 prints both (``Ethernet MAC``, ``Radio
MAC``); AireOS's ``show ap summary`` only the Ethernet MAC, and its ``show
advanced 802.11b|a summary`` the radio MAC of each radio (from bsnAPIfTable:
slot, channel, power level, operational status), as a real controller does.
Their TxPower reads ``*4/8 (14 dBm)`` (AireOS 8.x) where the radio's
level-to-dBm list is in the table, ``4(*)`` where only the level is (the lab's
AireOS agent serves no list); a 5 GHz channel is printed as a 40 MHz pair,
primary first (``(36,40)*``).

:func:`aireos_device` and :func:`c9800_device` give a
:class:`netmon.lab.ssh_device.DeviceBehaviour` that answers these commands over SSH.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass

from collectors.snmp import ber
from netmon.lab.ssh_device import DeviceBehaviour
from netmon.lab.wlc_agent import ControllerModel

AIRESPACE_AP = (1, 3, 6, 1, 4, 1, 14179, 2, 2, 1, 1)
AIRESPACE_ESS = (1, 3, 6, 1, 4, 1, 14179, 2, 1, 1, 1)
AIRESPACE_MS_AP = (1, 3, 6, 1, 4, 1, 14179, 2, 1, 4, 1, 4)
AIRESPACE_RADIO = (1, 3, 6, 1, 4, 1, 14179, 2, 2, 2, 1)  # bsnAPIfTable: 2 type, 4 channel, 6 level, 12 oper, 22 dBm
RADIO_LISTS = {1: "show advanced 802.11b summary", 2: "show advanced 802.11a summary"}  # by bsnAPIfType
SYS_OBJECT_ID = (1, 3, 6, 1, 2, 1, 1, 2, 0)
MACHINE_MODEL = (1, 3, 6, 1, 4, 1, 14179, 1, 1, 1, 3, 0)
AIREOS_VERSION = "8.10.185.0"
IOSXE_VERSION = "17.9.4a"
C9800_MODEL = "C9800-CL-K9"


@dataclass(frozen=True)
class SimRadio:
    slot: int
    kind: int  # bsnAPIfType: 1 802.11b (2.4 GHz), 2 802.11a (5 GHz)
    channel: int
    level: int  # Cisco power level, 1 the strongest
    up: bool
    levels: tuple[int, ...] = ()  # dBm per level, level 1 first, where the table has them


@dataclass(frozen=True)
class SimAp:
    mac: str  # the base radio MAC
    name: str
    location: str
    model: str
    serial: str
    ip: str
    up: bool
    clients: int
    radios: tuple[SimRadio, ...] = ()


@dataclass(frozen=True)
class Snapshot:
    """The controller at one moment, as both its SNMP agent and its CLI describe it."""

    object_id: str
    model: str
    aps: list[SimAp]
    wlans: dict[int, str]
    clients: int
    uptime_seconds: int


def _decode(encoded: bytes):
    tag, start, stop = ber.read_header(encoded, 0, len(encoded))
    return ber._value(tag, encoded, start, stop)


def _text(value) -> str:
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else ""


def snapshot(model: ControllerModel, now: float, uptime_ticks: int) -> Snapshot:
    """Decode the model's SNMP table at ``now`` into what the CLI prints."""
    columns: dict[tuple[int, ...], dict[tuple[int, ...], object]] = {}
    scalars: dict[tuple[int, ...], object] = {}
    per_ap: Counter = Counter()
    radio_cols: dict[int, dict[tuple[int, ...], object]] = {}
    for oid, encoded in model.table(now, uptime_ticks):
        if oid[: len(AIRESPACE_RADIO)] == AIRESPACE_RADIO and len(oid) == len(AIRESPACE_RADIO) + 8:
            radio_cols.setdefault(oid[len(AIRESPACE_RADIO)], {})[oid[-7:]] = _decode(encoded)
        elif oid[: len(AIRESPACE_MS_AP)] == AIRESPACE_MS_AP:
            per_ap[bytes(_decode(encoded))] += 1
        elif oid[: len(AIRESPACE_AP)] == AIRESPACE_AP or oid[: len(AIRESPACE_ESS)] == AIRESPACE_ESS:
            prefix = AIRESPACE_AP if oid[: len(AIRESPACE_AP)] == AIRESPACE_AP else AIRESPACE_ESS
            column = oid[: len(prefix) + 1]
            columns.setdefault(column, {})[oid[len(prefix) + 1 :]] = _decode(encoded)
        elif oid in (SYS_OBJECT_ID, MACHINE_MODEL):
            scalars[oid] = _decode(encoded)
    ap_col = {c: columns.get(AIRESPACE_AP + (c,), {}) for c in (3, 4, 6, 16, 17, 19, 37)}
    radios: dict[tuple[int, ...], list[SimRadio]] = {}
    for index in sorted(radio_cols.get(2, {})):
        levels = _text(radio_cols.get(22, {}).get(index))
        radios.setdefault(index[:6], []).append(
            SimRadio(
                slot=index[6],
                kind=radio_cols[2][index],
                channel=radio_cols.get(4, {}).get(index, 0),
                level=radio_cols.get(6, {}).get(index, 1),
                up=radio_cols.get(12, {}).get(index) == 2,
                levels=tuple(int(x) for x in levels.split(",")) if levels else (),
            )
        )
    aps = []
    for index in sorted(ap_col[3]):
        aps.append(
            SimAp(
                mac=":".join(f"{b:02x}" for b in index),
                name=_text(ap_col[3][index]),
                location=_text(ap_col[4].get(index)),
                model=_text(ap_col[16].get(index)),
                serial=_text(ap_col[17].get(index)),
                ip=".".join(str(b) for b in ap_col[19].get(index, b"")),
                up=ap_col[6].get(index) == 1 and ap_col[37].get(index) != 2,
                clients=per_ap[bytes(index)],
                radios=tuple(radios.get(tuple(index), ())),
            )
        )
    ssids = columns.get(AIRESPACE_ESS + (2,), {})
    return Snapshot(
        object_id=".".join(map(str, scalars.get(SYS_OBJECT_ID, ()))),
        model=_text(scalars.get(MACHINE_MODEL)),
        aps=aps,
        wlans={index[0]: _text(v) for index, v in sorted(ssids.items())},
        clients=sum(per_ap.values()),
        uptime_seconds=uptime_ticks // 100,
    )


def _dotted(mac: str) -> str:
    digits = mac.replace(":", "")
    return ".".join(digits[i : i + 4] for i in range(0, 12, 4))


def _ethernet_mac(mac: str) -> str:
    """A distinct wired MAC for an AP (the radio MAC with the locally administered bit set)."""
    first, rest = mac.split(":", 1)
    return f"{int(first, 16) ^ 0x02:02x}:{rest}"


# -- AireOS ------------------------------------------------------------------------------------


def _aireos_channel(radio: SimRadio) -> str:
    """RRM-assigned (``*``); 5 GHz as a 40 MHz pair, the primary channel first."""
    return f"({radio.channel},{radio.channel + 4})*" if radio.kind == 2 else f"{radio.channel}*"


def _aireos_power(radio: SimRadio) -> str:
    if 1 <= radio.level <= len(radio.levels):
        return f"*{radio.level}/{len(radio.levels)} ({radio.levels[radio.level - 1]} dBm)"
    return f"{radio.level}(*)"


def aireos_radio_list(joined: list[SimAp], kind: int) -> str:
    """``show advanced 802.11b|a summary``: one row per radio of that type, keyed by the AP's base radio MAC."""
    lines = [
        "",
        "Member RRM Information",
        "AP Name                          MAC Address       Slot Admin    Oper        Channel            "
        "TxPower       BSS Color",
        "-------------------------------- ----------------- ---- -------- ----------- ------------------ "
        "------------- ----------",
    ]
    for ap in joined:
        for radio in ap.radios:
            if radio.kind == kind:
                lines.append(
                    f"{ap.name:<32} {ap.mac:<17}  {radio.slot:<3} {'ENABLED':<8} {'UP' if radio.up else 'DOWN':<11} "
                    f"{_aireos_channel(radio):<18} {_aireos_power(radio):<13} N/A"
                )
    return "\n".join(lines) + "\n"


def aireos_outputs(snap: Snapshot, hostname: str) -> dict[str, str]:
    joined = [ap for ap in snap.aps if ap.up]
    days, rest = divmod(snap.uptime_seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, seconds = divmod(rest, 60)
    sysinfo = f"""
Manufacturer's Name.............................. Cisco Systems Inc.
Product Name..................................... Cisco Controller
Product Version.................................. {AIREOS_VERSION}
Bootloader Version............................... 1.0.20
Field Recovery Image Version..................... 7.6.101.1
Firmware Version................................. PIC 20.0


OUI File Last Update Time........................ Sun Sep 07 10:44:07 IST 2014
Build Type....................................... DATA + WPS

System Name...................................... {hostname}
System Location..................................
System Contact...................................
System ObjectID.................................. {snap.object_id}
Redundancy Mode.................................. Disabled
IP Address....................................... 127.0.0.1
Last Reset....................................... Software reset
System Up Time................................... {days} days {hours} hrs {minutes} mins {seconds} secs
System Timezone Location.........................
System Stats Realtime Interval................... 5
System Stats Normal Interval..................... 180

Configured Country............................... US  - United States

State of 802.11b Network......................... Enabled
State of 802.11a Network......................... Enabled
Number of WLANs.................................. {len(snap.wlans)}
Number of Active Clients......................... {snap.clients}

Burned-in MAC Address............................ 00:3A:7D:00:00:01
Maximum number of APs supported.................. 1500
"""
    inventory = f"""Burned-in MAC Address............................ 00:3A:7D:00:00:01
Power Supply 1................................... Present, OK
Power Supply 2................................... Absent
Maximum number of APs supported.................. 1500
NAME: "Chassis"    , DESCR: "Cisco 5520 Series Wireless LAN Controller"
PID: {snap.model},  VID: V01,  SN: FCH2145V0AB
"""
    lines = [
        "",
        f"Number of APs.................................... {len(joined)}",
        "",
        "Global AP User Name.............................. Not Configured",
        "Global AP Dot1x User Name........................ Not Configured",
        "Global AP Dot1x EAP Method....................... EAP-FAST",
        "",
        "AP Name                         Slots  AP Model              Ethernet MAC       Location              "
        "Country     IP Address       Clients  DSE Location",
        "------------------------------  -----  --------------------  -----------------  --------------------  "
        "----------  ---------------  -------  --------------",
    ]
    for ap in joined:
        lines.append(
            f"{ap.name:<30}  {2:<5}  {ap.model:<20}  {_ethernet_mac(ap.mac):<17}  {ap.location:<20}  {'US':<10}  "
            f"{ap.ip:<15}  "
            f"{ap.clients:<7}  [0 ,0 ,0 ]"
        )
    wlans = [
        "",
        f"Number of WLANs.................................. {len(snap.wlans)}",
        "",
        "WLAN ID  WLAN Profile Name / SSID               Status    Interface Name        PMIPv6 Mobility",
        "-------  -------------------------------------  --------  --------------------  ---------------",
    ]
    for wlan_id, ssid in snap.wlans.items():
        wlans.append(f"{wlan_id:<7}  {f'{ssid} / {ssid}':<37}  {'Enabled':<8}  {f'wlan_{wlan_id}':<20}  none")
    return {
        "show sysinfo": sysinfo,
        "show inventory": inventory,
        "show ap summary": "\n".join(lines) + "\n",
        **{command: aireos_radio_list(joined, kind) for kind, command in RADIO_LISTS.items()},
        "show wlan summary": "\n".join(wlans) + "\n",
    }


# -- Catalyst 9800 -----------------------------------------------------------------------------


def c9800_outputs(snap: Snapshot, hostname: str) -> dict[str, str]:
    joined = [ap for ap in snap.aps if ap.up]
    minutes = snap.uptime_seconds // 60
    version = f"""Cisco IOS XE Software, Version {IOSXE_VERSION}
Cisco IOS Software [Cupertino], C9800-CL Software (C9800-CL-K9_IOSXE), Version {IOSXE_VERSION}, RELEASE SOFTWARE (fc3)
Technical Support: http://www.cisco.com/techsupport
Copyright (c) 1986-2023 by Cisco Systems, Inc.
Compiled Tue 14-Mar-23 11:02 by mcpre

ROM: IOS-XE ROMMON

{hostname} uptime is {minutes // 1440} days, {minutes % 1440 // 60} hours, {minutes % 60} minutes
Uptime for this control processor is {minutes // 1440} days, {minutes % 1440 // 60} hours, {minutes % 60} minutes
System returned to ROM by reload
System image file is "bootflash:packages.conf"
Last reload reason: reload

cisco {C9800_MODEL} (VXE) processor (revision VXE) with 2025424K/3075K bytes of memory.
Processor board ID 9ABCDEFGHIJ
Router operating mode: Autonomous
1 Virtual Ethernet interface
3 Gigabit Ethernet interfaces
32768K bytes of non-volatile configuration memory.
16360340K bytes of physical memory.

Configuration register is 0x2102
"""
    width = 181
    lines = [
        f"Number of APs: {len(joined)}",
        "",
        "CC = Country Code",
        "RD = Regulatory Domain",
        "",
        "AP Name                          Slots AP Model             Ethernet MAC   Radio MAC      CC   RD   "
        "IP Address                                State        Location",
        "-" * width,
    ]
    for ap in joined:
        lines.append(
            f"{ap.name:<32} {2:<5} {ap.model:<20} {_dotted(_ethernet_mac(ap.mac)):<14} {_dotted(ap.mac):<14} "
            f"{'US':<4} {'-A':<4} {ap.ip:<41} {'Registered':<12} {ap.location}"
        )
    wlans = [
        f"Number of WLANs: {len(snap.wlans)}",
        "",
        "ID   Profile Name                     SSID                             Status Security",
        "-" * 103,
    ]
    for wlan_id, ssid in snap.wlans.items():
        security = "[WPA2][802.1x][AES]" if ssid == "eduroam" else "[open]"
        wlans.append(f"{wlan_id:<4} {ssid:<32} {ssid:<32} {'UP':<6} {security}")
    return {
        "show version": version,
        "show ap summary": "\n".join(lines) + "\n",
        "show wlan summary": "\n".join(wlans) + "\n",
    }


# -- devices -----------------------------------------------------------------------------------


def responder(
    model: ControllerModel, render: Callable[[Snapshot, str], dict[str, str]], started: float | None = None
) -> Callable[[str], str | None]:
    """Command -> output at the moment it is asked (None: not a command this controller knows)."""
    started = time.time() if started is None else started
    known = frozenset(render(Snapshot("", "", [], {}, 0, 0), model.hostname))

    def answer(command: str) -> str | None:
        if command not in known:
            return None  # cheap: the model is only rendered for the commands this controller has
        now = time.time()
        uptime = int((now - started) * 100) + 8_640_000  # as the SNMP agent: a day old at start
        outputs = render(snapshot(model, now, uptime), model.hostname)
        return outputs.get(command)

    return answer


def aireos_device(
    model: ControllerModel, username: str, password: str, *, radio_lists: bool = True, **kwargs
) -> DeviceBehaviour:
    """An AireOS controller: SSH login, then ``User:`` / ``Password:`` again, prompt ``(Cisco Controller) >``.

    ``radio_lists=False`` plays a release without ``show advanced 802.11b|a summary`` ("Incorrect usage")."""
    answer = responder(model, aireos_outputs)
    if not radio_lists:
        full = answer

        def answer(command: str) -> str | None:
            return None if command in RADIO_LISTS.values() else full(command)

    return DeviceBehaviour(
        hostname=model.hostname, username=username, password=password, style="aireos", responder=answer, **kwargs
    )


def c9800_device(model: ControllerModel, username: str, password: str, **kwargs) -> DeviceBehaviour:
    """A Catalyst 9800 controller: an IOS-XE CLI, prompt ``HOSTNAME#``."""
    return DeviceBehaviour(
        hostname=model.hostname, username=username, password=password, responder=responder(model, c9800_outputs),
        **kwargs,
    )  # fmt: skip
