"""The lab city: its sites, devices and controllers, and where each simulated peer listens.

A :class:`Lab` is what :func:`netmon.lab.build.build` wrote under its root
(data files, inventory, secrets, configuration) and the ports it chose; the
peers (:mod:`netmon.lab.peers`) start from it.
"""

from __future__ import annotations

import dataclasses
import json
import os
import socket
from dataclasses import dataclass, field
from pathlib import Path

from netmon.lab.wlc_agent import ControllerModel

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
WLC_CITY, WLC_9800, WLC_ANNEX = "wlc-city", "wlc-9800", "wlc-annex"
# Each controller's NAS sends accounting from a loopback address of its own (Linux routes all of 127.0.0.0/8 to
# lo, so binding 127.0.0.2 needs no set-up): the listener tells the controllers apart by source, as in the city.
RADIUS_SOURCES = {WLC_CITY: "127.0.0.1", WLC_9800: "127.0.0.2"}
ANNEX_SITES, ANNEX_APS_PER_SITE, ANNEX_PEOPLE = 3, 10, 300
ANNEX_INTERVAL = 30  # seconds: a controller's CLI is slower and dearer than SNMP, so it is read less often


SSH_USER = "netmon"
# seconds between the lab NAS's Interim-Updates (netmon times a session out after 3)
RADIUS_INTERIM = 30


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

    def save(self) -> Path:
        """Write the lab's description (``lab.json``, mode 0600: it holds the lab's secrets) beside its files, so
        another process (``python -m netmon.lab serve``) can start the same peers."""
        doc = dataclasses.asdict(self)
        doc["root"] = str(self.root)
        path = self.root / "lab.json"
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as f:
            json.dump(doc, f)
        return path

    @classmethod
    def load(cls, root: str | Path) -> Lab:
        """The lab :func:`netmon.lab.build.build` wrote under ``root``."""
        doc = json.loads((Path(root) / "lab.json").read_text())
        doc["root"] = Path(doc["root"])
        doc["devices"] = [LabDevice(**d) for d in doc["devices"]]
        return cls(**doc)

    @property
    def radius_secret(self) -> str:
        """wlc-city's RADIUS secret (each NAS has its own: :attr:`nas_secrets`)."""
        return self.nas_secrets.get(WLC_CITY, "")

    def wlc_models(self) -> list:
        """A :class:`~netmon.lab.wlc_agent.ControllerModel` per lab controller: wlc-city, wlc-9800, wlc-annex.

        wlc-city (AireOS) serves every site; wlc-9800 every other site (the second, fourth, ...), as in
        a migration where the new controller's APs share buildings with the old one's; wlc-annex, a small
        AireOS controller whose SNMP the city does not allow (read over SSH), the first three sites' annex
        buildings. Each has its own MAC and user name block, so no MAC or user name is seen on two.
        """
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
