"""``build()``: write the lab city's data files, inventory, secrets (mode 0600) and configuration.

For a few city sites, one fibre switch each as an snmpsim data file
(``.snmprec``) with counters that advance with time; one site also gets an
old router that only has 32-bit ifTable counters (the fallback path), and
the city-hall switch is reached with SNMPv3 authPriv. The three Wi-Fi
controllers and their accounting streams are netmon's own simulators
(:mod:`netmon.lab.peers`). The same lab backs ``netmon demo``, the
integration tests and the benchmarks.
"""

from __future__ import annotations

import math
import os
import random
import secrets as secrets_mod
import shutil
from pathlib import Path

import yaml

from netmon.lab.city import (
    ANNEX_INTERVAL,
    CITY_CENTRE,
    RADIUS_INTERIM,
    RADIUS_SOURCES,
    SSH_USER,
    V3_AUTH_KEY,
    V3_PRIV_KEY,
    V3_USER,
    WLC_9800,
    WLC_ANNEX,
    WLC_CITY,
    Lab,
    LabDevice,
    free_tcp_port,
    free_udp_port,
    site_names,
)
from netmon.lab.switches import cli_outputs, fibre_records, oid_key, switch_records


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
        # The city's public Wi-Fi controller: its own simulated agent (netmon.lab.wlc_agent), clients come and go.
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
            continue  # served by netmon.lab.wlc_agent, not snmpsim
        ring = [switches[(k - 1) % len(switches)].hostname, switches[(k + 1) % len(switches)].hostname]
        recs = switch_records(dev, ring, rng)
        if dev.role == "switch":
            recs = sorted(recs + fibre_records(dev, switches.index(dev), switches), key=oid_key)
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
    lab.save()
    return lab


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
