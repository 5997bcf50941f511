"""LLDP and CDP neighbours: a small synthetic city served by snmpsim, and the rendering helpers.

The lab here is written by the test itself: a fibre ring of three switches
that see each other over LLDP, each numbering its LLDP ports the way a real
family does (IOS-XE: bridge port numbers; NX-OS: ifIndex; Junos: ifIndex with
the local port id as a number and no description), an IOS router that only
speaks CDP and has no ifXTable, and a quiet switch with LLDP enabled but no
neighbours. A few rows carry the encodings real agents get wrong or leave
out: a MAC chassis id sent as text, a sysName padded with NULs, a management
address index without its length octet, missing columns.
"""

from __future__ import annotations

import asyncio
import ipaddress
import os

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from collectors import cdp, lldp
from collectors.credentials import SnmpV2cCredentials
from collectors.observations import Neighbor
from collectors.snmp.api import SnmpTarget
from collectors.snmp.client import SnmpClient
from netmon import lab as lab_mod

ENGINES = ["native", "pysnmp"]

SYS = "1.3.6.1.2.1.1"
IF_TABLE = "1.3.6.1.2.1.2.2.1"
IF_X_TABLE = "1.3.6.1.2.1.31.1.1.1"
DOT1D = "1.3.6.1.2.1.17.1.4.1.2"
LOC_PORT = "1.0.8802.1.1.2.1.3.7.1"
REM = "1.0.8802.1.1.2.1.4.1.1"
REM_MAN_ADDR = "1.0.8802.1.1.2.1.4.2.1"
CDP_CACHE = "1.3.6.1.4.1.9.9.23.1.2.1.1"

MAC_HALL = "001c73000001"
MAC_LIBRARY = "001c73000002"
MAC_ARENA = "001c73000003"
IOS_XE = "Cisco IOS Software [Cupertino], Catalyst L3 Switch Software (CAT9K_IOSXE), Version 17.9.4"
NX_OS = "Cisco Nexus Operating System (NX-OS) Software 9.3(10)\nTAC support: http://www.cisco.com/tac"
JUNOS = "Juniper Networks, Inc. ex4300-48p Ethernet Switch, kernel JUNOS 21.4R3-S4.9"
IOS_ROUTER = "Cisco IOS Software [Cupertino], ISR Software (X86_64_LINUX_IOSD-UNIVERSALK9-M), Version 17.3.4"
PHONE = "sip88xx.14-1-1MN-366"


# --- snmprec values -------------------------------------------------------------------------------
def txt(value: str) -> str:
    assert "|" not in value and "\n" not in value
    return f"4|{value}"


def octets(value: bytes | str) -> str:
    return f"4x|{(value.encode() if isinstance(value, str) else value).hex()}"


def num(value: int) -> str:
    return f"2|{value}"


def ip_index(address: str) -> str:
    """The (subtype, length, octets...) tail of an lldpRemManAddrTable index."""
    packed = ipaddress.ip_address(address).packed
    family = 1 if len(packed) == 4 else 2
    return ".".join(str(x) for x in (family, len(packed), *packed))


def system(name: str, descr: str) -> dict[str, str]:
    return {f"{SYS}.1.0": octets(descr), f"{SYS}.5.0": txt(name)}


def interfaces(ports: dict[int, tuple[str, str]], if_x: bool = True) -> dict[str, str]:
    """ifIndex -> (ifName, ifDescr); a device without ifXTable gets ifDescr only."""
    recs = {}
    for ifindex, (ifname, ifdescr) in ports.items():
        recs[f"{IF_TABLE}.1.{ifindex}"] = num(ifindex)
        recs[f"{IF_TABLE}.2.{ifindex}"] = txt(ifdescr)
        recs[f"{IF_TABLE}.3.{ifindex}"] = num(6)
        if if_x:
            recs[f"{IF_X_TABLE}.1.{ifindex}"] = txt(ifname)
    return recs


def lldp_remote(index: str, **columns: str) -> dict[str, str]:
    col = {
        "chassis_subtype": 4,
        "chassis": 5,
        "port_subtype": 6,
        "port": 7,
        "port_desc": 8,
        "sys_name": 9,
        "sys_desc": 10,
    }
    return {f"{REM}.{col[k]}.{index}": v for k, v in columns.items()}


def cdp_entry(index: str, **columns: str) -> dict[str, str]:
    col = {"address_type": 3, "address": 4, "version": 5, "device_id": 6, "device_port": 7, "platform": 8}
    return {f"{CDP_CACHE}.{col[k]}.{index}": v for k, v in columns.items()}


# --- the devices ----------------------------------------------------------------------------------
def sw_city_hall() -> dict[str, str]:
    """IOS-XE: lldpLocPortNum is the bridge port (1..n), not the ifIndex; the port id is the ifName."""
    ports = {
        8: ("Gi1/0/1", "GigabitEthernet1/0/1"),
        9: ("Gi1/0/2", "GigabitEthernet1/0/2"),
        41: ("Te1/1/1", "TenGigabitEthernet1/1/1"),
        42: ("Te1/1/2", "TenGigabitEthernet1/1/2"),
        5001: ("Vl1", "Vlan1"),
    }
    recs = system("sw-city-hall", IOS_XE) | interfaces(ports)
    for bridge_port, ifindex in enumerate((8, 9, 41, 42), start=1):
        recs[f"{DOT1D}.{bridge_port}"] = num(ifindex)
        recs[f"{LOC_PORT}.2.{bridge_port}"] = num(5)  # interfaceName
        recs[f"{LOC_PORT}.3.{bridge_port}"] = txt(ports[ifindex][0])
        recs[f"{LOC_PORT}.4.{bridge_port}"] = txt(ports[ifindex][1])
    # An access point on Gi1/0/1: chassis id is its network address, port id its MAC; no sysDesc column.
    recs |= lldp_remote(
        "0.1.1",
        chassis_subtype=num(5),
        chassis=octets(bytes([1, 127, 0, 20, 5])),
        port_subtype=num(3),
        port=octets(bytes.fromhex("f8e71e0a0b01")),
        port_desc=txt("eth0"),
        sys_name=txt("ap-city-hall-01"),
    )
    recs |= lldp_remote(
        "0.3.2",
        chassis_subtype=num(4),
        chassis=octets(bytes.fromhex(MAC_LIBRARY)),
        port_subtype=num(5),
        port=txt("Ethernet1/50"),
        port_desc=txt("fibre to city-hall"),
        sys_name=txt("sw-library"),
        sys_desc=octets(NX_OS),
    )
    # Junos announces its port id as the ifIndex (subtype local) and the name as the description.
    recs |= lldp_remote(
        "4211.4.3",
        chassis_subtype=num(4),
        chassis=octets(bytes.fromhex(MAC_ARENA)),
        port_subtype=num(7),
        port=txt("514"),
        port_desc=txt("xe-0/0/1"),
        sys_name=txt("sw-arena"),
        sys_desc=txt(JUNOS),
    )
    recs[f"{REM_MAN_ADDR}.3.0.3.2.{ip_index('127.0.10.2')}"] = num(2)
    # Two addresses for the arena switch: IPv6 first in index order, IPv4 is still preferred.
    recs[f"{REM_MAN_ADDR}.3.4211.4.3.{ip_index('127.0.10.3')}"] = num(2)
    recs[f"{REM_MAN_ADDR}.3.4211.4.3.{ip_index('fd00:10::3')}"] = num(2)
    # CDP too, with the router on Gi1/0/2.
    recs |= cdp_entry(
        "9.1",
        address_type=num(1),
        address=octets(bytes([127, 0, 10, 9])),
        version=octets(IOS_ROUTER + "\nTechnical Support: http://www.cisco.com/techsupport"),
        device_id=txt("rtr-city-hall"),
        device_port=txt("GigabitEthernet0/0/0"),
        platform=txt("cisco ISR4331/K9"),
    )
    return recs


def sw_library() -> dict[str, str]:
    """NX-OS: lldpLocPortNum is the ifIndex."""
    ports = {
        83886080: ("mgmt0", "mgmt0"),
        436404224: ("Ethernet1/49", "Ethernet1/49"),
        436408320: ("Ethernet1/50", "Ethernet1/50"),
    }
    recs = system("sw-library", NX_OS) | interfaces(ports)
    for ifindex, (ifname, _) in ports.items():
        recs[f"{LOC_PORT}.2.{ifindex}"] = num(5)
        recs[f"{LOC_PORT}.3.{ifindex}"] = txt(ifname)
        recs[f"{LOC_PORT}.4.{ifindex}"] = txt(ifname)
    # The arena switch's MAC chassis id arrives as text, upper case.
    recs |= lldp_remote(
        "0.436404224.1",
        chassis_subtype=num(4),
        chassis=txt("00:1C:73:00:00:03"),
        port_subtype=num(7),
        port=txt("513"),
        port_desc=txt("xe-0/0/0"),
        sys_name=txt("sw-arena"),
        sys_desc=txt(JUNOS),
    )
    # City hall's sysName padded with NULs, as some agents send C strings.
    recs |= lldp_remote(
        "0.436408320.2",
        chassis_subtype=num(4),
        chassis=octets(bytes.fromhex(MAC_HALL)),
        port_subtype=num(5),
        port=txt("Te1/1/1"),
        port_desc=txt("TenGigabitEthernet1/1/1"),
        sys_name=octets(b"sw-city-hall\x00\x00"),
        sys_desc=txt(IOS_XE),
    )
    # Management address index without its length octet: (subtype 1, then the 4 octets).
    recs[f"{REM_MAN_ADDR}.3.0.436404224.1.1.127.0.10.3"] = num(2)
    recs[f"{REM_MAN_ADDR}.3.0.436408320.2.{ip_index('127.0.10.1')}"] = num(2)
    return recs


def sw_arena() -> dict[str, str]:
    """Junos: lldpLocPortNum is the ifIndex, the local port id is that number, no lldpLocPortDesc."""
    ports = {33: ("me0", "me0"), 513: ("xe-0/0/0", "xe-0/0/0"), 514: ("xe-0/0/1", "xe-0/0/1")}
    recs = system("sw-arena", JUNOS) | interfaces(ports)
    # Bridge ports numbered from 4097 do not collide with the LLDP port numbers.
    recs[f"{DOT1D}.4097"] = num(513)
    recs[f"{DOT1D}.4098"] = num(514)
    for ifindex in (513, 514):
        recs[f"{LOC_PORT}.3.{ifindex}"] = txt(str(ifindex))  # no subtype column either
    recs |= lldp_remote(
        "0.513.1",
        chassis_subtype=num(4),
        chassis=octets(bytes.fromhex(MAC_LIBRARY)),
        port_subtype=num(5),
        port=txt("Ethernet1/49"),
        sys_name=txt("sw-library"),
    )
    recs |= lldp_remote(
        "0.514.2",
        chassis_subtype=num(4),
        chassis=octets(bytes.fromhex(MAC_HALL)),
        port_subtype=num(5),
        port=txt("Te1/1/2"),
        port_desc=txt("TenGigabitEthernet1/1/2"),
        sys_name=txt("sw-city-hall"),
        sys_desc=txt(IOS_XE),
    )
    recs[f"{REM_MAN_ADDR}.3.0.513.1.{ip_index('fd00:10::2')}"] = num(2)  # IPv6 only
    recs[f"{REM_MAN_ADDR}.3.0.514.2.{ip_index('127.0.10.1')}"] = num(2)
    return recs


def rtr_city_hall() -> dict[str, str]:
    """An IOS router with CDP only and no ifXTable: local ports are named from ifDescr."""
    ports = {
        1: ("", "GigabitEthernet0/0/0"),
        2: ("", "GigabitEthernet0/0/1"),
        3: ("", "GigabitEthernet0/0/2"),
    }
    recs = system("rtr-city-hall", IOS_ROUTER) | interfaces(ports, if_x=False)
    recs |= cdp_entry(
        "1.3",
        address_type=num(1),
        address=octets(bytes([127, 0, 10, 1])),
        version=octets(IOS_XE + "\nTechnical Support: http://www.cisco.com/techsupport\n"),
        device_id=txt("sw-city-hall.city.example"),
        device_port=txt("GigabitEthernet1/0/2"),
        platform=txt("cisco C9300-24T"),
    )
    recs |= cdp_entry(
        "2.7",
        address_type=num(1),
        address=octets(bytes([127, 0, 30, 7])),
        version=txt(PHONE),
        device_id=txt("SEP00112233AA01"),
        device_port=txt("Port 1"),
        platform=txt("Cisco IP Phone 8841"),
    )
    # An access point that announced no address at all.
    recs |= cdp_entry(
        "3.12",
        device_id=txt("ap-city-hall-02"),
        device_port=txt("GigabitEthernet0"),
        platform=txt("cisco AIR-AP1832I-E-K9"),
    )
    return recs


def sw_quiet() -> dict[str, str]:
    """LLDP on (it has a local port table) but nobody on the other end; no CDP."""
    recs = system("sw-quiet", IOS_XE) | interfaces({1: ("Gi1/0/1", "GigabitEthernet1/0/1")})
    recs[f"{LOC_PORT}.2.1"] = num(5)
    recs[f"{LOC_PORT}.3.1"] = txt("Gi1/0/1")
    return recs


DEVICES = {
    "sw-city-hall": sw_city_hall,
    "sw-library": sw_library,
    "sw-arena": sw_arena,
    "rtr-city-hall": rtr_city_hall,
    "sw-quiet": sw_quiet,
}

EXPECTED = {
    ("sw-city-hall", "lldp"): [
        Neighbor(
            protocol="lldp",
            local_port="Gi1/0/1",
            remote_name="ap-city-hall-01",
            remote_port="f8:e7:1e:0a:0b:01",
            remote_chassis_id="127.0.20.5",
        ),
        Neighbor(
            protocol="lldp",
            local_port="Te1/1/1",
            remote_name="sw-library",
            remote_port="Ethernet1/50",
            remote_chassis_id="00:1c:73:00:00:02",
            remote_address="127.0.10.2",
            remote_description=NX_OS,
        ),
        Neighbor(
            protocol="lldp",
            local_port="Te1/1/2",
            remote_name="sw-arena",
            remote_port="514",
            remote_chassis_id="00:1c:73:00:00:03",
            remote_address="127.0.10.3",
            remote_description=JUNOS,
        ),
    ],
    ("sw-city-hall", "cdp"): [
        Neighbor(
            protocol="cdp",
            local_port="Gi1/0/2",
            remote_name="rtr-city-hall",
            remote_port="GigabitEthernet0/0/0",
            remote_address="127.0.10.9",
            remote_platform="cisco ISR4331/K9",
            remote_description=IOS_ROUTER + "\nTechnical Support: http://www.cisco.com/techsupport",
        )
    ],
    ("sw-library", "lldp"): [
        Neighbor(
            protocol="lldp",
            local_port="Ethernet1/49",
            remote_name="sw-arena",
            remote_port="513",
            remote_chassis_id="00:1c:73:00:00:03",
            remote_address="127.0.10.3",
            remote_description=JUNOS,
        ),
        Neighbor(
            protocol="lldp",
            local_port="Ethernet1/50",
            remote_name="sw-city-hall",
            remote_port="Te1/1/1",
            remote_chassis_id="00:1c:73:00:00:01",
            remote_address="127.0.10.1",
            remote_description=IOS_XE,
        ),
    ],
    ("sw-library", "cdp"): [],
    ("sw-arena", "lldp"): [
        Neighbor(
            protocol="lldp",
            local_port="xe-0/0/0",
            remote_name="sw-library",
            remote_port="Ethernet1/49",
            remote_chassis_id="00:1c:73:00:00:02",
            remote_address="fd00:10::2",
        ),
        Neighbor(
            protocol="lldp",
            local_port="xe-0/0/1",
            remote_name="sw-city-hall",
            remote_port="Te1/1/2",
            remote_chassis_id="00:1c:73:00:00:01",
            remote_address="127.0.10.1",
            remote_description=IOS_XE,
        ),
    ],
    ("sw-arena", "cdp"): [],
    ("rtr-city-hall", "lldp"): [],
    ("rtr-city-hall", "cdp"): [
        Neighbor(
            protocol="cdp",
            local_port="GigabitEthernet0/0/0",
            remote_name="sw-city-hall.city.example",
            remote_port="GigabitEthernet1/0/2",
            remote_address="127.0.10.1",
            remote_platform="cisco C9300-24T",
            remote_description=IOS_XE + "\nTechnical Support: http://www.cisco.com/techsupport",
        ),
        Neighbor(
            protocol="cdp",
            local_port="GigabitEthernet0/0/1",
            remote_name="SEP00112233AA01",
            remote_port="Port 1",
            remote_address="127.0.30.7",
            remote_platform="Cisco IP Phone 8841",
            remote_description=PHONE,
        ),
        Neighbor(
            protocol="cdp",
            local_port="GigabitEthernet0/0/2",
            remote_name="ap-city-hall-02",
            remote_port="GigabitEthernet0",
            remote_platform="cisco AIR-AP1832I-E-K9",
        ),
    ],
    ("sw-quiet", "lldp"): [],
    ("sw-quiet", "cdp"): [],
}


def _oid_key(line: str) -> tuple[int, ...]:
    return tuple(int(x) for x in line.split("|", 1)[0].split("."))


def write_snmprec(path, records: dict[str, str]) -> None:
    lines = sorted((f"{oid}|{value}" for oid, value in records.items()), key=_oid_key)
    path.write_text("\n".join(lines) + "\n")


@pytest.fixture(scope="module")
def city(tmp_path_factory):
    """snmpsim on 127.0.0.1 serving the five devices; community = device name."""
    try:
        lab_mod.snmpsim_command()
    except RuntimeError as exc:
        if os.environ.get("NETMON_REQUIRE_TOOLS") == "1":
            pytest.fail(str(exc))
        pytest.skip(str(exc))
    root = tmp_path_factory.mktemp("neighbours")
    data = root / "data"
    data.mkdir()
    for device, records in DEVICES.items():
        write_snmprec(data / f"{device}.snmprec", records())
    sim = lab_mod.Simulator(data, lab_mod.free_udp_port(), root, v3_users=[]).start()
    yield sim
    sim.stop()


def poll(port: int, device: str, engine: str = "native"):
    """Both collectors on one session: ({protocol: neighbours}, requests each took)."""

    async def go():
        client = SnmpClient(engine)
        try:
            target = SnmpTarget("127.0.0.1", port, timeout=3.0, retries=1)
            session = await client.session(target, SnmpV2cCredentials(f"test-{device}", device))
            found, requests = {}, {}
            for collector in (lldp, cdp):
                before = session.stats.requests
                found[collector.name] = await collector.collect(session)
                requests[collector.name] = session.stats.requests - before
            return found, requests
        finally:
            client.close()

    return asyncio.run(go())


@pytest.mark.integration
@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("device", list(DEVICES))
def test_neighbours_of_each_device(city, device, engine):
    found, _ = poll(city.port, device, engine)
    assert found["lldp"] == EXPECTED[(device, "lldp")]
    assert found["cdp"] == EXPECTED[(device, "cdp")]


@pytest.mark.integration
def test_the_lldp_ring_closes(city):
    """Every fibre link is seen from both ends, and each end names the other's port as it names it itself."""
    seen = {device: poll(city.port, device)[0]["lldp"] for device in ("sw-city-hall", "sw-library", "sw-arena")}
    links = set()
    for device, neighbours in seen.items():
        for n in neighbours:
            if n.remote_name.startswith("sw-"):
                links.add(frozenset({(device, n.local_port), (n.remote_name, n.remote_port)}))
    # Junos announces ifIndex numbers as port ids; map them to the names sw-arena uses for them.
    junos = {"513": "xe-0/0/0", "514": "xe-0/0/1"}
    links = {frozenset((dev, junos.get(port, port)) for dev, port in link) for link in links}
    assert links == {
        frozenset({("sw-city-hall", "Te1/1/1"), ("sw-library", "Ethernet1/50")}),
        frozenset({("sw-library", "Ethernet1/49"), ("sw-arena", "xe-0/0/0")}),
        frozenset({("sw-arena", "xe-0/0/1"), ("sw-city-hall", "Te1/1/2")}),
    }


@pytest.mark.integration
def test_an_agent_without_neighbours_costs_one_request_per_protocol(city):
    found, requests = poll(city.port, "sw-quiet")
    assert found == {"lldp": [], "cdp": []}
    assert requests == {"lldp": 1, "cdp": 1}


@pytest.mark.integration
def test_local_port_names_match_the_interfaces_collector(city):
    from collectors import interfaces

    async def names(device):
        client = SnmpClient()
        try:
            session = await client.session(
                SnmpTarget("127.0.0.1", city.port, timeout=3.0), SnmpV2cCredentials("t", device)
            )
            return {s.name for s in await interfaces.collect(session)}
        finally:
            client.close()

    for device in DEVICES:
        found, _ = poll(city.port, device)
        ports = {n.local_port for ns in found.values() for n in ns}
        assert ports <= asyncio.run(names(device)), device


# --- local port naming, without an agent ------------------------------------------------------------
IOS_XE_NAMES = {1: "Gi0/0", 8: "Gi1/0/1", 11: "Gi1/0/4"}
IOS_XE_DESCR = {1: "GigabitEthernet0/0", 8: "GigabitEthernet1/0/1", 11: "GigabitEthernet1/0/4"}


def test_a_matching_port_id_beats_port_numbers():
    # Port 1 is bridge port 1 -> ifIndex 8 and also ifIndex 1 (Gi0/0): the port id settles it.
    name = lldp.local_port_name(
        1, id_subtype=5, port_id=b"Gi1/0/1", ifname=IOS_XE_NAMES, ifdescr={}, bridge_ports={1: 8}
    )
    assert name == "Gi1/0/1"
    # A description matching an ifDescr names the interface by its ifName.
    name = lldp.local_port_name(
        4,
        port_id=b"port-4",
        port_desc=b"GigabitEthernet1/0/4",
        ifname=IOS_XE_NAMES,
        ifdescr=IOS_XE_DESCR,
        bridge_ports={},
    )
    assert name == "Gi1/0/4"


def test_without_a_name_match_the_bridge_port_comes_before_the_ifindex():
    kwargs = {"port_id": b"port-001", "ifname": IOS_XE_NAMES, "ifdescr": {}}
    assert lldp.local_port_name(1, bridge_ports={1: 11}, **kwargs) == "Gi1/0/4"
    assert lldp.local_port_name(1, bridge_ports={}, **kwargs) == "Gi0/0"


def test_a_port_the_device_cannot_name_falls_back_to_what_lldp_says():
    empty = {"ifname": {}, "ifdescr": {}, "bridge_ports": {}}
    assert lldp.local_port_name(5, port_id=b"5", port_desc=b"uplink A", **empty) == "uplink A"
    mac = bytes.fromhex("001c73000001")
    assert lldp.local_port_name(5, id_subtype=3, port_id=mac, **empty) == "00:1c:73:00:00:01"
    assert lldp.local_port_name(5, **empty) == "lldpPort5"


def test_a_mac_port_id_is_never_matched_against_names():
    # 6 octets that happen to spell an ifName are a MAC address under subtype macAddress.
    name = lldp.local_port_name(
        3, id_subtype=3, port_id=b"Gi0/01", ifname={3: "Gi1/0/3", 7: "Gi0/01"}, ifdescr={}, bridge_ports={}
    )
    assert name == "Gi1/0/3"


# --- rendering helpers: properties ----------------------------------------------------------------
macs = st.binary(min_size=6, max_size=6)


def mac_forms(raw: bytes) -> list[bytes]:
    pairs = [f"{b:02x}" for b in raw]
    h = raw.hex()
    return [
        raw,
        ":".join(pairs).upper().encode(),
        "-".join(pairs).encode(),
        " ".join(pairs).encode(),
        f"{h[0:4]}.{h[4:8]}.{h[8:12]}".encode(),
        h.encode(),
        h.upper().encode() + b"\x00",
    ]


@given(macs)
def test_mac_ids_render_canonically_from_every_encoding(raw):
    canonical = ":".join(f"{b:02x}" for b in raw)
    for form in mac_forms(raw):
        assert lldp.render_chassis_id(lldp.CHASSIS_MAC, form) == canonical
        assert lldp.render_port_id(lldp.PORT_MAC, form) == canonical
    assert bytes.fromhex(canonical.replace(":", "")) == raw


@given(st.ip_addresses())
def test_network_address_ids_render_as_ip_text(address):
    packed = address.packed
    family = 1 if address.version == 4 else 2
    want = str(address) if address.version == 4 else address.compressed
    forms = [bytes([family]) + packed, str(address).encode()]
    if not lldp._ip_text(packed):  # 4 or 16 octets that also read as an address in text ("1::2") are text
        forms.append(packed)
    for form in forms:
        assert lldp.render_chassis_id(lldp.CHASSIS_NETWORK, form) == want
        assert lldp.render_port_id(lldp.PORT_NETWORK, form) == want


@given(
    st.ip_addresses(),
    st.integers(0, 2**32 - 1),
    st.integers(1, 2**31 - 1),
    st.integers(1, 2**31 - 1),
    st.booleans(),
)
def test_management_addresses_come_out_of_the_index(address, time_mark, port_num, rem_index, with_length):
    packed = address.packed
    family = 1 if address.version == 4 else 2
    tail = (len(packed), *packed) if with_length else tuple(packed)
    parsed = lldp.man_addr_from_index((time_mark, port_num, rem_index, family, *tail))
    assert parsed == (time_mark, port_num, rem_index, family, packed)
    assert lldp.management_address([(family, packed)]) == (str(address) if address.version == 4 else address.compressed)


@given(st.lists(st.tuples(st.sampled_from([1, 2, 6]), st.binary(max_size=20)), max_size=6))
def test_ipv4_is_preferred_and_nonsense_is_dropped(candidates):
    got = lldp.management_address(candidates)
    v4 = [ipaddress.IPv4Address(r) for f, r in candidates if f == 1 and len(r) == 4]
    v6 = [ipaddress.IPv6Address(r) for f, r in candidates if f == 2 and len(r) == 16]
    assert got == (str(v4[0]) if v4 else v6[0].compressed if v6 else "")


printable = st.text(
    st.characters(blacklist_categories=("Cc", "Cs"), blacklist_characters="\x00"), min_size=1, max_size=40
).map(str.strip)


@given(printable, st.integers(0, 3))
def test_text_survives_and_nul_padding_does_not(text, pad):
    assert lldp.display_text(text.encode() + b"\x00" * pad) == text
    assert lldp.render_chassis_id(7, text.encode()) == text
    assert lldp.render_port_id(5, text.encode() + b"\x00") == text


@given(st.binary(max_size=64), st.integers(0, 10))
@settings(max_examples=300)
def test_rendering_never_fails_and_binary_comes_out_as_hex(raw, subtype):
    for out in (
        lldp.display_text(raw),
        lldp.render_chassis_id(subtype, raw),
        lldp.render_port_id(subtype, raw),
        cdp.cdp_address(subtype, raw),
    ):
        assert isinstance(out, str)
        assert "\x00" not in out
        assert out == out.strip()
    body = raw.rstrip(b"\x00")
    try:
        body.decode("utf-8")
        is_utf8 = True
    except UnicodeDecodeError:
        is_utf8 = False
    if not is_utf8 or any(b < 0x20 and b not in b"\t\n\r" for b in body):
        assert lldp.display_text(raw) == ":".join(f"{b:02x}" for b in raw)


@given(st.ip_addresses(), st.binary(max_size=20))
def test_cdp_addresses(address, junk):
    packed = address.packed
    if address.version == 4:
        assert cdp.cdp_address(cdp.PROTOCOL_IP, packed) == str(address)
        assert cdp.cdp_address(None, packed) == str(address)
        assert cdp.cdp_address(cdp.PROTOCOL_IPV6, packed) == ""
    else:
        assert cdp.cdp_address(cdp.PROTOCOL_IPV6, packed) == address.compressed
        assert cdp.cdp_address(cdp.PROTOCOL_IP, packed) == ""
    if len(junk) != 4:
        assert cdp.cdp_address(cdp.PROTOCOL_IP, junk) == ""
    assert cdp.cdp_address(cdp.PROTOCOL_IP, None) == ""
