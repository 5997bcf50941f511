"""CISCO-ENTITY-SENSOR-MIB: IOS, IOS-XE, NX-OS transceiver DOM.

Values in entSensorValueTable with their own type, scale and precision;
thresholds in entSensorThresholdTable as (severity, relation, value) rows:
a "less than" row is a low threshold, "greater than" a high one; severity
minor is a warning, major and critical an alarm.
"""

from __future__ import annotations

from collectors.optics.entity import EntityTree, Interfaces, RawSensor, readings
from collectors.snmp.api import SnmpSession

ENT_SENSOR = (1, 3, 6, 1, 4, 1, 9, 9, 91, 1, 1, 1, 1)
TYPE, SCALE, PRECISION, VALUE = (ENT_SENSOR + (n,) for n in (1, 2, 3, 4))
THRESHOLD = (1, 3, 6, 1, 4, 1, 9, 9, 91, 1, 2, 1, 1)
SEVERITY, RELATION, LIMIT = (THRESHOLD + (n,) for n in (2, 3, 4))

_LOW, _HIGH = (1, 2), (3, 4)  # lessThan, lessOrEqual / greaterThan, greaterOrEqual
_WARNING, _ALARM = (10,), (20, 30)  # minor / major, critical

name = "cisco-entity-sensor"


def threshold_kind(severity: int, relation: int) -> str | None:
    side = "low" if relation in _LOW else "high" if relation in _HIGH else None
    level = "warning" if severity in _WARNING else "alarm" if severity in _ALARM else None
    return f"{side}_{level}" if side and level else None


async def read(session: SnmpSession):
    cols = await session.walk_columns([TYPE, SCALE, PRECISION, VALUE])
    sensors = {}
    for index, kind in cols[TYPE].items():
        i = index[0]
        value = cols[VALUE].get(index)
        if not isinstance(kind, int) or not isinstance(value, int):
            continue
        sensors[i] = RawSensor(kind, cols[SCALE].get(index) or 9, cols[PRECISION].get(index) or 0, value)
    if not sensors:
        return []
    limits = await session.walk_columns([SEVERITY, RELATION, LIMIT])
    thresholds: dict[int, dict[str, int]] = {}
    for index, value in limits[LIMIT].items():
        if len(index) != 2 or not isinstance(value, int):
            continue
        kind = threshold_kind(limits[SEVERITY].get(index, 0), limits[RELATION].get(index, 0))
        if kind:
            thresholds.setdefault(index[0], {})[kind] = value
    tree = await EntityTree.read(session)
    interfaces = await Interfaces.read(session)
    return readings(sensors, thresholds, tree, interfaces)
