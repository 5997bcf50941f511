"""netmon's LLDP and CDP neighbours against LibreNMS's ``discovery-protocols`` links, on the same real walks.

For each walk in ../shared/fixtures/snmp whose ``expected/<name>.json`` has
a ``discovery-protocols`` section, ``collectors.lldp`` and ``collectors.cdp``
run against snmpsim (the conformance suite's ``walk_agent``) and the
neighbours must be LibreNMS's ``links`` rows: same rows per protocol, each
with the same local port (its ifName), remote host name, remote port,
platform and version.

LibreNMS (includes/discovery/discovery-protocols.inc.php, upstream commit
490710c6c9da) stores some things differently from netmon on purpose. Each
rule is transcribed in :func:`as_librenms_link` and applied to netmon's
neighbour before comparing; nothing is compared loosely:

1. Values are trimmed of ``\\ " space CR LF`` at both ends (LibreNMS's
   SnmpResponse does that to every value it reads). netmon keeps what the
   agent sent; two walks carry a sysDescr/version wrapped in literal quotes.
2. LLDP: a neighbour without a sysName is stored under its system
   description (or under the remote device's own name when LibreNMS knows
   that device). netmon keeps the announced name, empty if none.
3. LLDP: when LibreNMS cannot find the remote port in its own database, it
   appends `` (<mac>)`` to the remote port: the port id's MAC for port id
   subtype macAddress, else the chassis MAC for chassis id subtype
   macAddress, else nothing (``"port-001 ()"``). In these fixture runs the
   database holds only the polled device, so the port is found only when
   the neighbour resolves to the device itself (its sysName, an IPv4
   address or a MAC of one of its ports) and names one of its ports: that
   is the case for the NX-OS walk, whose anonymised neighbour is
   ``<private>`` like the device. netmon reports the port id as announced.
4. A link needs a local port LibreNMS has in its ports table, and (CDP) a
   Device-ID and a Device-Port; CDP is only read on Cisco-family OSes.
   netmon reports every neighbour the agent lists; the test drops the ones
   LibreNMS would not store, and lists why.

What cannot be transcribed, because a :class:`Neighbor` does not carry it:
LibreNMS's lldpRemPortDesc lookup of the remote port, and its use of the
chassis id as the port name for chassis subtypes interfaceName and
interfaceAlias. Neither case occurs in these walks; if one did, the rows
would differ and the test would fail, not pass.

Every walk (with or without LibreNMS rows) is also checked against the
walk file itself: as many neighbours as lldpRemTable / cdpCacheTable rows,
each local port named as the interfaces collector names it. And the two
SNMP engines must return identical neighbours.
"""

from __future__ import annotations

import asyncio
import functools
import json
import re
from collections import Counter

import pytest

from collectors import cdp, lldp
from collectors.credentials import SnmpV2cCredentials
from collectors.observations import Neighbor
from collectors.snmp.api import SnmpTarget
from collectors.snmp.client import SnmpClient
from tests.conformance import EXPECTED, FIXTURES, MISSING_REASON, SNMP_FIXTURES

pytestmark = pytest.mark.integration

if not FIXTURES.is_dir():
    pytest.skip(MISSING_REASON, allow_module_level=True)
if not SNMP_FIXTURES.is_dir():
    pytest.skip(f"{SNMP_FIXTURES} not found: no SNMP walks to check against", allow_module_level=True)

TARGET_TIMEOUT = 5.0
# The walks NOTICE.md names for LLDP/CDP with LibreNMS rows; the suite fails rather than shrink silently.
REQUIRED_WITH_LINKS = ("ios_2960x", "iosxe_ie32008t2s-ios17-12", "junos_qfx5100", "nxos_n3k-3064pq")

# LibreNMS reads CISCO-CDP-MIB only for os_group "cisco" (resources/definitions/os_detection/<os>.yaml has
# "group: cisco"). Listed: the OSes of these walks that have it; ciscowlc, for one, has no group.
LIBRENMS_CISCO_OSES = frozenset({"ios", "iosxe", "nxos"})
LIBRENMS_TRIM = '\\" \n\r'
MAC = re.compile(r"[0-9a-f]{2}(?::[0-9a-f]{2}){5}")


# --- LibreNMS's expected data ---------------------------------------------------------------------
@functools.cache
def expected_json(name: str) -> dict | None:
    path = EXPECTED / f"{name}.json"
    return json.loads(path.read_text()) if path.is_file() else None


def librenms_links(name: str) -> list[dict] | None:
    data = expected_json(name) or {}
    section = data.get("discovery-protocols")
    if not isinstance(section, dict):
        return None
    for stage in ("discovery", "poller"):  # the poller stage is "matches discovery" when unchanged
        rows = section.get(stage)
        if isinstance(rows, dict) and isinstance(rows.get("links"), list):
            return rows["links"]
    return None


def _stage_rows(section: object, key: str) -> list[dict]:
    if not isinstance(section, dict):
        return []
    for stage in ("discovery", "poller"):
        rows = section.get(stage)
        if isinstance(rows, dict) and isinstance(rows.get(key), list):
            return rows[key]
    return []


class LibrenmsDevice:
    """What LibreNMS's database knows of the polled device: the only device in a fixture run."""

    def __init__(self, name: str):
        data = expected_json(name) or {}
        devices = _stage_rows(data.get("os"), "devices")
        self.os = devices[0].get("os", "") if devices else ""
        self.sys_name = (devices[0].get("sysName") or "") if devices else ""
        self.ports = [p for p in _stage_rows(data.get("ports"), "ports") if not p.get("deleted")]
        self.ipv4 = {row["ipv4_address"] for row in _stage_rows(data.get("ipv4-addresses"), "ipv4_addresses")}
        self.macs = {(p.get("ifPhysAddress") or "").lower() for p in self.ports} - {""}
        self.if_names = {p["ifName"] for p in self.ports if p.get("ifName")}

    def finds_device(self, n: Neighbor, mac: str) -> bool:
        """find_device_id(sysName, management address, mac) can only find the device itself."""
        return bool(
            (n.remote_name and n.remote_name == self.sys_name)
            or (n.remote_address and n.remote_address in self.ipv4)
            or (mac and mac in self.macs)
        )

    def finds_port(self, n: Neighbor, mac: str) -> bool:
        """find_port_id(portDesc, portId, remote device, mac), without the portDesc a Neighbor does not carry."""
        if mac and mac in self.macs:
            return True
        if not self.finds_device(n, mac):
            return False
        port = n.remote_port
        if port.isdigit():
            return any(str(p.get("ifIndex")) == port or p.get("ifAlias") == port for p in self.ports)
        return any(port in (p.get("ifDescr"), p.get("ifName")) for p in self.ports)


def trim(text: str) -> str:
    return text.strip(LIBRENMS_TRIM)


def librenms_mac(n: Neighbor) -> str:
    """The MAC LibreNMS appends to an unfound LLDP port, as it writes it (lowercase hex, no separators).

    A Neighbor does not keep id subtypes; netmon renders a macAddress id (and only that, in these
    walks) as aa:bb:cc:dd:ee:ff, so the rendered form identifies the subtype.
    """
    for rendered in (n.remote_port, n.remote_chassis_id):
        if MAC.fullmatch(rendered):
            return rendered.replace(":", "")
    return ""


def as_librenms_link(n: Neighbor, device: LibrenmsDevice) -> tuple[dict | None, str]:
    """The ``links`` row LibreNMS would store for netmon's neighbour, or (None, why it stores none)."""
    if n.local_port not in device.if_names:
        return None, f"local port {n.local_port!r} is not in LibreNMS's ports table"
    name, port = trim(n.remote_name), trim(n.remote_port)
    if n.protocol == "cdp":
        if device.os not in LIBRENMS_CISCO_OSES:
            return None, f"LibreNMS reads CDP only on Cisco OSes, not {device.os!r}"
        if not name or not port:
            return None, "CDP row without Device-ID or Device-Port"
        platform, version = trim(n.remote_platform), trim(n.remote_description)
    else:
        mac = librenms_mac(n)
        if not name and device.finds_device(n, mac):
            name = device.sys_name
        if not name:
            name = trim(n.remote_description)
        if not name:
            return None, "LLDP row without sysName or sysDesc"
        if not device.finds_port(n, mac):
            port = f"{port} ({mac})"
        platform, version = None, trim(n.remote_description)
    return {
        "protocol": n.protocol,
        "local_port": n.local_port,
        "remote_hostname": name,
        "remote_port": port,
        "remote_platform": platform or None,
        "remote_version": version or None,
    }, ""


def from_librenms(row: dict) -> dict:
    return {
        "protocol": row["protocol"],
        "local_port": row.get("ifName") or row.get("ifDescr"),
        "remote_hostname": row["remote_hostname"],
        "remote_port": row["remote_port"],
        "remote_platform": row.get("remote_platform"),
        "remote_version": row.get("remote_version"),
    }


# --- the raw walk, read independently of snmpsim and netmon ---------------------------------------
LLDP_REM = "1.0.8802.1.1.2.1.4.1.1."
CDP_CACHE = "1.3.6.1.4.1.9.9.23.1.2.1.1."
IF_NAME = "1.3.6.1.2.1.31.1.1.1.1."
IF_DESCR = "1.3.6.1.2.1.2.2.1.2."


def _snmprec_text(kind: str, value: str) -> str:
    raw = bytes.fromhex(value) if kind == "4x" else value.encode()
    return raw.decode("utf-8", "replace").replace("\x00", "").strip()


@functools.cache
def walk_facts(name: str) -> tuple[int, int, dict[int, str]]:
    """(lldpRemTable rows, cdpCacheTable rows, ifIndex -> ifName or ifDescr) straight from the .snmprec."""
    lldp_rows, cdp_rows = set(), set()
    ifname, ifdescr = {}, {}
    with (SNMP_FIXTURES / f"{name}.snmprec").open(errors="replace") as f:
        for line in f:
            oid, _, rest = line.rstrip("\n").lstrip(".").partition("|")
            kind, _, value = rest.partition("|")
            if oid.startswith(LLDP_REM):
                index = oid[len(LLDP_REM) :].split(".")[1:]
                lldp_rows.add(tuple(index[-2:]))  # (localPortNum, remIndex)
            elif oid.startswith(CDP_CACHE):
                cdp_rows.add(tuple(oid[len(CDP_CACHE) :].split(".")[1:]))
            elif oid.startswith((IF_NAME, IF_DESCR)) and kind in ("4", "4x"):
                prefix = IF_NAME if oid.startswith(IF_NAME) else IF_DESCR
                suffix = oid[len(prefix) :]
                if suffix.isdigit():
                    (ifname if prefix == IF_NAME else ifdescr)[int(suffix)] = _snmprec_text(kind, value)
    names = {i: ifname.get(i) or ifdescr.get(i) or f"ifIndex{i}" for i in ifname.keys() | ifdescr.keys()}
    return len(lldp_rows), len(cdp_rows), names


WALKS = sorted(p.name.removesuffix(".snmprec") for p in SNMP_FIXTURES.glob("*.snmprec"))
EXPECTATIONS = sorted(p.stem for p in EXPECTED.glob("*.json")) if EXPECTED.is_dir() else []
WITH_LINKS = sorted(n for n in set(WALKS) | set(EXPECTATIONS) if librenms_links(n) is not None)


# --- polling --------------------------------------------------------------------------------------
async def _collect(port: int, name: str, engine: str) -> list[Neighbor]:
    client = SnmpClient(engine)
    try:
        target = SnmpTarget("127.0.0.1", port, timeout=TARGET_TIMEOUT, retries=1)
        session = await client.session(target, SnmpV2cCredentials(profile=f"conformance-{name}", community=name))
        return [*await lldp.collect(session), *await cdp.collect(session)]
    finally:
        client.close()


@pytest.fixture(scope="module")
def neighbours(walk_agent):
    """``neighbours(name, engine)`` -> LLDP then CDP neighbours; each walk polled once per engine."""
    cache: dict[tuple[str, str], list[Neighbor]] = {}

    def _get(name: str, engine: str = "native") -> list[Neighbor]:
        if (name, engine) not in cache:
            cache[(name, engine)] = asyncio.run(_collect(walk_agent.port, name, engine))
        return cache[(name, engine)]

    return _get


# --- the tests ------------------------------------------------------------------------------------
def test_the_walks_with_librenms_links_are_all_here():
    missing = [n for n in REQUIRED_WITH_LINKS if n not in WITH_LINKS or n not in WALKS]
    assert not missing, f"walks or expected discovery-protocols missing from {SNMP_FIXTURES}: {missing}"


def _row_key(row: dict) -> tuple:
    return tuple(str(row[k]) for k in ("protocol", "local_port", "remote_hostname", "remote_port"))


@pytest.mark.parametrize("name", WITH_LINKS)
def test_neighbours_match_librenms_links(name, neighbours, conformance_report):
    if name not in WALKS:
        pytest.skip(
            f"{name}: expected/{name}.json has LibreNMS's links but there is no {name}.snmprec to poll"
            " (NOTICE.md: some walks, e.g. iosxe_c9800's at over 4 MiB, are not available)"
        )
    device = LibrenmsDevice(name)
    expected = sorted((from_librenms(r) for r in librenms_links(name)), key=_row_key)
    ours, dropped = [], []
    for n in neighbours(name):
        row, why = as_librenms_link(n, device)
        if row is None:
            dropped.append(f"{n.protocol} {n.local_port} -> {n.remote_name or '?'}: {why}")
        else:
            ours.append(row)
    ours.sort(key=_row_key)

    problems = []
    for protocol in ("lldp", "cdp"):
        want = sum(r["protocol"] == protocol for r in expected)
        got = sum(r["protocol"] == protocol for r in ours)
        if want != got:
            problems.append(f"{protocol}: LibreNMS has {want} links, netmon {got}")
    want_keys, got_keys = Counter(map(_row_key, expected)), Counter(map(_row_key, ours))
    for key in sorted((want_keys - got_keys).elements()):
        problems.append(f"LibreNMS only: {key}")
    for key in sorted((got_keys - want_keys).elements()):
        problems.append(f"netmon only: {key}")
    if not problems:
        for want, got in zip(expected, ours, strict=True):
            for field in ("remote_platform", "remote_version"):
                if want[field] != got[field]:
                    problems.append(f"{_row_key(want)}: {field} LibreNMS {want[field]!r}, netmon {got[field]!r}")
    counts = Counter(r["protocol"] for r in expected)
    conformance_report(
        f"{name}: neighbours {counts['lldp']} LLDP + {counts['cdp']} CDP links matched LibreNMS"
        + (f"; not stored by LibreNMS: {'; '.join(dropped)}" if dropped else "")
    )
    assert not problems, f"{name}: netmon's neighbours differ from LibreNMS's links:\n" + "\n".join(problems)


@pytest.mark.parametrize("name", WALKS)
def test_neighbours_match_the_walk_itself(name, neighbours, conformance_report):
    lldp_rows, cdp_rows, if_names = walk_facts(name)
    found = neighbours(name)
    got = Counter(n.protocol for n in found)
    assert (got["lldp"], got["cdp"]) == (lldp_rows, cdp_rows), (
        f"{name}: the walk has {lldp_rows} lldpRemTable and {cdp_rows} cdpCacheTable rows;"
        f" netmon returned {got['lldp']} LLDP and {got['cdp']} CDP neighbours"
    )
    unnamed = [n for n in found if n.local_port not in if_names.values()]
    assert not unnamed, f"{name}: local ports that are no interface of the walk: {unnamed}"
    if name not in WITH_LINKS:
        conformance_report(
            f"{name}: neighbours {got['lldp']} LLDP + {got['cdp']} CDP, as many as the walk's rows"
            " (no LibreNMS links to compare)"
        )


@pytest.mark.parametrize("name", WALKS)
def test_both_snmp_engines_read_the_same_neighbours(name, neighbours):
    assert neighbours(name, "native") == neighbours(name, "pysnmp")
