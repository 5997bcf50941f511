"""CISCO-CDP-MIB neighbours: cdpCacheTable (1.3.6.1.4.1.9.9.23.1.2.1.1).

One row per neighbour, indexed by (cdpCacheIfIndex, cdpCacheDeviceIndex):
the first index is the local interface's ifIndex, so the local port is
named from IF-MIB the way :mod:`collectors.interfaces` names it (ifName,
else ifDescr, else ``ifIndex<n>``). ifDescr is walked only when an
interface with a neighbour has no ifName.

What each column becomes:

* cdpCacheDeviceId -> ``remote_name`` (the Device-ID as announced, often a
  FQDN, sometimes with a serial in parentheses on Nexus);
* cdpCacheDevicePort -> ``remote_port``;
* cdpCachePlatform -> ``remote_platform``;
* cdpCacheVersion -> ``remote_description`` (CDP's software-version TLV,
  the counterpart of LLDP's system description);
* cdpCacheAddressType + cdpCacheAddress -> ``remote_address`` when it is an
  IPv4 (type ip, 4 octets) or IPv6 (type ipv6, 16 octets) address.

CDP has no chassis id, so ``remote_chassis_id`` stays empty. An agent
without CDP returns an empty list after one walk.
"""

from __future__ import annotations

from collectors.base import Context, SnmpCollector
from collectors.lldp import IF_DESCR, IF_NAME, address_text, display_text, ifindex_column, interface_name
from collectors.observations import Neighbor, Neighbors
from collectors.snmp.api import OID, SnmpSession

CDP_CACHE_ENTRY = (1, 3, 6, 1, 4, 1, 9, 9, 23, 1, 2, 1, 1)
CDP_CACHE_ADDRESS_TYPE = CDP_CACHE_ENTRY + (3,)
CDP_CACHE_ADDRESS = CDP_CACHE_ENTRY + (4,)
CDP_CACHE_VERSION = CDP_CACHE_ENTRY + (5,)
CDP_CACHE_DEVICE_ID = CDP_CACHE_ENTRY + (6,)
CDP_CACHE_DEVICE_PORT = CDP_CACHE_ENTRY + (7,)
CDP_CACHE_PLATFORM = CDP_CACHE_ENTRY + (8,)

COLUMNS: tuple[OID, ...] = (
    CDP_CACHE_ADDRESS_TYPE,
    CDP_CACHE_ADDRESS,
    CDP_CACHE_VERSION,
    CDP_CACHE_DEVICE_ID,
    CDP_CACHE_DEVICE_PORT,
    CDP_CACHE_PLATFORM,
)

# CiscoNetworkProtocol values (CISCO-TC) that carry an IP address.
PROTOCOL_IP, PROTOCOL_IPV6 = 1, 20
_FAMILY = {PROTOCOL_IP: 1, PROTOCOL_IPV6: 2}  # -> IANA AddressFamilyNumbers, as collectors.lldp.address_text takes

name = "cdp"


def cdp_address(address_type: object, value: object) -> str:
    """cdpCacheAddress as text when it is an IP address, else ``''``.

    ``address_type`` missing (an agent that skips the column) is read from
    the length: 4 octets IPv4, 16 octets IPv6.
    """
    if not isinstance(value, bytes | bytearray):
        return ""
    raw = bytes(value)
    if address_type is None:
        return address_text(None, raw)
    family = _FAMILY.get(address_type) if isinstance(address_type, int) else None
    return address_text(family, raw) if family else ""


async def collect(session: SnmpSession) -> list[Neighbor]:
    cols = await session.walk_columns(COLUMNS)
    indexes = sorted({index for column in COLUMNS for index in cols[column] if len(index) == 2})
    if not indexes:
        return []

    ifname = ifindex_column((await session.walk_columns([IF_NAME]))[IF_NAME])
    ifdescr: dict[int, str] = {}
    if any(not ifname.get(ifindex) for ifindex, _ in indexes):
        ifdescr = ifindex_column((await session.walk_columns([IF_DESCR]))[IF_DESCR])

    neighbours = []
    for index in indexes:
        ifindex = index[0]

        def value(column: OID, index: OID = index) -> object:
            return cols[column].get(index)

        neighbours.append(
            Neighbor(
                protocol="cdp",
                local_port=interface_name(ifindex, ifname, ifdescr),
                remote_name=display_text(value(CDP_CACHE_DEVICE_ID)),
                remote_port=display_text(value(CDP_CACHE_DEVICE_PORT)),
                remote_address=cdp_address(value(CDP_CACHE_ADDRESS_TYPE), value(CDP_CACHE_ADDRESS)),
                remote_platform=display_text(value(CDP_CACHE_PLATFORM)),
                remote_description=display_text(value(CDP_CACHE_VERSION)),
            )
        )
    return neighbours


async def _read(session: SnmpSession, context: Context) -> Neighbors:
    return Neighbors(name, await collect(session))


COLLECTOR = SnmpCollector(name, "topology", Neighbors, _read)
