"""The lab: a simulated city network on loopback, the embedded default.

``build()`` writes, for a few city sites, one fibre switch each as an
snmpsim data file (``.snmprec``) with counters that advance with time, plus
the matching inventory, secrets (mode 0600) and configuration. One site also
gets an old router that only has 32-bit ifTable counters (the fallback path),
and the city-hall switch is reached with SNMPv3 authPriv.

``Simulator`` runs snmpsim on 127.0.0.1. snmpsim selects a device by its
SNMPv2c community (SNMPv3: context name), which is the data file's name;
one agent process serves every device. The same lab backs ``netmon demo``,
the integration tests and the benchmarks.
"""

from __future__ import annotations

import math
import os
import random
import re
import secrets as secrets_mod
import shutil
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import yaml

CITY_CENTRE = (45.4215, -75.6972)
NEIGHBOURHOODS = [
    "riverside",
    "old-town",
    "northgate",
    "westboro",
    "eastview",
    "lakeshore",
    "hillcrest",
    "southpark",
    "millbrook",
    "harbour",
    "greenfield",
    "stonebridge",
    "maplewood",
    "cedarvale",
    "brookside",
    "parkdale",
]
KINDS = [
    ("library", "library"),
    ("community-centre", "cc"),
    ("fire-station", "fire"),
    ("arena", "arena"),
    ("traffic", "traffic"),
    ("transit", "transit"),
]
V3_USER = "netmon-lab"
V3_AUTH_KEY = "lab-auth-key-0001"
V3_PRIV_KEY = "lab-priv-key-0001"
CISCO_C9300 = "1.3.6.1.4.1.9.1.2494"
CISCO_ISR4331 = "1.3.6.1.4.1.9.1.2068"
WLC_CITY, WLC_9800, WLC_ANNEX = "wlc-city", "wlc-9800", "wlc-annex"
# Each controller's NAS sends accounting from a loopback address of its own (Linux routes all of 127.0.0.0/8 to
# lo, so binding 127.0.0.2 needs no set-up): the listener tells the controllers apart by source, as in the city.
RADIUS_SOURCES = {WLC_CITY: "127.0.0.1", WLC_9800: "127.0.0.2"}
ANNEX_SITES, ANNEX_APS_PER_SITE, ANNEX_PEOPLE = 3, 10, 300
ANNEX_INTERVAL = 30  # seconds: a controller's CLI is slower and dearer than SNMP, so it is read less often


@dataclass(frozen=True)
class LabDevice:
    hostname: str
    site: str
    role: str
    ports: int
    legacy: bool = False  # ifTable only, 32-bit counters
    v3: bool = False
    ssh: bool = False  # also answers SSH with a Cisco IOS CLI
    snmp: bool = True  # False: no SNMP agent at all, read over SSH only (the annex controller)


@dataclass
class Lab:
    root: Path
    sites: list[dict] = field(default_factory=list)
    devices: list[LabDevice] = field(default_factory=list)
    agent_port: int = 0
    ssh_port: int = 0
    ssh_password: str = field(default="", repr=False)
    cli_outputs: dict[str, str] = field(default_factory=dict, repr=False)
    wlc_port: int = 0  # wlc-city, the AireOS-style controller
    wlc_aps_per_site: int = 40
    wlc_people: int = 6000
    wlc_9800_port: int = 0  # wlc-9800, the Catalyst 9800-style controller (0: not in this lab)
    wlc_annex_port: int = 0  # wlc-annex, the SSH-only AireOS controller's CLI (TCP; 0: not in this lab)
    radius_port: int = 0  # netmon's accounting listener; the controllers' NASes send there (see RadiusNas)
    nas_secrets: dict[str, str] = field(default_factory=dict, repr=False)  # controller hostname -> RADIUS secret
    fticks_port: int = 0  # netmon's F-Ticks syslog listener; the lab's eduroam proxy logs there

    @property
    def radius_secret(self) -> str:
        """wlc-city's RADIUS secret (each NAS has its own: :attr:`nas_secrets`)."""
        return self.nas_secrets.get(WLC_CITY, "")

    def wlc_models(self) -> list:
        """A :class:`~netmon.wlc_sim.ControllerModel` per lab controller: wlc-city, wlc-9800, wlc-annex.

        wlc-city (AireOS) serves every site; wlc-9800 every other site (the second, fourth, ...), as in
        a migration where the new controller's APs share buildings with the old one's; wlc-annex, a small
        AireOS controller whose SNMP the city does not allow (read over SSH), the first three sites' annex
        buildings. Each has its own MAC and user name block, so no MAC or user name is seen on two.
        """
        from netmon.wlc_sim import ControllerModel

        names = [s["name"] for s in self.sites]
        out = []
        for device in (d for d in self.devices if d.role == "wlc"):
            if device.hostname == WLC_9800:
                out.append(
                    ControllerModel(
                        device.hostname,
                        names[1::2] or names,
                        self.wlc_aps_per_site,
                        self.wlc_people // 2,
                        seed="c9800",
                        kind="c9800",
                        block=1,
                        ap_prefix="ap9k",
                    )
                )
            elif device.hostname == WLC_ANNEX:
                out.append(
                    ControllerModel(
                        device.hostname,
                        names[:ANNEX_SITES],
                        min(ANNEX_APS_PER_SITE, self.wlc_aps_per_site),
                        max(1, min(ANNEX_PEOPLE, self.wlc_people // 5)),
                        seed="annex",
                        block=2,
                        ap_prefix="apx",
                    )
                )
            else:
                out.append(ControllerModel(device.hostname, names, self.wlc_aps_per_site, self.wlc_people))
        return out

    def wlc_model(self, hostname: str | None = None):
        """The model of controller ``hostname``; by default the first one, wlc-city (AireOS)."""
        models = self.wlc_models()
        return next(m for m in models if hostname in (None, m.hostname))

    def wlc_port_of(self, hostname: str) -> int:
        """The UDP port of a controller's SNMP agent (0: none, e.g. wlc-annex, read over SSH only)."""
        return {WLC_CITY: self.wlc_port, WLC_9800: self.wlc_9800_port}.get(hostname, 0)

    @property
    def data_dir(self) -> Path:
        return self.root / "data"

    @property
    def config_path(self) -> Path:
        return self.root / "netmon.yml"

    @property
    def inventory_path(self) -> Path:
        return self.root / "inventory.yml"

    @property
    def secrets_path(self) -> Path:
        return self.root / "secrets.yml"

    @property
    def db_path(self) -> Path:
        return self.root / "netmon.db"


def free_udp_port(host: str = "127.0.0.1") -> int:
    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind((host, 0))
        return s.getsockname()[1]


def free_tcp_port(host: str = "127.0.0.1") -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((host, 0))
        return s.getsockname()[1]


def site_names(count: int) -> list[tuple[str, str]]:
    """``count`` (name, kind) pairs: city hall first, then facilities across neighbourhoods."""
    out = [("city-hall", "city-hall")]
    i = 0
    while len(out) < count:
        kind, short = KINDS[i % len(KINDS)]
        hood = NEIGHBOURHOODS[(i // len(KINDS) + i) % len(NEIGHBOURHOODS)]
        name = f"{short}-{hood}"
        if any(name == n for n, _ in out):
            name = f"{name}-{i}"
        out.append((name, kind))
        i += 1
    return out


def _oid_key(line: str) -> tuple[int, ...]:
    return tuple(int(x) for x in line.split("|", 1)[0].split("."))


def _text(value: str) -> str:
    # snmprec type 4 takes the text as is; keep it to printable ASCII without the separator.
    return re.sub(r"[^ -{}~]", "?", value)


def switch_records(dev: LabDevice, uplink_peers: list[str], rng: random.Random) -> list[str]:
    """snmprec lines for one switch or router; counters advance at a per-port rate."""
    recs: list[str] = []
    descr = (
        "Cisco IOS Software [Cupertino], ISR Software (X86_64_LINUX_IOSD-UNIVERSALK9-M), Version 17.3.4"
        if dev.legacy
        else "Cisco IOS Software [Cupertino], Catalyst L3 Switch Software (CAT9K_IOSXE), Version 17.9.4"
    )
    recs += [
        f"1.3.6.1.2.1.1.1.0|4|{descr}",
        f"1.3.6.1.2.1.1.2.0|6|{CISCO_ISR4331 if dev.legacy else CISCO_C9300}",
        # TimeTicks advance 100 per second from a random boot time in the last ~30 days.
        f"1.3.6.1.2.1.1.3.0|67:numeric|rate=100,initial={rng.randint(10_000, 260_000_000)}",
        "1.3.6.1.2.1.1.4.0|4|noc@city.example",
        f"1.3.6.1.2.1.1.5.0|4|{dev.hostname}",
        f"1.3.6.1.2.1.1.6.0|4|{dev.site}",
    ]
    ports = []  # (ifindex, name, descr, alias, type, speed_mbps, admin, oper, rate)
    if dev.legacy:
        for n in range(dev.ports):
            up = n < 2 or rng.random() < 0.5
            ports.append(
                (
                    n + 1,
                    f"Gi0/0/{n}",
                    f"GigabitEthernet0/0/{n}",
                    "",
                    6,
                    1000,
                    1,
                    1 if up else 2,
                    rng.randint(2_000_000, 40_000_000) if up else 0,
                )
            )
    else:
        for n in range(1, dev.ports + 1):
            admin = 2 if rng.random() < 0.08 else 1
            up = admin == 1 and rng.random() < 0.7
            alias = f"AP {dev.site}-ap-{n:02d}" if up and rng.random() < 0.3 else ""
            ports.append(
                (
                    n,
                    f"Gi1/0/{n}",
                    f"GigabitEthernet1/0/{n}",
                    alias,
                    6,
                    1000,
                    admin,
                    1 if up else 2,
                    rng.randint(1_000, 4_000_000) if up else 0,
                )
            )
        for u, peer in enumerate(uplink_peers[:2], start=1):
            ports.append(
                (
                    1000 + u,
                    f"Te1/1/{u}",
                    f"TenGigabitEthernet1/1/{u}",
                    f"fibre to {peer}",
                    6,
                    10000,
                    1,
                    1,
                    rng.randint(5_000_000, 60_000_000),
                )
            )
        ports.append((5001, "Vl1", "Vlan1", "management", 53, 1000, 1, 1, rng.randint(1_000, 20_000)))
    ift, ifx = "1.3.6.1.2.1.2.2.1", "1.3.6.1.2.1.31.1.1.1"
    recs.append(f"1.3.6.1.2.1.2.1.0|2|{len(ports)}")
    for ifindex, name, ifdescr, alias, iftype, mbps, admin, oper, rate in ports:
        i = ifindex
        recs += [
            f"{ift}.1.{i}|2|{i}",
            f"{ift}.2.{i}|4|{ifdescr}",
            f"{ift}.3.{i}|2|{iftype}",
            f"{ift}.4.{i}|2|1500",
            f"{ift}.5.{i}|66|{min(mbps * 1_000_000, 4294967295)}",
            f"{ift}.7.{i}|2|{admin}",
            f"{ift}.8.{i}|2|{oper}",
            f"{ift}.9.{i}|67|{rng.randint(0, 10_000)}",
        ]
        in_rate, out_rate = rate, int(rate * rng.uniform(0.2, 1.5))
        errors = 0.05 if rate and rng.random() < 0.1 else 0
        counters32 = [
            (10, in_rate),
            (11, in_rate / 700),
            (13, in_rate / 2_000_000),
            (14, errors),
            (16, out_rate),
            (17, out_rate / 700),
            (19, out_rate / 3_000_000),
            (20, errors / 2),
        ]
        for col, r in counters32:
            # octet/packet counters start anywhere (some wrap soon); errors and discards start small
            start = rng.randint(0, 2**31) if col in (10, 11, 16, 17) else rng.randint(0, 500)
            if r:
                recs.append(f"{ift}.{col}.{i}|65:numeric|rate={r:.4f},initial={start},wrap=1,max=4294967295")
            else:
                recs.append(f"{ift}.{col}.{i}|65|{start}")
        if dev.legacy:
            continue
        recs += [
            f"{ifx}.1.{i}|4|{name}",
            f"{ifx}.15.{i}|66|{mbps}",
            f"{ifx}.18.{i}|4|{_text(alias)}",
            f"{ifx}.19.{i}|67|0",
        ]
        for col, r in ((6, in_rate), (7, in_rate / 700), (10, out_rate), (11, out_rate / 700)):
            start = rng.randint(0, 10**12)
            recs.append(
                f"{ifx}.{col}.{i}|70:numeric|rate={r:.4f},initial={start}" if r else f"{ifx}.{col}.{i}|70|{start}"
            )
    recs.sort(key=_oid_key)
    return recs


SSH_USER = "netmon"


def _dotted_mac(k: int) -> str:
    raw = chassis_mac(k)
    return f"{raw[0:4]}.{raw[4:8]}.{raw[8:12]}"


def cli_outputs(dev: LabDevice, k: int, switches: list[LabDevice]) -> dict[str, str]:
    """What the lab's SSH switch prints, in Cisco IOS-XE's formats (parsed by ntc-templates)."""
    rng = random.Random(f"cli-{k}")
    legend = (
        "\nIf device is externally calibrated, only calibrated values are printed.\n"
        "++ : high alarm, +  : high warning, -  : low warning, -- : low alarm.\n"
        "NA or N/A: not applicable, Tx: transmit, Rx: receive.\n"
        "mA: milliamperes, dBm: decibels (milliwatts).\n\n"
        "                                            Optical   Optical\n"
        "            Temperature  Voltage  Current   Tx Power  Rx Power\n"
        "Port        (Celsius)    (Volts)  (mA)      (dBm)     (dBm)\n"
        "---------   -----------  -------  --------  --------  --------\n"
    )
    optics = "".join(
        f"Te1/1/{u}      {rng.uniform(28, 45):4.1f}       {rng.uniform(3.25, 3.35):4.2f}"
        f"      {rng.uniform(5.5, 8.0):4.1f}      {rng.uniform(-3, -1):4.1f}      {rng.uniform(-9, -4):4.1f}\n"
        for u in (1, 2)
    )
    inventory = (
        f'NAME: "c93xx Stack", DESCR: "c93xx Stack"\nPID: C9300-48P         , VID: V02  , SN: FOC{2300 + k:04d}X001\n\n'
        + "".join(
            f'NAME: "TenGigabitEthernet1/1/{u}", DESCR: "SFP-10GBase-LR"\n'
            f"PID: SFP-10G-LR          , VID: V02  , SN: FNS{2500 + k:04d}{u}001\n\n"
            for u in (1, 2)
        )
    )
    lldp, cdp = [], []
    for u in (1, 2) if len(switches) > 1 else ():
        peer_k = (k - 1) % len(switches) if u == 1 else (k + 1) % len(switches)
        peer, peer_port = switches[peer_k].hostname, 2 if u == 1 else 1
        lldp.append(
            "------------------------------------------------\n"
            f"Local Intf: Te1/1/{u}\nChassis id: {_dotted_mac(peer_k)}\nPort id: Te1/1/{peer_port}\n"
            f"Port Description: TenGigabitEthernet1/1/{peer_port}\nSystem Name: {peer}\n\n"
            "System Description:\nCisco IOS Software [Cupertino], Catalyst L3 Switch Software (CAT9K_IOSXE), "
            "Version 17.9.4, RELEASE SOFTWARE (fc5)\n\nTime remaining: 101 seconds\nSystem Capabilities: B,R\n"
            f"Enabled Capabilities: B,R\nManagement Addresses:\n    IP: 127.0.1.{peer_k + 1}\n"
            "Auto Negotiation - not supported\nPhysical media capabilities - not advertised\n"
            "Media Attachment Unit type - not advertised\nVlan ID: - not advertised\n\n"
        )
        cdp.append(
            f"-------------------------\nDevice ID: {peer}\nEntry address(es):\n  IP address: 127.0.1.{peer_k + 1}\n"
            "Platform: cisco C9300-48P,  Capabilities: Router Switch IGMP\n"
            f"Interface: TenGigabitEthernet1/1/{u},  Port ID (outgoing port): TenGigabitEthernet1/1/{peer_port}\n"
            "Holdtime : 142 sec\n\nVersion :\nCisco IOS Software [Cupertino], Catalyst L3 Switch Software "
            "(CAT9K_IOSXE), Version 17.9.4, RELEASE SOFTWARE (fc5)\n\nadvertisement version: 2\n"
            "Native VLAN: 1\nDuplex: full\n\n"
        )
    return {
        "show version": (
            "Cisco IOS XE Software, Version 17.09.04\n"
            "Cisco IOS Software [Cupertino], Catalyst L3 Switch Software (CAT9K_IOSXE), Version 17.9.4, "
            "RELEASE SOFTWARE (fc5)\n\n"
            f"{dev.hostname} uptime is 2 weeks, 3 days, 4 hours, 5 minutes\n"
            "System returned to ROM by Reload Command\n"
            'System image file is "flash:packages.conf"\n\n'
            "cisco C9300-48P (X86) processor with 1392780K/6147K bytes of memory.\n"
            f"Processor board ID FOC{2300 + k:04d}X001\n"
            "Configuration register is 0x102\n"
        ),
        "show inventory": inventory,
        "show interface transceiver": legend + optics,
        "show lldp neighbors detail": "".join(lldp) + f"\nTotal entries displayed: {len(lldp)}\n",
        "show cdp neighbors detail": "".join(cdp) + f"\n\nTotal cdp entries displayed : {len(cdp)}\n",
    }


class WlcDevice:
    """The lab's Wi-Fi controllers: SNMP agents (see :mod:`netmon.wlc_sim`) for wlc-city and wlc-9800, and
    wlc-annex's CLI over SSH (see :mod:`netmon.wlc_cli_sim`), each if built."""

    def __init__(self, lab: Lab):
        self.lab = lab
        self.agents: list = []
        self.cli = None  # wlc-annex's fake SSH controller

    @property
    def agent(self):
        """wlc-city's agent (the first)."""
        return self.agents[0] if self.agents else None

    def start(self) -> WlcDevice:
        from netmon.wlc_sim import ControllerAgent

        try:
            for model in self.lab.wlc_models():
                port = self.lab.wlc_port_of(model.hostname)
                if port:
                    self.agents.append(ControllerAgent(model, port).start())
                elif model.hostname == WLC_ANNEX and self.lab.wlc_annex_port:
                    from netmon.ssh_device import FakeDevice
                    from netmon.wlc_cli_sim import aireos_device

                    behaviour = aireos_device(model, SSH_USER, self.lab.ssh_password)
                    self.cli = FakeDevice(behaviour, port=self.lab.wlc_annex_port).start()
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self) -> None:
        while self.agents:
            self.agents.pop().stop()
        if self.cli is not None:
            self.cli.stop()
            self.cli = None

    def __enter__(self) -> WlcDevice:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


# -- RADIUS accounting (issue 5): the controller's NAS streams accounting to netmon's listener --------------

RADIUS_INTERIM = 30  # seconds between the lab NAS's Interim-Updates (netmon times a session out after 3)


def radius_lab_settings(lab: Lab) -> tuple[dict, dict]:
    """The secrets and configuration entries of the lab's accounting streams (none without a controller).

    Each controller that sends accounting (wlc-city, wlc-9800) is its own RADIUS client: declared under its
    inventory hostname (the accounting-silent alert joins on it), from its own source address, with its own
    secret."""
    if not lab.wlc_port:
        return {}, {}
    lab.radius_port = free_udp_port()
    nas = {}
    for controller in (d for d in lab.devices if d.role == "wlc" and d.hostname in RADIUS_SOURCES):
        lab.nas_secrets[controller.hostname] = secrets_mod.token_urlsafe(18)
        nas[controller.hostname] = {
            "address": RADIUS_SOURCES[controller.hostname],
            "secret": lab.nas_secrets[controller.hostname],
        }
    lab.fticks_port = free_udp_port()
    settings = {"listen": f"127.0.0.1:{lab.radius_port}", "interim_interval": RADIUS_INTERIM, "timeout_check": 15,
                "fticks_listen": f"127.0.0.1:{lab.fticks_port}"}  # fmt: skip
    return {"radius": nas}, {"radius": settings}


class RadiusNas:
    """The lab controllers' accounting streams to netmon, one per NAS (see :mod:`netmon.radius_sim`)."""

    def __init__(self, lab: Lab, tick: float = 5.0):
        self.lab, self.tick = lab, tick
        self.streams: list = []

    @property
    def stream(self):
        """wlc-city's stream (the first)."""
        return self.streams[0] if self.streams else None

    def start(self) -> RadiusNas:
        from netmon.radius_sim import AccountingStream

        if not self.lab.radius_port:
            return self
        fticks = ("127.0.0.1", self.lab.fticks_port) if self.lab.fticks_port else None
        try:
            for model in self.lab.wlc_models():
                secret = self.lab.nas_secrets.get(model.hostname)
                if secret:
                    self.streams.append(
                        AccountingStream(
                            model, ("127.0.0.1", self.lab.radius_port), secret.encode(), interim=RADIUS_INTERIM,
                            source=RADIUS_SOURCES[model.hostname], fticks=fticks,
                        ).start(self.tick)
                    )  # fmt: skip
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self) -> None:
        for stream in self.streams:
            stream.request_stop()
        while self.streams:
            self.streams.pop().stop()


class SshDevice:
    """The lab's SSH switch: a simulated IOS CLI on 127.0.0.1 (see :mod:`netmon.ssh_device`)."""

    def __init__(self, lab: Lab):
        self.lab = lab
        self.device = None

    def start(self) -> SshDevice:
        from netmon.ssh_device import DeviceBehaviour, FakeDevice

        chosen = next(d for d in self.lab.devices if d.ssh)
        behaviour = DeviceBehaviour(
            hostname=chosen.hostname, username=SSH_USER, password=self.lab.ssh_password, outputs=self.lab.cli_outputs
        )
        self.device = FakeDevice(behaviour, port=self.lab.ssh_port).start()
        return self

    def stop(self) -> None:
        if self.device is not None:
            self.device.stop()
            self.device = None

    def __enter__(self) -> SshDevice:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


def chassis_mac(k: int) -> str:
    return f"001a2b00{k // 256:02x}{k % 256:02x}"


def fibre_records(dev: LabDevice, k: int, switches: list[LabDevice]) -> list[str]:
    """ENTITY-MIB hardware, transceiver DOM (CISCO-ENTITY-SENSOR-MIB) and LLDP for one lab switch.

    Each switch has two 10G LR optics, Te1/1/1 towards the previous switch in the
    ring and Te1/1/2 towards the next, and sees both over LLDP. Every third
    switch has a Te1/1/1 whose receive power drifts down towards its low warning
    (a dirty connector, a bent fibre): a slope the NOC should see before the alarm.
    Uses its own random stream (seeded by the switch's place in the ring), so the
    interface data of the lab stays as it was.
    """
    rng = random.Random(f"fibre-{k}")
    ent, cs, lldp = "1.3.6.1.2.1.47.1.1.1.1", "1.3.6.1.4.1.9.9.91.1", "1.0.8802.1.1.2.1"
    recs = [
        f"{ent}.2.1|4|Cisco Catalyst 9300 Series 48-port 1G switch",
        f"{ent}.4.1|2|0",
        f"{ent}.5.1|2|3",
        f"{ent}.7.1|4|Switch 1 Chassis",
        f"{ent}.8.1|4|V02",
        f"{ent}.9.1|4|17.9.4r",
        f"{ent}.10.1|4|17.9.4",
        f"{ent}.11.1|4|FOC{2300 + k:04d}X{rng.randint(100, 999)}",
        f"{ent}.13.1|4|C9300-48P",
        f"{ent}.2.2|4|Cisco Catalyst 9300 4x10G uplink module",
        f"{ent}.4.2|2|1",
        f"{ent}.5.2|2|9",
        f"{ent}.7.2|4|Switch 1 FRU Uplink Module 1",
        f"{ent}.11.2|4|FOC{2400 + k:04d}Y{rng.randint(100, 999)}",
        f"{ent}.13.2|4|C9300-NM-4G",
        f"{lldp}.3.1.0|2|4",  # lldpLocChassisIdSubtype: macAddress
        f"{lldp}.3.2.0|4x|{chassis_mac(k)}",
        f"{lldp}.3.3.0|4|{dev.hostname}",
    ]
    ring = len(switches) > 1
    for u in (1, 2):
        port = 3000 + u * 10
        ifindex = 1000 + u
        drifting = u == 1 and k % 3 == 1
        temp, volts, bias = rng.randint(280, 450), rng.randint(325, 335), rng.randint(55, 80)
        tx = rng.randint(-30, -10)  # -3.0 .. -1.0 dBm
        rx = -171 if drifting else rng.randint(-90, -40)  # dBm x 10
        recs += [
            f"{ent}.2.{port}|4|SFP-10GBase-LR",
            f"{ent}.4.{port}|2|2",
            f"{ent}.5.{port}|2|10",
            f"{ent}.7.{port}|4|Te1/1/{u}",
            f"{ent}.11.{port}|4|FNS{2500 + k:04d}{u}{rng.randint(100, 999)}",
            f"{ent}.13.{port}|4|SFP-10G-LR",
            f"1.3.6.1.2.1.47.1.3.2.1.2.{port}.0|6|1.3.6.1.2.1.2.2.1.1.{ifindex}",
        ]
        # tenths of a dBm, one tenth lower every 200 s: about 30 min from -17.1 dBm to the -18.0 warning
        rx_record = f"2:numeric|rate=-0.005,initial={rx},min=-400,max=50" if drifting else f"2|{rx}"
        # (offset, name, SensorDataType, scale, precision, value, (low alarm, low warning, high warning, high alarm))
        sensors = [
            (1, "Temperature Sensor", 8, 9, 1, f"2|{temp}", (-50, 0, 700, 750)),
            (2, "Supply Voltage Sensor", 4, 9, 2, f"2|{volts}", (290, 300, 360, 370)),
            (3, "Bias Current Sensor", 5, 8, 1, f"2|{bias}", (20, 25, 120, 130)),
            (4, "Transmit Power Sensor", 14, 9, 1, f"2|{tx}", (-82, -72, 5, 10)),
            (5, "Receive Power Sensor", 14, 9, 1, rx_record, (-200, -180, 5, 10)),
        ]
        for offset, label, kind, scale, precision, value, limits in sensors:
            i = port + offset
            recs += [
                f"{ent}.2.{i}|4|Te1/1/{u} {label}",
                f"{ent}.4.{i}|2|{port}",
                f"{ent}.5.{i}|2|8",
                f"{ent}.7.{i}|4|Te1/1/{u} {label}",
                f"{cs}.1.1.1.1.{i}|2|{kind}",
                f"{cs}.1.1.1.2.{i}|2|{scale}",
                f"{cs}.1.1.1.3.{i}|2|{precision}",
                f"{cs}.1.1.1.4.{i}|{value}",
                f"{cs}.1.1.1.5.{i}|2|1",
            ]
            # entSensorThresholdTable rows (severity, relation, value): major = alarm, minor = warning
            rows = ((20, 1, limits[0]), (10, 1, limits[1]), (10, 3, limits[2]), (20, 3, limits[3]))
            for n, (severity, relation, limit) in enumerate(rows, start=1):
                recs += [
                    f"{cs}.2.1.1.2.{i}.{n}|2|{severity}",
                    f"{cs}.2.1.1.3.{i}.{n}|2|{relation}",
                    f"{cs}.2.1.1.4.{i}.{n}|2|{limit}",
                ]
        recs += [
            f"{lldp}.3.7.1.2.{u}|2|5",
            f"{lldp}.3.7.1.3.{u}|4|Te1/1/{u}",
            f"{lldp}.3.7.1.4.{u}|4|TenGigabitEthernet1/1/{u}",
        ]
        if not ring:
            continue
        peer_k = (k - 1) % len(switches) if u == 1 else (k + 1) % len(switches)
        peer, peer_port = switches[peer_k], 2 if u == 1 else 1
        row = f"0.{u}.1"
        recs += [
            f"{lldp}.4.1.1.4.{row}|2|4",
            f"{lldp}.4.1.1.5.{row}|4x|{chassis_mac(peer_k)}",
            f"{lldp}.4.1.1.6.{row}|2|5",
            f"{lldp}.4.1.1.7.{row}|4|Te1/1/{peer_port}",
            f"{lldp}.4.1.1.8.{row}|4|TenGigabitEthernet1/1/{peer_port}",
            f"{lldp}.4.1.1.9.{row}|4|{peer.hostname}",
            f"{lldp}.4.1.1.10.{row}|4|Cisco IOS Software [Cupertino], Catalyst L3 Switch Software (CAT9K_IOSXE)",
            f"{lldp}.4.2.1.3.{row}.1.4.127.0.1.{peer_k + 1}|2|2",
        ]
    return recs


def build(
    root: str | Path,
    sites: int = 6,
    ports: int = 24,
    seed: int = 1,
    listen: str | None = None,
    interval: int = 15,
    agent_port: int | None = None,
    legacy: bool = True,
    v3: bool = True,
    ssh: bool = True,
    wlc: bool = True,
    wlc_aps_per_site: int = 40,
    wlc_people: int = 6000,
    wlc_9800: bool = True,
    wlc_ssh: bool = True,
) -> Lab:
    """Write the lab's data files, inventory, secrets and config under ``root``."""
    root = Path(root).resolve()
    rng = random.Random(seed)
    lab = Lab(root=root, agent_port=agent_port or free_udp_port())
    if lab.data_dir.exists():
        shutil.rmtree(lab.data_dir)
    # The simulated counters start again with the simulator: a database of an earlier lab run
    # (perhaps of an older schema) would only hold history that no longer exists.
    for old in root.glob("netmon.db*"):
        old.unlink()
    lab.data_dir.mkdir(parents=True)
    names = site_names(sites)
    for n, (name, kind) in enumerate(names):
        angle = n * 2.399963  # golden angle: sites spread over the city
        radius = 0.01 + 0.12 * ((n + 1) / len(names)) ** 0.5
        lab.sites.append(
            {
                "name": name,
                "kind": kind,
                "address": f"{100 + n * 7} {name.split('-')[-1].title()} Street",
                "lat": round(CITY_CENTRE[0] + radius * math.cos(angle), 5),
                "lon": round(CITY_CENTRE[1] + radius * 1.4 * math.sin(angle), 5),
            }
        )
        lab.devices.append(LabDevice(f"sw-{name}", name, "switch", ports, v3=v3 and n == 0))
    if legacy and sites:
        lab.devices.append(LabDevice("rtr-city-hall", names[0][0], "router", 4, legacy=True))
    switches = [d for d in lab.devices if d.role == "switch"]
    if wlc and sites:
        # The city's public Wi-Fi controller: its own simulated agent (netmon.wlc_sim), clients come and go.
        lab.devices.append(LabDevice(WLC_CITY, names[0][0], "wlc", 0))
        lab.wlc_port = free_udp_port()
        lab.wlc_aps_per_site, lab.wlc_people = wlc_aps_per_site, wlc_people
        if wlc_9800:
            # The newer Catalyst 9800 (IOS-XE, CISCO-LWAPP-* MIBs) at every other site, next to wlc-city's APs.
            lab.devices.append(LabDevice(WLC_9800, names[min(1, len(names) - 1)][0], "wlc", 0))
            lab.wlc_9800_port = free_udp_port()
        if wlc_ssh:
            # A small AireOS controller whose SNMP is not allowed: netmon reads it over SSH (its CLI) only.
            lab.devices.append(LabDevice(WLC_ANNEX, names[min(2, len(names) - 1)][0], "wlc", 0, snmp=False))
            lab.wlc_annex_port = free_tcp_port()
    if ssh or lab.wlc_annex_port:
        lab.ssh_password = secrets_mod.token_urlsafe(18)
    if ssh:
        # One switch also answers SSH (the second one: the first is the SNMPv3 one).
        k = 1 if len(switches) > 1 else 0
        chosen = LabDevice(**{**switches[k].__dict__, "ssh": True})
        lab.devices[lab.devices.index(switches[k])] = chosen
        switches[k] = chosen
        lab.ssh_port = free_tcp_port()
        lab.cli_outputs = cli_outputs(chosen, k, switches)
    for k, dev in enumerate(lab.devices):
        if dev.role == "wlc":
            continue  # served by netmon.wlc_sim, not snmpsim
        ring = [switches[(k - 1) % len(switches)].hostname, switches[(k + 1) % len(switches)].hostname]
        recs = switch_records(dev, ring, rng)
        if dev.role == "switch":
            recs = sorted(recs + fibre_records(dev, switches.index(dev), switches), key=_oid_key)
        (lab.data_dir / f"{dev.hostname}.snmprec").write_text("\n".join(recs) + "\n")

    inventory = {
        "sites": lab.sites,
        "devices": [
            {
                "hostname": d.hostname,
                "address": "127.0.0.1",
                "port": lab.wlc_port_of(d.hostname) if d.role == "wlc" else lab.agent_port,
                "site": d.site,
                "role": d.role,
                "snmp": "lab-v3" if d.v3 else f"lab-{d.hostname}",
                **({"ssh": "lab-ssh", "platform": "cisco_ios", "ssh_port": lab.ssh_port} if d.ssh else {}),
            }
            if d.snmp
            else {
                "hostname": d.hostname,
                "address": "127.0.0.1",
                "site": d.site,
                "role": d.role,
                "ssh": "lab-ssh",
                "platform": "cisco_wlc_ssh",
                "ssh_port": lab.wlc_annex_port,
                "interval": max(interval, ANNEX_INTERVAL),
            }
            for d in lab.devices
        ],
    }
    if len(switches) > 1:
        # The ring's fibres, with lengths: Te1/1/2 of each switch to Te1/1/1 of the next.
        inventory["links"] = [
            {
                "a": s.hostname,
                "a_port": "Te1/1/2",
                "b": switches[(k + 1) % len(switches)].hostname,
                "b_port": "Te1/1/1",
                "length_km": round(1.5 + random.Random(f"km-{k}").random() * 8, 1),
            }
            for k, s in enumerate(switches)
            if len(switches) > 2 or k == 0
        ]
    lab.inventory_path.write_text(
        "# Generated by `netmon demo`: the lab city on loopback.\n" + yaml.safe_dump(inventory, sort_keys=False)
    )
    secrets = {
        "snmp": {
            f"lab-{d.hostname}": {"version": "2c", "community": d.hostname} for d in lab.devices if d.snmp and not d.v3
        }
    }
    if lab.ssh_password:
        secrets["ssh"] = {"lab-ssh": {"username": SSH_USER, "password": lab.ssh_password}}
    if lab.wlc_port:
        # The key that pseudonymises the lab's simulated residents: new every build, like a rotated key.
        secrets["privacy"] = {"key": secrets_mod.token_urlsafe(32)}
    radius_secrets, radius_config = radius_lab_settings(lab)
    secrets.update(radius_secrets)
    if v3:
        secrets["snmp"]["lab-v3"] = {
            "version": "3",
            "user": V3_USER,
            "auth_protocol": "sha256",
            "auth_key": V3_AUTH_KEY,
            "priv_protocol": "aes128",
            "priv_key": V3_PRIV_KEY,
            "context": switches[0].hostname,
        }
    fd = os.open(lab.secrets_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write("# Lab credentials only. Real secrets files must be mode 0600 too.\n")
        yaml.safe_dump(secrets, f, sort_keys=False)
    os.chmod(lab.secrets_path, 0o600)
    config = {
        "db": "netmon.db",
        "secrets": "secrets.yml",
        "inventory": "inventory.yml",
        "listen": listen or f"127.0.0.1:{free_tcp_port()}",
        "interval": interval,
        "concurrency": 64,
        "snmp": {"timeout": 2.0, "retries": 1, "max_repetitions": 25},
        **radius_config,
    }
    lab.config_path.write_text(yaml.safe_dump(config, sort_keys=False))
    return lab


@dataclass(frozen=True)
class V3User:
    user: str
    auth_protocol: str | None = None  # snmpsim names: MD5 SHA SHA224 SHA256 SHA384 SHA512
    auth_key: str | None = None
    priv_protocol: str | None = None  # DES 3DES AES AES128 AES192 AES256
    priv_key: str | None = None

    def args(self) -> list[str]:
        out = ["--v3-user", self.user]
        if self.auth_protocol:
            out += ["--v3-auth-key", self.auth_key, "--v3-auth-proto", self.auth_protocol]
        if self.priv_protocol:
            out += ["--v3-priv-key", self.priv_key, "--v3-priv-proto", self.priv_protocol]
        return out


LAB_V3_USER = V3User(V3_USER, "SHA256", V3_AUTH_KEY, "AES128", V3_PRIV_KEY)


def stop_process_group(proc: subprocess.Popen | None) -> None:
    """SIGTERM a process started with ``start_new_session=True`` and its children; SIGKILL after 5 s."""
    if proc and proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(5)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(5)


def process_cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of a running process (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def snmpsim_command() -> str:
    local = Path(sys.executable).parent / "snmpsim-command-responder"
    if local.exists():
        return str(local)
    found = shutil.which("snmpsim-command-responder")
    if not found:
        raise RuntimeError("snmpsim is not installed: pip install 'netmon[lab]' (or run scripts/setup)")
    return found


class Simulator:
    """An snmpsim agent on 127.0.0.1 serving every ``.snmprec`` in ``data_dir``."""

    def __init__(
        self,
        data_dir: str | Path,
        port: int,
        work_dir: str | Path,
        v3_users: list[V3User] | None = None,
        host: str = "127.0.0.1",
        max_var_binds: int = 64,
    ):
        self.data_dir = Path(data_dir)
        self.port = port
        self.host = host
        self.work_dir = Path(work_dir)
        self.v3_users = [LAB_V3_USER] if v3_users is None else v3_users
        self.max_var_binds = max_var_binds
        self.proc: subprocess.Popen | None = None
        self.log_path = self.work_dir / "snmpsim.log"

    def start(self, ready_timeout: float = 120.0) -> Simulator:
        cache = self.work_dir / "snmpsim-cache"
        cache.mkdir(parents=True, exist_ok=True)
        args = [snmpsim_command(), f"--cache-dir={cache}", "--v3-engine-id=auto"]
        for user in self.v3_users:
            args += user.args()
        args += [
            f"--data-dir={self.data_dir}",
            f"--max-var-binds={self.max_var_binds}",
            f"--agent-udpv6-endpoint=[{self.host}]:{self.port}"
            if ":" in self.host
            else f"--agent-udpv4-endpoint={self.host}:{self.port}",
        ]
        env = dict(os.environ, SNMPSIM_ALLOW_ROOT="true")
        log = open(self.log_path, "w")  # noqa: SIM115 - lives as long as the process
        self.proc = subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT, env=env, start_new_session=True)
        log.close()
        deadline = time.monotonic() + ready_timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"snmpsim exited with {self.proc.returncode}; see {self.log_path}")
            if "Listening at" in self.log_path.read_text(errors="replace") and self._answers():
                return self
            time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"snmpsim did not start within {ready_timeout:.0f} s; see {self.log_path}")

    def _answers(self) -> bool:
        """True once the agent answers an SNMPv3 engine-discovery probe.

        snmpsim prints "Listening at" a moment before it really serves: a request sent
        right then is lost. Any answer to the probe (a Report) proves it is serving.
        """
        from collectors.snmp import ber, usm

        probe = usm.encode_message(
            1, usm.FLAG_REPORTABLE, b"", 0, 0, b"", usm.scoped_pdu(b"", b"", ber.encode_pdu(ber.GET, 1, []))
        )
        family = socket.AF_INET6 if ":" in self.host else socket.AF_INET
        with socket.socket(family, socket.SOCK_DGRAM) as s:
            s.settimeout(0.3)
            s.sendto(probe, (self.host, self.port))
            try:
                return bool(s.recv(65535))
            except OSError:
                return False

    def stop(self) -> None:
        stop_process_group(self.proc)
        self.proc = None

    def cpu_seconds(self) -> float:
        """User+system CPU the agent has used, to tell simulator cost from poller cost."""
        return process_cpu_seconds(self.proc.pid) if self.proc else 0.0

    def __enter__(self) -> Simulator:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()
