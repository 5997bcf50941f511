"""Transceiver DOM: Rx/Tx power (dBm), temperature, bias, voltage, with thresholds.

One small profile per vendor MIB over a shared core (:mod:`collectors.optics.entity`),
picked by the enterprise number in sysObjectID the way NAV's ipdevpoll picks
its sensor plugins. A device of another vendor gets the standard
ENTITY-SENSOR-MIB profile.
"""

from __future__ import annotations

from collectors.base import Context, SnmpCollector
from collectors.observations import OpticReading, Optics
from collectors.optics import arista, cisco, entity_sensor, juniper
from collectors.snmp.api import SnmpSession

name = "optics"

ENTERPRISE = (1, 3, 6, 1, 4, 1)
PROFILES = {9: cisco, 2636: juniper, 30065: arista}


def profile_for(object_id: str):
    parts = tuple(int(x) for x in object_id.split(".") if x.isdigit()) if object_id else ()
    if parts[: len(ENTERPRISE)] == ENTERPRISE and len(parts) > len(ENTERPRISE):
        return PROFILES.get(parts[len(ENTERPRISE)], entity_sensor)
    return entity_sensor


async def collect(session: SnmpSession, object_id: str = "") -> list[OpticReading]:
    return await profile_for(object_id).read(session)


async def _read(session: SnmpSession, context: Context) -> Optics:
    return Optics(await collect(session, context.object_id))


COLLECTOR = SnmpCollector(name, "optics", Optics, _read)
