"""ENTITY-SENSOR-MIB (RFC 3433): the standard table, used by Arista and many others.

The standard has no thresholds; :mod:`collectors.optics.arista` adds Arista's.
"""

from __future__ import annotations

from collectors.optics.entity import EntityTree, Interfaces, RawSensor, readings
from collectors.snmp.api import SnmpSession

ENT_PHY_SENSOR = (1, 3, 6, 1, 2, 1, 99, 1, 1, 1)
TYPE, SCALE, PRECISION, VALUE = (ENT_PHY_SENSOR + (n,) for n in (1, 2, 3, 4))

name = "entity-sensor"


async def sensors(session: SnmpSession) -> dict[int, RawSensor]:
    cols = await session.walk_columns([TYPE, SCALE, PRECISION, VALUE])
    out = {}
    for index, kind in cols[TYPE].items():
        value = cols[VALUE].get(index)
        if isinstance(kind, int) and isinstance(value, int) and len(index) == 1:
            out[index[0]] = RawSensor(kind, cols[SCALE].get(index) or 9, cols[PRECISION].get(index) or 0, value)
    return out


async def read(session: SnmpSession, thresholds: dict[int, dict[str, int]] | None = None):
    found = await sensors(session)
    if not found:
        return []
    tree = await EntityTree.read(session)
    interfaces = await Interfaces.read(session)
    return readings(found, thresholds or {}, tree, interfaces)
