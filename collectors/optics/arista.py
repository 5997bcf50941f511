"""Arista EOS: ENTITY-SENSOR-MIB values, thresholds from ARISTA-ENTITY-SENSOR-MIB.

aristaEntSensorThresholdTable is indexed like entPhySensorTable and holds
raw values in the sensor's own scale and precision (power in watts, which
the core turns into dBm like the value itself).
"""

from __future__ import annotations

from collectors.optics import entity_sensor
from collectors.snmp.api import SnmpSession

THRESHOLD = (1, 3, 6, 1, 4, 1, 30065, 3, 12, 1, 1, 1)
COLUMNS = {
    THRESHOLD + (1,): "low_warning",
    THRESHOLD + (2,): "low_alarm",
    THRESHOLD + (3,): "high_warning",
    THRESHOLD + (4,): "high_alarm",
}

name = "arista"


async def read(session: SnmpSession):
    cols = await session.walk_columns(list(COLUMNS))
    thresholds: dict[int, dict[str, int]] = {}
    for column, kind in COLUMNS.items():
        for index, value in cols[column].items():
            if isinstance(value, int) and len(index) == 1:
                thresholds.setdefault(index[0], {})[kind] = value
    return await entity_sensor.read(session, thresholds)
