"""Controller profiles on synthetic agents: AireOS, Catalyst 9800, Aruba, an empty controller.

Each controller is an snmprec file written here and served by snmpsim on
loopback; netmon polls it through its real SNMP client and the test checks
every observation exactly. The pure helpers (MAC rendering, band from
channel, Cisco power levels, string indexes) get property tests.
"""

from __future__ import annotations

import asyncio
import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from collectors import system, wlc
from collectors.credentials import SnmpV2cCredentials
from collectors.observations import AccessPoint, Client, Radio, Wlan, WlcResult
from collectors.snmp.api import SnmpTarget
from collectors.snmp.client import SnmpClient
from collectors.wlc import aruba, core
from netmon import lab as lab_mod

pytestmark = pytest.mark.integration

AIRESPACE = "1.3.6.1.4.1.14179.2"
LWAPP_AP = "1.3.6.1.4.1.9.9.513"
WLSX = "1.3.6.1.4.1.14823.2.2.1"


def idx(mac: str) -> str:
    """aa:bb:.. -> the decimal OID index of a MacAddress."""
    return ".".join(str(int(b, 16)) for b in mac.split(":"))


def hexmac(mac: str) -> str:
    return mac.replace(":", "")


def essid_index(ssid: str) -> str:
    return ".".join([str(len(ssid)), *(str(b) for b in ssid.encode())])


def system_group(object_id: str, descr: str, name: str) -> list[str]:
    return [
        f"1.3.6.1.2.1.1.1.0|4|{descr}",
        f"1.3.6.1.2.1.1.2.0|6|{object_id}",
        "1.3.6.1.2.1.1.3.0|67|123456",
        f"1.3.6.1.2.1.1.5.0|4|{name}",
    ]


# -- an AireOS controller: 3 APs, 2 WLANs (one eduroam), 6 clients ----------------------

AP1, AP2, AP3 = "00:11:22:33:44:01", "00:11:22:33:44:02", "00:11:22:33:44:03"
AIREOS_CLIENTS = [
    # mac, user, ap, slot, wlan, ssid, status, protocol, rssi, snr, rx, tx
    ("aa:bb:cc:00:00:01", "alice@uni.example", AP1, 1, 1, "eduroam", 3, 11, -52, 41, 1_000_000, 9_000_000),
    ("aa:bb:cc:00:00:02", "bob@college.example", AP1, 0, 1, "eduroam", 3, 12, -67, 27, 20_000, 300_000),
    ("aa:bb:cc:00:00:03", "carol@uni.example", AP2, 1, 1, "eduroam", 4, 10, -71, 22, 5_000, 6_000),
    ("aa:bb:cc:00:00:04", "dave@city.example", AP2, 0, 1, "eduroam", 3, 6, -60, 33, 7, 8),
    ("aa:bb:cc:00:00:05", "", AP1, 1, 2, "city-free-wifi", 3, 13, -48, 45, 2**40, 2**41),
    ("aa:bb:cc:00:00:06", "", AP2, 0, 2, "", 7, 3, -80, 12, 0, 0),  # probing; SSID left empty by the agent
]


def aireos_records() -> list[str]:
    recs = system_group("1.3.6.1.4.1.9.1.1279", "Cisco Controller", "wlc-aireos")
    recs += [
        "1.3.6.1.4.1.14179.1.1.1.3.0|4|AIR-CT2504-K9",
        "1.3.6.1.4.1.9.9.618.1.8.4.0|66|3",
        "1.3.6.1.4.1.9.9.618.1.8.15.0|66|6",
    ]
    aps = [
        (AP1, "ap-library-1", "Library, 1st floor", 1, "AIR-AP2802I-E-K9", "FGL2101A001", "127.20.0.11", 1, 8_640_000),
        (AP2, "ap-library-2", "Library, 2nd floor", 1, "AIR-AP3802I-E-K9", "FGL2101A002", "127.20.0.12", 1, 360_000),
        (AP3, "ap-arena-1", "Arena, lobby", 2, "AIR-AP1852I-E-K9", "FGL2101A003", "127.20.0.13", 2, None),
    ]
    for mac, name, location, oper, model, serial, ip, admin, uptime in aps:
        i = idx(mac)
        recs += [
            f"{AIRESPACE}.2.1.1.3.{i}|4|{name}",
            f"{AIRESPACE}.2.1.1.4.{i}|4|{location}",
            f"{AIRESPACE}.2.1.1.6.{i}|2|{oper}",
            f"{AIRESPACE}.2.1.1.16.{i}|4|{model}",
            f"{AIRESPACE}.2.1.1.17.{i}|4|{serial}",
            f"{AIRESPACE}.2.1.1.19.{i}|64|{ip}",
            f"{AIRESPACE}.2.1.1.37.{i}|2|{admin}",
        ]
        if uptime is not None:
            recs.append(f"{LWAPP_AP}.1.1.1.1.6.{i}|67|{uptime}")
    radios = [
        # ap, slot, type, channel, level, power list, oper, users, utilisation %
        (AP1, 0, 1, 6, 1, "20,17,14,11,8,5,2", 2, 1, 35),
        (AP1, 1, 2, 36, 2, "23,20,17,14,11,8", 2, 2, 12),
        (AP2, 0, 1, 11, 3, None, 2, 2, 80),
        (AP2, 1, 7, 37, 1, "", 2, 1, None),  # a 5/6 GHz XOR radio on a channel only 6 GHz has
        (AP3, 0, 1, 1, 1, None, 1, 0, None),
    ]
    for mac, slot, kind, channel, level, powers, oper, users, util in radios:
        i = f"{idx(mac)}.{slot}"
        recs += [
            f"{AIRESPACE}.2.2.1.2.{i}|2|{kind}",
            f"{AIRESPACE}.2.2.1.4.{i}|2|{channel}",
            f"{AIRESPACE}.2.2.1.6.{i}|2|{level}",
            f"{AIRESPACE}.2.2.1.12.{i}|2|{oper}",
            f"{AIRESPACE}.2.2.1.15.{i}|65|{users}",
        ]
        if powers is not None:
            recs.append(f"{AIRESPACE}.2.2.1.22.{i}|4|{powers}")
        if util is not None:
            recs.append(f"{AIRESPACE}.2.13.1.3.{i}|2|{util}")
    for wlan, ssid, count in [(1, "eduroam", 4), (2, "city-free-wifi", 2)]:
        recs += [f"{AIRESPACE}.1.1.1.2.{wlan}|4|{ssid}", f"{AIRESPACE}.1.1.1.38.{wlan}|65|{count}"]
    for mac, user, ap, slot, wlan, ssid, status, proto, rssi, snr, rx, tx in AIREOS_CLIENTS:
        i = idx(mac)
        recs += [
            f"{AIRESPACE}.1.4.1.3.{i}|4|{user}",
            f"{AIRESPACE}.1.4.1.4.{i}|4x|{hexmac(ap)}",
            f"{AIRESPACE}.1.4.1.5.{i}|2|{slot}",
            f"{AIRESPACE}.1.4.1.6.{i}|2|{wlan}",
            f"{AIRESPACE}.1.4.1.7.{i}|4|{ssid}",
            f"{AIRESPACE}.1.4.1.9.{i}|2|{status}",
            f"{AIRESPACE}.1.4.1.25.{i}|2|{proto}",
            f"{AIRESPACE}.1.6.1.1.{i}|2|{rssi}",
            f"{AIRESPACE}.1.6.1.2.{i}|70|{rx}",
            f"{AIRESPACE}.1.6.1.3.{i}|70|{tx}",
            f"{AIRESPACE}.1.6.1.26.{i}|2|{snr}",
        ]
    return recs


AIREOS_EXPECTED = WlcResult(
    profile="aireos",
    controller_model="AIR-CT2504-K9",
    aps=(
        AccessPoint(
            AP1, "ap-library-1", "AIR-AP2802I-E-K9", "FGL2101A001", "127.20.0.11", "Library, 1st floor", "up", 86_400
        ),
        AccessPoint(
            AP2, "ap-library-2", "AIR-AP3802I-E-K9", "FGL2101A002", "127.20.0.12", "Library, 2nd floor", "up", 3_600
        ),
        AccessPoint(
            AP3, "ap-arena-1", "AIR-AP1852I-E-K9", "FGL2101A003", "127.20.0.13", "Arena, lobby", "disabled", None
        ),
    ),
    radios=(
        Radio(AP1, 0, "2.4GHz", 6, 20.0, "dBm", 1, 0.35, "up"),
        Radio(AP1, 1, "5GHz", 36, 20.0, "dBm", 2, 0.12, "up"),
        Radio(AP2, 0, "2.4GHz", 11, 3.0, "level", 2, 0.8, "up"),
        Radio(AP2, 1, "6GHz", 37, 1.0, "level", 1, None, "up"),
        Radio(AP3, 0, "2.4GHz", 1, 1.0, "level", 0, None, "down"),
    ),
    wlans=(Wlan("eduroam", 1, 4), Wlan("city-free-wifi", 2, 2)),
    clients=(
        Client(
            "aa:bb:cc:00:00:01",
            AP1,
            "eduroam",
            1,
            "802.11ax",
            -52,
            41,
            1_000_000,
            9_000_000,
            "associated",
            "alice@uni.example",
        ),
        Client(
            "aa:bb:cc:00:00:02",
            AP1,
            "eduroam",
            1,
            "802.11ax",
            -67,
            27,
            20_000,
            300_000,
            "associated",
            "bob@college.example",
        ),
        Client(
            "aa:bb:cc:00:00:03", AP2, "eduroam", 1, "802.11ac", -71, 22, 5_000, 6_000, "powersave", "carol@uni.example"
        ),
        Client("aa:bb:cc:00:00:04", AP2, "eduroam", 1, "802.11n", -60, 33, 7, 8, "associated", "dave@city.example"),
        Client("aa:bb:cc:00:00:05", AP1, "city-free-wifi", 2, "802.11ax", -48, 45, 2**40, 2**41, "associated", ""),
        Client("aa:bb:cc:00:00:06", AP2, "city-free-wifi", 2, "802.11g", -80, 12, 0, 0, "probing", ""),
    ),
    reported_ap_count=3,
    reported_client_count=6,
)


# -- a Catalyst 9800: 2 APs, 3 clients ---------------------------------------------------

C1, C2 = "70:70:8b:00:00:10", "70:70:8b:00:00:20"


def c9800_records() -> list[str]:
    recs = system_group(
        "1.3.6.1.4.1.9.1.2669",
        "Cisco IOS Software [Cupertino], C9800 Software (C9800_IOSXE-K9), Version 17.9.4, RELEASE SOFTWARE (fc5)",
        "wlc-9800",
    )
    recs += [
        "1.3.6.1.2.1.47.1.1.1.1.5.1|2|11",  # a stack with no model
        "1.3.6.1.2.1.47.1.1.1.1.5.2|2|3",
        "1.3.6.1.2.1.47.1.1.1.1.13.2|4|C9800-CL-K9",
        "1.3.6.1.2.1.47.1.1.1.1.13.1000|4|C9800-CL-K9-MIP",
        f"{LWAPP_AP}.1.3.35.0|66|2",
    ]
    for mac, name, uptime, location, address, model, serial, oper in [
        (C1, "ap-fire-3", 99_900, "Fire station 3", "7f1e0005", "C9120AXI-E", "FJC2401Q0AA", 1),
        (
            C2,
            "ap-transit-7",
            500,
            "Transit hub 7",
            "20010db8000000000000000000000007",
            "CW9166I-ROW",
            "FJC2401Q0BB",
            None,
        ),
    ]:
        i = idx(mac)
        recs += [
            f"{LWAPP_AP}.1.1.1.1.5.{i}|4|{name}",
            f"{LWAPP_AP}.1.1.1.1.6.{i}|67|{uptime}",
            f"{LWAPP_AP}.1.1.1.1.38.{i}|2|1",
            f"{LWAPP_AP}.1.1.1.1.49.{i}|4|{location}",
            f"{LWAPP_AP}.1.1.10.1.4.{i}|4x|{address}",
            f"{AIRESPACE}.2.1.1.16.{i}|4|{model}",
            f"{AIRESPACE}.2.1.1.17.{i}|4|{serial}",
        ]
        if oper is not None:
            recs.append(f"{AIRESPACE}.2.1.1.6.{i}|2|{oper}")
    for mac, slot, kind, channel, level, powers, users, util in [
        (C1, 0, 1, 1, 1, "22,19,16", 1, 20),
        (C1, 1, 2, 100, 2, "22,19,16", 1, 5),
        (C2, 0, 1, 6, 1, "20,17", 0, 40),
        (C2, 1, 2, 149, 1, "20,17", 0, 3),
        (C2, 2, 6, 37, 1, "18,15", 1, 1),
    ]:
        i = f"{idx(mac)}.{slot}"
        recs += [
            f"{AIRESPACE}.2.2.1.2.{i}|2|{kind}",
            f"{AIRESPACE}.2.2.1.4.{i}|2|{channel}",
            f"{AIRESPACE}.2.2.1.6.{i}|2|{level}",
            f"{AIRESPACE}.2.2.1.12.{i}|2|2",
            f"{AIRESPACE}.2.2.1.15.{i}|65|{users}",
            f"{AIRESPACE}.2.2.1.22.{i}|4|{powers}",
            f"{AIRESPACE}.2.13.1.3.{i}|2|{util}",
        ]
    for wlan, profile, ssid, count in [(1, "eduroam-prof", "eduroam", 2), (3, "guest-prof", "city-guest", 1)]:
        recs += [
            f"1.3.6.1.4.1.9.9.512.1.1.1.1.3.{wlan}|4|{profile}",
            f"1.3.6.1.4.1.9.9.512.1.1.1.1.4.{wlan}|4|{ssid}",
            f"{AIRESPACE}.1.1.1.38.{wlan}|65|{count}",
        ]
    cldc = "1.3.6.1.4.1.9.9.599.1.3.1.1"
    stats = "1.3.6.1.4.1.9.9.599.1.4.1.1"
    for mac, status, profile, proto, bsn_proto, ap, user, ssid, rx, tx, rssi, snr in [
        ("3c:22:fb:00:00:01", 4, "eduroam-prof", 10, None, C1, "erin@uni.example", "eduroam", 100, 200, -58, 37),
        ("3c:22:fb:00:00:02", 5, "eduroam-prof", 4, 11, C2, "frank@uni.example", "eduroam", 300, 400, -64, 30),
        ("3c:22:fb:00:00:03", 8, "guest-prof", 6, None, C2, "", "", 0, 0, None, None),
    ]:
        i = idx(mac)
        recs += [
            f"{cldc}.2.{i}|2|{status}",
            f"{cldc}.3.{i}|4|{profile}",
            f"{cldc}.6.{i}|2|{proto}",
            f"{cldc}.8.{i}|4x|{hexmac(ap)}",
            f"{cldc}.27.{i}|4|{user}",
            f"{cldc}.28.{i}|4|{ssid}",
            f"{stats}.9.{i}|70|{rx}",
            f"{stats}.13.{i}|70|{tx}",
        ]
        if bsn_proto is not None:
            recs.append(f"{AIRESPACE}.1.4.1.25.{i}|2|{bsn_proto}")
        if rssi is not None:
            recs += [f"{AIRESPACE}.1.6.1.1.{i}|2|{rssi}", f"{AIRESPACE}.1.6.1.26.{i}|2|{snr}"]
    return recs


C9800_EXPECTED = WlcResult(
    profile="c9800",
    controller_model="C9800-CL-K9",
    aps=(
        AccessPoint(C1, "ap-fire-3", "C9120AXI-E", "FJC2401Q0AA", "127.30.0.5", "Fire station 3", "up", 999),
        AccessPoint(C2, "ap-transit-7", "CW9166I-ROW", "FJC2401Q0BB", "2001:db8::7", "Transit hub 7", "up", 5),
    ),
    radios=(
        Radio(C1, 0, "2.4GHz", 1, 22.0, "dBm", 1, 0.2, "up"),
        Radio(C1, 1, "5GHz", 100, 19.0, "dBm", 1, 0.05, "up"),
        Radio(C2, 0, "2.4GHz", 6, 20.0, "dBm", 0, 0.4, "up"),
        Radio(C2, 1, "5GHz", 149, 20.0, "dBm", 0, 0.03, "up"),
        Radio(C2, 2, "6GHz", 37, 18.0, "dBm", 1, 0.01, "up"),
    ),
    wlans=(Wlan("eduroam", 1, 2), Wlan("city-guest", 3, 1)),
    clients=(
        Client("3c:22:fb:00:00:01", C1, "eduroam", 1, "802.11ac", -58, 37, 100, 200, "associated", "erin@uni.example"),
        Client("3c:22:fb:00:00:02", C2, "eduroam", 1, "802.11ax", -64, 30, 300, 400, "powersave", "frank@uni.example"),
        Client("3c:22:fb:00:00:03", C2, "city-guest", 3, "802.11n", None, None, 0, 0, "probing", ""),
    ),
    reported_ap_count=2,
)


# -- an Aruba controller: 2 APs ------------------------------------------------------------

A1, A2 = "20:4c:03:00:00:01", "20:4c:03:00:00:02"
BSSID_1, BSSID_2 = "20:4c:03:00:10:01", "20:4c:03:00:10:02"


def aruba_records() -> list[str]:
    recs = system_group("1.3.6.1.4.1.14823.1.1.32", "ArubaOS (MODEL: Aruba7210), Version 8.2.0.2 (62929)", "wlc-aruba")
    recs += [f"{WLSX}.1.3.1.0|66|2", f"{WLSX}.1.3.2.0|66|2"]
    ap = f"{WLSX}.5.2.1.4.1"
    for mac, ip, name, serial, uptime, model, location, status in [
        (A1, "127.40.0.21", "ap-park-1", "CNF7J0A001", 4_320_000, "AP-515", "Central park kiosk", 1),
        (A2, "127.40.0.22", "ap-park-2", "CNF7J0A002", 0, "AP-505", "Boat house", 2),
    ]:
        i = idx(mac)
        recs += [
            f"{ap}.2.{i}|64|{ip}",
            f"{ap}.3.{i}|4|{name}",
            f"{ap}.6.{i}|4|{serial}",
            f"{ap}.12.{i}|67|{uptime}",
            f"{ap}.13.{i}|4|{model}",
            f"{ap}.14.{i}|4|{location}",
            f"{ap}.19.{i}|2|{status}",
        ]
    radio = f"{WLSX}.5.2.1.5.1"
    for mac, number, phy, channel, half, tenths, util, clients, name in [
        (A1, 1, 1, 36, 36, 180, 17, 1, "ap-park-1"),
        (A1, 2, 3, 6, 30, None, 62, 1, "ap-park-1"),
        (A2, 1, 4, 149, 40, None, 0, 0, "ap-park-2"),
    ]:
        i = f"{idx(mac)}.{number}"
        recs += [
            f"{radio}.2.{i}|2|{phy}",
            f"{radio}.3.{i}|2|{channel}",
            f"{radio}.4.{i}|2|{half}",
            f"{radio}.6.{i}|2|{util}",
            f"{radio}.7.{i}|2|{clients}",
            f"{radio}.16.{i}|4|{name}",
        ]
        if tenths is not None:
            recs.append(f"{radio}.17.{i}|2|{tenths}")
    for mac, number, bssid, essid in [(A1, 1, BSSID_1, "eduroam"), (A1, 2, BSSID_2, "city-free-wifi")]:
        recs.append(f"{WLSX}.5.2.1.7.1.2.{idx(mac)}.{number}.{idx(bssid)}|4|{essid}")
    for essid, count in [("eduroam", 1), ("city-free-wifi", 1)]:
        recs.append(f"{WLSX}.5.2.1.8.1.2.{essid_index(essid)}|66|{count}")
    sta = f"{WLSX}.5.2.2.1.1"
    for mac, bssid, phy, essid, rssi, ht, ap_name in [
        ("f0:18:98:00:00:01", BSSID_1, 1, "eduroam", 38, 9, "ap-park-1"),
        ("f0:18:98:00:00:02", "20:4c:03:00:99:99", 3, "city-free-wifi", -61, 1, "ap-park-2"),  # BSSID not listed
    ]:
        i = idx(mac)
        recs += [
            f"{sta}.2.{i}|4x|{hexmac(bssid)}",
            f"{sta}.3.{i}|2|{phy}",
            f"{sta}.4.{i}|2|1",
            f"{sta}.5.{i}|2|1",
            f"{sta}.12.{i}|4|{essid}",
            f"{sta}.14.{i}|2|{rssi}",
            f"{sta}.16.{i}|2|{ht}",
            f"{sta}.20.{i}|4|{ap_name}",
        ]
    user = f"{WLSX}.4.1.2.1"
    for mac, ip, name, rx, tx in [
        ("f0:18:98:00:00:01", "127.50.0.5", "gina@uni.example", 5_000, 700),
        ("f0:18:98:00:00:01", "127.50.1.5", "", 1_000, 300),  # a second address of the same station
        ("00:50:56:00:00:99", "127.60.0.9", "wired-printer", 1, 1),  # a wired user: not a wireless client
    ]:
        i = f"{idx(mac)}.{ip}"
        recs += [f"{user}.3.{i}|4|{name}", f"{user}.42.{i}|70|{rx}", f"{user}.43.{i}|70|{tx}"]
    return recs


ARUBA_EXPECTED = WlcResult(
    profile="aruba",
    controller_model="Aruba7210",
    aps=(
        AccessPoint(A1, "ap-park-1", "AP-515", "CNF7J0A001", "127.40.0.21", "Central park kiosk", "up", 43_200),
        AccessPoint(A2, "ap-park-2", "AP-505", "CNF7J0A002", "127.40.0.22", "Boat house", "down", 0),
    ),
    radios=(
        Radio(A1, 1, "5GHz", 36, 18.0, "dBm", 1, 0.17),
        Radio(A1, 2, "2.4GHz", 6, 15.0, "dBm", 1, 0.62),
        Radio(A2, 1, "5GHz", 149, 20.0, "dBm", 0, 0.0),
    ),
    wlans=(Wlan("city-free-wifi", None, 1), Wlan("eduroam", None, 1)),
    clients=(
        Client(
            "f0:18:98:00:00:01",
            A1,
            "eduroam",
            None,
            "802.11ax",
            None,
            38,
            1_000,
            6_000,
            "associated",
            "gina@uni.example",
        ),
        Client("f0:18:98:00:00:02", A2, "city-free-wifi", None, "802.11g", -61, None, None, None, "associated", ""),
    ),
    reported_ap_count=2,
    reported_client_count=2,
)


# -- an AireOS controller nobody is connected to -------------------------------------------


def empty_records() -> list[str]:
    i = idx("00:11:22:33:55:01")
    return system_group("1.3.6.1.4.1.14179.1.1.4.3", "Cisco Controller", "wlc-quiet") + [
        "1.3.6.1.4.1.9.9.618.1.8.4.0|66|1",
        "1.3.6.1.4.1.9.9.618.1.8.15.0|66|0",
        "1.3.6.1.2.1.47.1.1.1.1.5.1|2|3",
        "1.3.6.1.2.1.47.1.1.1.1.13.1|4|AIR-CT5520-K9",
        f"{AIRESPACE}.2.1.1.3.{i}|4|ap-night-1",
        f"{AIRESPACE}.2.1.1.6.{i}|2|1",
        f"{AIRESPACE}.2.2.1.2.{i}.0|2|1",
        f"{AIRESPACE}.2.2.1.4.{i}.0|2|11",
        f"{AIRESPACE}.2.2.1.12.{i}.0|2|2",
        f"{AIRESPACE}.2.2.1.15.{i}.0|65|0",
        f"{AIRESPACE}.1.1.1.2.1|4|eduroam",
        f"{AIRESPACE}.1.1.1.38.1|65|0",
    ]


EMPTY_EXPECTED = WlcResult(
    profile="aireos",
    controller_model="AIR-CT5520-K9",
    aps=(AccessPoint("00:11:22:33:55:01", "ap-night-1", status="up"),),
    radios=(Radio("00:11:22:33:55:01", 0, "2.4GHz", 11, None, "", 0, None, "up"),),
    wlans=(Wlan("eduroam", 1, 0),),
    clients=(),
    reported_ap_count=1,
    reported_client_count=0,
)


def switch_records() -> list[str]:
    """A Catalyst 9300 switch: Cisco, but no controller."""
    return system_group("1.3.6.1.4.1.9.1.2494", "Cisco IOS Software, Catalyst L3 Switch Software (CAT9K_IOSXE)", "sw")


def _oid_key(line: str) -> tuple[int, ...]:
    return tuple(int(x) for x in line.split("|", 1)[0].split("."))


DEVICES = {
    "wlc-aireos": aireos_records,
    "wlc-9800": c9800_records,
    "wlc-aruba": aruba_records,
    "wlc-quiet": empty_records,
    "sw-9300": switch_records,
}


@pytest.fixture(scope="module")
def agent(tmp_path_factory):
    data = tmp_path_factory.mktemp("wlc-data")
    for community, build in DEVICES.items():
        (data / f"{community}.snmprec").write_text("\n".join(sorted(build(), key=_oid_key)) + "\n")
    sim = lab_mod.Simulator(data, lab_mod.free_udp_port(), tmp_path_factory.mktemp("wlc"), v3_users=[]).start()
    yield sim.port
    sim.stop()


def poll(port: int, community: str, engine: str = "native") -> WlcResult:
    async def go():
        client = SnmpClient(engine)
        try:
            session = await client.session(SnmpTarget("127.0.0.1", port, 5.0, 1), SnmpV2cCredentials("c", community))
            return await wlc.collect(session, (await system.collect(session)).object_id)
        finally:
            client.close()

    return asyncio.run(go())


@pytest.mark.parametrize("engine", ["native", "pysnmp"])
def test_aireos_controller(agent, engine):
    got = poll(agent, "wlc-aireos", engine)
    assert got == AIREOS_EXPECTED
    assert got.clients_per_ssid() == {"eduroam": 4, "city-free-wifi": 2}
    assert {w.ssid: w.clients for w in got.wlans} == got.clients_per_ssid()


def test_catalyst_9800(agent):
    assert poll(agent, "wlc-9800") == C9800_EXPECTED


def test_aruba_controller(agent):
    assert poll(agent, "wlc-aruba") == ARUBA_EXPECTED


def test_controller_without_clients_is_an_empty_answer(agent):
    got = poll(agent, "wlc-quiet")
    assert got == EMPTY_EXPECTED
    assert got.clients == () and got.clients_per_ssid() == {}


def test_a_cisco_switch_is_not_a_controller(agent):
    with pytest.raises(core.NotAController) as raised:
        poll(agent, "sw-9300")
    assert raised.value.reason == "unsupported"


def test_client_repr_keeps_personal_data_out():
    client = AIREOS_EXPECTED.clients[0]
    shown = repr(client)
    assert client.mac not in shown and "alice" not in shown
    assert "802.11ax" in shown


@pytest.mark.parametrize(
    ("object_id", "descr", "profile"),
    [
        ("1.3.6.1.4.1.9.6.1.37.240.1", "", "aireos"),  # Cisco Business Wireless 240AC
        (".1.3.6.1.4.1.9.1.1069", "", "aireos"),  # 5508
        ("1.3.6.1.4.1.14179.1.1.4.3", "", "aireos"),
        ("1.3.6.1.4.1.9.1.2861", "", "c9800"),  # as in LibreNMS's iosxe_c9800
        ("1.3.6.1.4.1.9.1.9999", "Cisco IOS Software [Dublin], C9800 Software (C9800_IOSXE-K9)", "c9800"),
        ("1.3.6.1.4.1.9.1.9999", "Cisco Controller", "aireos"),
        ("1.3.6.1.4.1.14823.1.1.9999", "", "aruba"),
        ("1.3.6.1.4.1.9.1.2494", "Cisco IOS Software, Catalyst L3 Switch Software", None),
        ("1.3.6.1.4.1.2636.1.1.1.2.82", "", None),
        ("", "", None),
        ("not.an.oid", "", None),
    ],
)
def test_profile_for(object_id, descr, profile):
    chosen = wlc.profile_for(object_id, descr)
    assert (chosen.name if chosen else None) == profile


# -- pure helpers ---------------------------------------------------------------------------

MAC_RE = re.compile(r"^[0-9a-f]{2}(:[0-9a-f]{2}){5}$")


@given(st.binary(min_size=6, max_size=6))
def test_mac_rendering_round_trips(raw):
    shown = core.mac(raw)
    assert MAC_RE.match(shown)
    assert core.mac(tuple(raw)) == shown  # as an OID index
    assert bytes.fromhex(shown.replace(":", "")) == raw


@given(st.one_of(st.binary(max_size=12).filter(lambda b: len(b) != 6), st.tuples(st.integers(256, 1000))))
def test_mac_rejects_what_is_not_six_octets(value):
    assert core.mac(value) == ""


@given(st.integers(1, 14))
def test_24ghz_channels(channel):
    assert core.band_from_channel(channel) == "2.4GHz"


@given(st.sampled_from(sorted(core.CHANNELS_5)))
def test_5ghz_channels(channel):
    assert core.band_from_channel(channel) == "5GHz"


@given(st.integers(-1000, 1000))
def test_band_is_only_claimed_for_real_channels(channel):
    band = core.band_from_channel(channel)
    assert band is None or channel in core.CHANNELS_24 | core.CHANNELS_5
    xor = core.band_from_channel(channel, five_or_six=True)
    if xor == "6GHz":
        assert channel in core.CHANNELS_6 and channel not in core.CHANNELS_5
    elif xor == "5GHz":
        assert channel in core.CHANNELS_5 and channel not in core.CHANNELS_6
    else:
        assert xor is None


def test_xor_radio_band_examples():
    assert core.band_from_channel(36, five_or_six=True) == "5GHz"
    assert core.band_from_channel(37, five_or_six=True) == "6GHz"
    assert core.band_from_channel(149, five_or_six=True) is None  # a channel number both bands have


@given(st.lists(st.integers(-10, 30), min_size=1, max_size=8), st.integers(-2, 10))
def test_power_level_lookup(levels, level):
    listed = ",".join(str(x) for x in levels).encode()
    assert core.power_levels(listed) == levels
    expected = levels[level - 1] if 1 <= level <= len(levels) else None
    assert core.dbm_for_level(level, core.power_levels(listed)) == expected


def test_power_levels_reject_junk():
    assert core.power_levels(b"N/A") == []
    assert core.power_levels(None) == []


@given(st.text(alphabet=st.characters(min_codepoint=32, max_codepoint=126), max_size=32))
def test_string_index_round_trips(ssid):
    raw = ssid.encode()
    assert core.string_index((len(raw), *raw)) == ssid


@given(st.lists(st.integers(0, 255), max_size=6))
def test_string_index_needs_its_length(octets):
    assert core.string_index((len(octets) + 1, *octets)) is None


@given(st.binary(min_size=4, max_size=4))
def test_ipv4_text(raw):
    shown = core.ip_text(raw)
    assert shown == ("" if raw == bytes(4) else ".".join(str(b) for b in raw))


@given(st.integers(-10, 14), st.integers(-5, 1000))
def test_aruba_protocol_and_power(mode, power):
    assert aruba.protocol(1, mode) in {"802.11ax", "802.11ac", "802.11n", "802.11a"}
    assert aruba.tx_power_dbm(power, None) == power / 10
    assert aruba.tx_power_dbm(None, power) == power / 2
    assert aruba.tx_power_dbm(None, None) is None


def test_percent_and_ticks():
    assert core.ratio_from_percent(35) == 0.35
    assert core.ratio_from_percent(101) is None and core.ratio_from_percent(-1) is None
    assert core.seconds_from_ticks(8_640_000) == 86_400
    assert core.seconds_from_ticks(None) is None
