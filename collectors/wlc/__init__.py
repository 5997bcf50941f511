"""Wireless LAN controllers: access points, radios, WLANs and clients, per vendor profile.

One small profile per controller family over a shared core
(:mod:`collectors.wlc.core`), picked by sysObjectID like the optics profiles:

* Aruba (enterprise 14823): :mod:`collectors.wlc.aruba`;
* Airespace (enterprise 14179, the original AireOS controllers):
  :mod:`collectors.wlc.aireos`;
* Cisco (enterprise 9), where AireOS controllers, Cisco Business Wireless and
  the Catalyst 9800 all live: Cisco Business Wireless by its product branch
  ``9.6.1.37`` (e.g. ``.9.6.1.37.240.1``, the CBW240AC); known 9800 and AireOS
  product OIDs from tables below; any other Cisco OID by its sysDescr, as
  NetXMS does for the 9800 ("C9800" in an IOS description), AireOS saying
  "Cisco Controller".

A device that is none of these raises :class:`~collectors.wlc.core.NotAController`.
"""

from __future__ import annotations

from collectors.base import Context, DeviceFacts, SnmpCollector, has_snmp
from collectors.observations import WlcResult
from collectors.snmp.api import SnmpSession
from collectors.wlc import aireos, aruba, c9800, core

__all__ = ["COLLECTOR", "collect", "profile_for"]

name = "wlc"

ENTERPRISE = (1, 3, 6, 1, 4, 1)
CISCO, AIRESPACE, ARUBA = 9, 14179, 14823
CISCO_BUSINESS_WIRELESS = ENTERPRISE + (9, 6, 1, 37)
# CISCO-PRODUCTS-MIB: Catalyst 9800-40, -80, -CL, -L-C, -L-F (the last as in the 9800 LibreNMS fixture).
C9800_PRODUCTS = frozenset(ENTERPRISE + (9, 1, n) for n in (2391, 2530, 2669, 2860, 2861))
# AireOS controllers and Mobility Express (5500, 2504, 7500, 8500, 3504, 5520/8540, ...).
AIREOS_PRODUCTS = frozenset(
    ENTERPRISE + (9, 1, n)
    for n in (818, 828, 926, 1069, 1279, 1293, 1295, 1615, 1631, 1645, 2170, 2250, 2370, 2371, 2427, 2489)
)


def _oid(object_id: str) -> tuple[int, ...]:
    try:
        return tuple(int(x) for x in object_id.strip().strip(".").split(".")) if object_id.strip() else ()
    except ValueError:
        return ()


def profile_for(object_id: str, descr: str = ""):
    """The profile module for a sysObjectID (and, for unknown Cisco products, sysDescr), or None."""
    oid = _oid(object_id)
    if oid[: len(ENTERPRISE)] != ENTERPRISE or len(oid) <= len(ENTERPRISE):
        return None
    enterprise = oid[len(ENTERPRISE)]
    if enterprise == ARUBA:
        return aruba
    if enterprise == AIRESPACE:
        return aireos
    if enterprise != CISCO:
        return None
    if oid[: len(CISCO_BUSINESS_WIRELESS)] == CISCO_BUSINESS_WIRELESS or oid in AIREOS_PRODUCTS:
        return aireos
    if oid in C9800_PRODUCTS:
        return c9800
    if "C9800" in descr:
        return c9800
    if "Cisco Controller" in descr or "Cisco Business Wireless" in descr:
        return aireos
    return None


async def collect(session: SnmpSession, object_id: str) -> WlcResult:
    profile = profile_for(object_id)
    oid = _oid(object_id)
    if profile is None and oid[: len(ENTERPRISE) + 1] == ENTERPRISE + (CISCO,):
        descr = core.text((await session.get([core.SYS_DESCR])).get(core.SYS_DESCR))
        profile = profile_for(object_id, descr)
    if profile is None:
        raise core.NotAController(f"no wireless controller profile for sysObjectID {object_id or '(none)'}")
    return await profile.read(session)


def _handles(device: DeviceFacts) -> bool:
    return device.role == "wlc" and has_snmp(device)


async def _read(session: SnmpSession, context: Context) -> WlcResult:
    return await collect(session, context.object_id)


# Every poll: clients come and go by the minute.
COLLECTOR = SnmpCollector(name, "poll", WlcResult, _read, _handles)
