"""LLDP-MIB neighbours (IEEE 802.1AB, 1.0.8802.1.1.2): who is at the far end of each local port.

Three tables, and only the columns netmon uses:

* ``lldpRemTable``: one row per neighbour, indexed by (lldpRemTimeMark,
  lldpRemLocalPortNum, lldpRemIndex). The chassis id and port id come with
  a subtype that says how to read the octets (a MAC address, a network
  address, or a name); :func:`render_chassis_id` and :func:`render_port_id`
  turn them into text.
* ``lldpRemManAddrTable``: the neighbour's management addresses. The
  address is in the row's *index* (subtype, then a length-prefixed octet
  string), so one column is walked just to learn the indexes.
* ``lldpLocPortTable``: the local port's own LLDP port id and description,
  to name the port the neighbour was heard on.

Naming the local port. lldpRemLocalPortNum is an LldpPortNumber: the MIB
says it equals dot1dBasePort on a bridge and ifIndex otherwise, and vendors
disagree (IOS-XE numbers ports 1..n like the bridge, NX-OS and Junos use
the ifIndex). So the name is taken from the strongest evidence first:

1. the local port id (unless it is a MAC or network address) or, failing
   that, the local port description, equal to an ifName (or an ifDescr) of
   the device: that interface;
2. dot1dBasePortIfIndex of the port number (BRIDGE-MIB), then the port
   number itself, when that is an ifIndex the device has;
3. the local port description, the rendered local port id, and as a last
   resort ``lldpPort<n>``.

A matched interface is named as :mod:`collectors.interfaces` names it (ifName,
else ifDescr), so a neighbour's ``local_port`` equals that interface's
``InterfaceSample.name``. ifDescr is only walked when ifName alone did not
name every port by step 1 (the same two-pass economy as the interfaces collector).

An agent without LLDP answers the first walk with nothing: the result is an
empty list and nothing else is asked. LLDP-V2-MIB (1.3.111.2.802.1.1.13) is
not read: none of the real-device walks the project checks against has it.
"""

from __future__ import annotations

import ipaddress
import re
import unicodedata
from collections.abc import Iterable, Mapping

from collectors.base import Context, SnmpCollector
from collectors.observations import Neighbor, Neighbors
from collectors.snmp.api import OID, SnmpSession, oid_str

LLDP_MIB = (1, 0, 8802, 1, 1, 2)
LOC_PORT_ENTRY = LLDP_MIB + (1, 3, 7, 1)
LOC_PORT_ID_SUBTYPE = LOC_PORT_ENTRY + (2,)
LOC_PORT_ID = LOC_PORT_ENTRY + (3,)
LOC_PORT_DESC = LOC_PORT_ENTRY + (4,)
REM_ENTRY = LLDP_MIB + (1, 4, 1, 1)
REM_CHASSIS_ID_SUBTYPE = REM_ENTRY + (4,)
REM_CHASSIS_ID = REM_ENTRY + (5,)
REM_PORT_ID_SUBTYPE = REM_ENTRY + (6,)
REM_PORT_ID = REM_ENTRY + (7,)
REM_PORT_DESC = REM_ENTRY + (8,)
REM_SYS_NAME = REM_ENTRY + (9,)
REM_SYS_DESC = REM_ENTRY + (10,)
REM_MAN_ADDR_ENTRY = LLDP_MIB + (1, 4, 2, 1)
REM_MAN_ADDR_IF_SUBTYPE = REM_MAN_ADDR_ENTRY + (3,)
REM_MAN_ADDR_IF_ID = REM_MAN_ADDR_ENTRY + (4,)

IF_DESCR = (1, 3, 6, 1, 2, 1, 2, 2, 1, 2)
IF_NAME = (1, 3, 6, 1, 2, 1, 31, 1, 1, 1, 1)
DOT1D_BASE_PORT_IF_INDEX = (1, 3, 6, 1, 2, 1, 17, 1, 4, 1, 2)

REM_COLUMNS: tuple[OID, ...] = (
    REM_CHASSIS_ID_SUBTYPE,
    REM_CHASSIS_ID,
    REM_PORT_ID_SUBTYPE,
    REM_PORT_ID,
    REM_PORT_DESC,
    REM_SYS_NAME,
    REM_SYS_DESC,
)
# Either column reveals a management address's index; agents are not required to fill both.
MAN_ADDR_COLUMNS: tuple[OID, ...] = (REM_MAN_ADDR_IF_SUBTYPE, REM_MAN_ADDR_IF_ID)
LOCAL_COLUMNS: tuple[OID, ...] = (LOC_PORT_ID_SUBTYPE, LOC_PORT_ID, LOC_PORT_DESC, IF_NAME, DOT1D_BASE_PORT_IF_INDEX)

# LldpChassisIdSubtype and LldpPortIdSubtype (LLDP-MIB textual conventions): the ones read specially
CHASSIS_MAC, CHASSIS_NETWORK = 4, 5
PORT_MAC, PORT_NETWORK = 3, 4
# IANA AddressFamilyNumbers: the first octet of a networkAddress id, and lldpRemManAddrSubtype.
FAMILY_IPV4, FAMILY_IPV6 = 1, 2
_ADDRESS_LENGTH = {FAMILY_IPV4: 4, FAMILY_IPV6: 16}

name = "lldp"

_MAC_TEXT = re.compile(
    r"(?:[0-9a-f]{2}([:\- ])[0-9a-f]{2}(?:\1[0-9a-f]{2}){4})|(?:[0-9a-f]{4}\.[0-9a-f]{4}\.[0-9a-f]{4})|[0-9a-f]{12}",
    re.IGNORECASE,
)
_ALLOWED_CONTROLS = frozenset("\t\n\r")


# --- rendering: pure functions of the octets an agent sent ------------------------------------------
def hex_text(raw: bytes) -> str:
    """``b'\\x00\\x1c'`` -> ``'00:1c'``."""
    return ":".join(f"{b:02x}" for b in raw)


def _octets(value: object) -> bytes | None:
    if isinstance(value, bytes | bytearray):
        return bytes(value)
    if isinstance(value, str):
        return value.encode("utf-8")
    return None


def display_text(value: object) -> str:
    """An SNMP string as text for people.

    Trailing NULs (C-string padding) and surrounding blanks are dropped.
    Octets that are not text (invalid UTF-8, or control characters other
    than tab and newlines) come out as colon-separated hex of every octet,
    so binary ids stay readable and unambiguous. Integers and OIDs (an agent
    using the wrong type) are shown as numbers.
    """
    if value is None:
        return ""
    if isinstance(value, bool):
        return str(int(value))
    if isinstance(value, int):
        return str(value)
    if isinstance(value, tuple):
        return oid_str(value)
    raw = _octets(value)
    if raw is None:
        return str(value).strip()
    try:
        text = raw.rstrip(b"\x00").decode("utf-8")
    except UnicodeDecodeError:
        return hex_text(raw)
    if any(unicodedata.category(ch) == "Cc" and ch not in _ALLOWED_CONTROLS for ch in text):
        return hex_text(raw)
    return text.strip()


def mac_text(value: object) -> str | None:
    """A MAC address as ``aa:bb:cc:dd:ee:ff``, from 6 octets or a MAC written as text; else ``None``.

    Text forms accepted (any case): ``aa:bb:cc:dd:ee:ff``, ``aa-bb-...``,
    ``aa bb ...``, Cisco's ``aabb.ccdd.eeff`` and a bare ``aabbccddeeff``.
    """
    raw = _octets(value)
    if raw is None:
        return None
    if len(raw) == 6:
        return hex_text(raw)
    try:
        text = raw.strip(b"\x00").decode("ascii").strip()
    except UnicodeDecodeError:
        return None
    if not _MAC_TEXT.fullmatch(text):
        return None
    return hex_text(bytes.fromhex(re.sub(r"[^0-9a-fA-F]", "", text)))


def address_text(family: int | None, raw: bytes) -> str:
    """An IANA address-family-tagged address as text (IPv4 dotted, IPv6 compressed); ``''`` if not one.

    ``family`` ``None`` means "unknown": 4 octets are taken as IPv4, 16 as IPv6.
    """
    if family is None:
        family = {4: FAMILY_IPV4, 16: FAMILY_IPV6}.get(len(raw))
    if family == FAMILY_IPV4 and len(raw) == 4:
        return str(ipaddress.IPv4Address(raw))
    if family == FAMILY_IPV6 and len(raw) == 16:
        return ipaddress.IPv6Address(raw).compressed
    return ""


def _ip_text(raw: bytes) -> str:
    try:
        return str(ipaddress.ip_address(raw.strip(b"\x00").decode("ascii").strip()))
    except (UnicodeDecodeError, ValueError):
        return ""


def network_address_text(value: object) -> str:
    """A networkAddress chassis or port id: an AddressFamilyNumbers octet, then the address.

    Tolerated too, in this order: an address written as text, and the
    address octets without the family octet. Anything else is shown by
    :func:`display_text`.
    """
    raw = _octets(value)
    if raw is None:
        return display_text(value)
    if len(raw) >= 2 and raw[0] in _ADDRESS_LENGTH and len(raw) - 1 == _ADDRESS_LENGTH[raw[0]]:
        return address_text(raw[0], raw[1:])
    return _ip_text(raw) or (address_text(None, raw) if len(raw) in (4, 16) else "") or display_text(raw)


def render_chassis_id(subtype: object, value: object) -> str:
    """lldpRemChassisId as text, read according to lldpRemChassisIdSubtype."""
    if subtype == CHASSIS_MAC:
        return mac_text(value) or display_text(value)
    if subtype == CHASSIS_NETWORK:
        return network_address_text(value)
    return display_text(value)


def render_port_id(subtype: object, value: object) -> str:
    """lldpRemPortId (or lldpLocPortId) as text, read according to its subtype."""
    if subtype == PORT_MAC:
        return mac_text(value) or display_text(value)
    if subtype == PORT_NETWORK:
        return network_address_text(value)
    return display_text(value)


def man_addr_from_index(index: OID) -> tuple[int, int, int, int, bytes] | None:
    """Split an lldpRemManAddrTable index into (timeMark, localPortNum, remIndex, family, address octets).

    The address is an OCTET STRING index, so it is length-prefixed; some
    agents leave the length out, which is accepted when the octet count fits
    the family. ``None`` when the index cannot be an address.
    """
    if len(index) < 5:
        return None
    time_mark, port_num, rem_index, family = index[:4]
    rest = index[4:]
    if any(not 0 <= x <= 255 for x in rest):
        return None
    prefixed = rest[1:] if rest[0] == len(rest) - 1 else None
    want = _ADDRESS_LENGTH.get(family)
    if prefixed is not None and (want is None or len(prefixed) == want):
        octets = prefixed
    elif want is not None and len(rest) == want:
        octets = rest
    elif prefixed is not None:
        octets = prefixed
    else:
        return None
    return time_mark, port_num, rem_index, family, bytes(octets)


def management_address(candidates: Iterable[tuple[int, bytes]]) -> str:
    """The address to show from (family, octets) pairs: the first IPv4, else the first IPv6, else ``''``."""
    found = {FAMILY_IPV4: "", FAMILY_IPV6: ""}
    for family, raw in candidates:
        if family in found and not found[family]:
            found[family] = address_text(family, raw)
    return found[FAMILY_IPV4] or found[FAMILY_IPV6]


# --- local interface names ------------------------------------------------------------------------
def if_text(value: object) -> str:
    """ifName/ifDescr decoded exactly as :mod:`collectors.interfaces` does, so names line up."""
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace").replace("\x00", "").strip()
    return ""


def ifindex_column(column: Mapping[OID, object]) -> dict[int, str]:
    """``{index: value}`` of an ifTable/ifXTable text column -> ``{ifIndex: text}``."""
    return {index[0]: if_text(value) for index, value in column.items() if len(index) == 1}


def interface_name(ifindex: int, ifname: Mapping[int, str], ifdescr: Mapping[int, str]) -> str:
    """The interfaces collector's name for an ifIndex: ifName, else ifDescr, else ``ifIndex<n>``."""
    return ifname.get(ifindex) or ifdescr.get(ifindex) or f"ifIndex{ifindex}"


def _by_text(*tables: Mapping[int, str]) -> dict[str, int]:
    """Text -> lowest ifIndex carrying it; earlier tables win (ifName before ifDescr)."""
    out: dict[str, int] = {}
    for table in tables:
        for ifindex in sorted(table):
            text = table[ifindex]
            if text and text not in out:
                out[text] = ifindex
    return out


def _name_match(id_subtype: object, port_id: object, port_desc: object, by_text: Mapping[str, int]) -> int | None:
    texts = []
    if id_subtype not in (PORT_MAC, PORT_NETWORK):
        texts.append(display_text(port_id))
    texts.append(display_text(port_desc))
    for text in texts:
        if text and text in by_text:
            return by_text[text]
    return None


def local_port_name(
    port_num: int,
    *,
    id_subtype: object = None,
    port_id: object = None,
    port_desc: object = None,
    ifname: Mapping[int, str],
    ifdescr: Mapping[int, str],
    bridge_ports: Mapping[int, int],
) -> str:
    """Name the local port an LLDP neighbour was heard on (the order is in the module docstring)."""
    match = _name_match(id_subtype, port_id, port_desc, _by_text(ifname, ifdescr))
    if match is not None:
        return interface_name(match, ifname, ifdescr)
    for ifindex in (bridge_ports.get(port_num), port_num):
        if ifindex is not None and (ifname.get(ifindex) or ifdescr.get(ifindex)):
            return interface_name(ifindex, ifname, ifdescr)
    return display_text(port_desc) or render_port_id(id_subtype, port_id) or f"lldpPort{port_num}"


# --- the collector --------------------------------------------------------------------------------
def _rem_key(index: OID) -> tuple[int, int] | None:
    """(localPortNum, remIndex) of an lldpRemTable index; the time mark does not identify a neighbour."""
    return (index[-2], index[-1]) if len(index) >= 2 else None


async def collect(session: SnmpSession) -> list[Neighbor]:
    rem = await session.walk_columns(REM_COLUMNS + MAN_ADDR_COLUMNS)
    rows: dict[tuple[int, int], dict[OID, object]] = {}
    for column in REM_COLUMNS:
        for index, value in rem[column].items():
            key = _rem_key(index)
            if key is not None:
                rows.setdefault(key, {}).setdefault(column, value)
    if not rows:
        return []

    addresses: dict[tuple[int, int], list[tuple[int, bytes]]] = {}
    for index in sorted({i for column in MAN_ADDR_COLUMNS for i in rem[column]}):
        parsed = man_addr_from_index(index)
        if parsed is not None:
            _, port_num, rem_index, family, raw = parsed
            addresses.setdefault((port_num, rem_index), []).append((family, raw))

    local = await session.walk_columns(LOCAL_COLUMNS)
    ifname = ifindex_column(local[IF_NAME])
    bridge_ports = {
        index[0]: value
        for index, value in local[DOT1D_BASE_PORT_IF_INDEX].items()
        if len(index) == 1 and isinstance(value, int)
    }

    def loc(port_num: int) -> dict[str, object]:
        key = (port_num,)
        return {
            "id_subtype": local[LOC_PORT_ID_SUBTYPE].get(key),
            "port_id": local[LOC_PORT_ID].get(key),
            "port_desc": local[LOC_PORT_DESC].get(key),
        }

    port_nums = sorted({port_num for port_num, _ in rows})
    by_ifname = _by_text(ifname)
    ifdescr: dict[int, str] = {}
    if any(_name_match(by_text=by_ifname, **loc(n)) is None for n in port_nums):
        ifdescr = ifindex_column((await session.walk_columns([IF_DESCR]))[IF_DESCR])
    local_names = {
        n: local_port_name(n, ifname=ifname, ifdescr=ifdescr, bridge_ports=bridge_ports, **loc(n)) for n in port_nums
    }

    neighbours = []
    for key, row in sorted(rows.items()):
        neighbours.append(
            Neighbor(
                protocol="lldp",
                local_port=local_names[key[0]],
                remote_name=display_text(row.get(REM_SYS_NAME)),
                remote_port=render_port_id(row.get(REM_PORT_ID_SUBTYPE), row.get(REM_PORT_ID)),
                remote_chassis_id=render_chassis_id(row.get(REM_CHASSIS_ID_SUBTYPE), row.get(REM_CHASSIS_ID)),
                remote_address=management_address(addresses.get(key, ())),
                remote_description=display_text(row.get(REM_SYS_DESC)),
            )
        )
    return neighbours


LOC_CHASSIS_ID_SUBTYPE = LLDP_MIB + (1, 3, 1, 0)
LOC_CHASSIS_ID = LLDP_MIB + (1, 3, 2, 0)


async def local_chassis_id(session: SnmpSession) -> str:
    """This device's own LLDP chassis id (lldpLocChassisId), rendered like its neighbours see it; "" if none."""
    values = await session.get([LOC_CHASSIS_ID_SUBTYPE, LOC_CHASSIS_ID])
    value = values.get(LOC_CHASSIS_ID)
    return render_chassis_id(values.get(LOC_CHASSIS_ID_SUBTYPE), value) if value else ""


async def _read(session: SnmpSession, context: Context) -> Neighbors:
    return Neighbors(name, await collect(session), await local_chassis_id(session))


COLLECTOR = SnmpCollector(name, "topology", Neighbors, _read)
