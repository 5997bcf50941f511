"""Topology discovery: walk LLDP/CDP neighbours outward from seed devices and propose what is missing.

Breadth-first from the seeds, up to ``depth`` hops. Every device reached is
asked for its neighbours over SNMP with the credentials of the device it was
found from (a city's switches usually share them). A neighbour that is not in
the inventory (by name, or by management address) becomes a proposal:
hostname, management address, the site of the device that sees it, and the
SNMP profile that reached it. Nothing is written unless the caller applies the
proposals. Bounded: at most ``max_devices`` devices are asked, each with the
usual per-request timeout.
"""

from __future__ import annotations

import asyncio
import ipaddress
import re
import sys
from collections.abc import Callable
from dataclasses import dataclass, field

from collectors import cdp, lldp
from collectors.snmp.api import SnmpError, SnmpTarget
from collectors.snmp.client import SnmpClient
from inventory.model import Device
from netmon.config import Config
from netmon.secrets import Secrets
from netmon.store import DeviceRow

MAX_DEVICES = 500
_HOSTNAME_SAFE = re.compile(r"[^A-Za-z0-9_.-]+")


@dataclass
class Discovery:
    proposals: list[Device] = field(default_factory=list)
    visited: list[str] = field(default_factory=list)
    unreachable: dict[str, str] = field(default_factory=dict)  # name -> reason


def _hostname(name: str, address: str) -> str:
    cleaned = _HOSTNAME_SAFE.sub("-", name.strip()).strip("-.")
    return cleaned or "dev-" + address.replace(":", "-").replace(".", "-")


async def discover(
    config: Config,
    secrets: Secrets,
    known: list[DeviceRow],
    seeds: list[str],
    depth: int = 2,
    max_devices: int = MAX_DEVICES,
    progress: Callable[[str], None] | None = None,
) -> Discovery:
    by_name = {d.hostname.lower(): d for d in known}
    by_address = {d.address: d for d in known}
    result = Discovery()
    proposed: dict[str, Device] = {}  # address -> proposal
    # (name, address, port, snmp profile, site, hops)
    queue = [(d.hostname, d.address, d.port, d.snmp_profile, d.site, 0) for d in (by_name[s.lower()] for s in seeds)]
    seen_addresses = {q[1] for q in queue}
    client = SnmpClient(config.snmp.engine)
    try:
        while queue and len(result.visited) < max_devices:
            name, address, port, profile, site, hops = queue.pop(0)
            if progress:
                progress(f"[{len(result.visited) + 1}/{len(result.visited) + 1 + len(queue)}] {name} ({address})")
            result.visited.append(name)
            creds = secrets.snmp.get(profile) if profile else None
            if creds is None:
                result.unreachable[name] = "no SNMP profile"
                continue
            s = config.snmp
            try:
                session = await client.session(
                    SnmpTarget(address, port, s.timeout, s.retries, s.max_repetitions), creds
                )
                neighbors = await lldp.collect(session) + await cdp.collect(session)
            except SnmpError as exc:
                result.unreachable[name] = exc.reason
                continue
            for n in neighbors:
                remote = n.remote_name.strip().lower()
                if remote in by_name or remote.split(".", 1)[0] in by_name or n.remote_address in by_address:
                    continue
                try:
                    address_ok = bool(n.remote_address) and ipaddress.ip_address(n.remote_address) is not None
                except ValueError:
                    address_ok = False
                if not address_ok or n.remote_address in proposed:
                    continue
                device = Device(
                    hostname=_hostname(n.remote_name, n.remote_address),
                    address=n.remote_address,
                    site=site,
                    role="switch",
                    snmp_profile=profile,
                )
                proposed[n.remote_address] = device
                if hops + 1 < depth and n.remote_address not in seen_addresses:
                    seen_addresses.add(n.remote_address)
                    queue.append((device.hostname, n.remote_address, 161, profile, site, hops + 1))
    finally:
        client.close()
    result.proposals = list(proposed.values())
    return result


def stderr_progress(line: str) -> None:
    end = "\n" if not sys.stderr.isatty() else ""
    print(f"\r\x1b[Kdiscover {line}" if sys.stderr.isatty() else f"discover {line}", end=end, file=sys.stderr)


def run(config: Config, secrets: Secrets, known: list[DeviceRow], seeds: list[str], depth: int) -> Discovery:
    return asyncio.run(discover(config, secrets, known, seeds, depth, progress=stderr_progress))
