"""Hardware inventory: ENTITY-MIB entPhysicalTable, and Aruba-CX's transceiver table.

What an engineer needs on site: chassis, modules, power supplies, fans and
the transceivers in the ports, each with model, serial and firmware. Sensors
and empty containers are left out: they are not things one orders or swaps.
"""

from __future__ import annotations

from collectors.base import Context, SnmpCollector
from collectors.observations import Hardware, HardwareItem
from collectors.optics.entity import ENT_PHYSICAL, text
from collectors.snmp.api import SnmpSession

name = "hardware"

COLUMNS = {n: ENT_PHYSICAL + (n,) for n in (2, 4, 5, 7, 8, 9, 10, 11, 13)}
CLASSES = {3: "chassis", 6: "powerSupply", 7: "fan", 9: "module", 10: "port", 11: "stack"}
# ARUBAWIRED-TRANSCEIVER-MIB arubaWiredTransceiverTable, indexed by ifIndex
ARUBA_CX = (1, 3, 6, 1, 4, 1, 47196, 4, 1, 1, 3, 27, 1, 1, 1, 1)
ARUBA_COLUMNS = {n: ARUBA_CX + (n,) for n in (2, 3, 4, 5, 6)}


async def collect(session: SnmpSession, object_id: str = "") -> list[HardwareItem]:
    cols = await session.walk_columns(list(COLUMNS.values()))
    items = []
    for index, klass in sorted(cols[COLUMNS[5]].items()):
        if len(index) != 1 or klass not in CLASSES:
            continue

        def field(n: int, index=index) -> str:
            return text(cols[COLUMNS[n]].get(index))

        model, serial = field(13), field(11)
        if klass == 10 and not (model or serial):
            continue  # an empty port: nothing plugged in
        parent = cols[COLUMNS[4]].get(index)
        items.append(
            HardwareItem(
                index=index[0],
                klass="transceiver" if klass == 10 else CLASSES[klass],
                name=field(7),
                description=field(2),
                model=model,
                serial=serial,
                firmware=field(9),
                software=field(10),
                hardware_rev=field(8),
                contained_in=parent if isinstance(parent, int) and parent else None,
            )
        )
    if object_id.startswith("1.3.6.1.4.1.47196."):
        items += await _aruba_cx(session)
    return items


async def _aruba_cx(session: SnmpSession) -> list[HardwareItem]:
    cols = await session.walk_columns(list(ARUBA_COLUMNS.values()))
    out = []
    for index, port in sorted(cols[ARUBA_COLUMNS[2]].items()):
        out.append(
            HardwareItem(
                index=None,
                klass="transceiver",
                name=text(port),
                description=text(cols[ARUBA_COLUMNS[3]].get(index)),
                model=text(cols[ARUBA_COLUMNS[4]].get(index)),
                serial=text(cols[ARUBA_COLUMNS[5]].get(index)),
                hardware_rev=text(cols[ARUBA_COLUMNS[6]].get(index)),
            )
        )
    return out


async def _read(session: SnmpSession, context: Context) -> Hardware:
    return Hardware(await collect(session, context.object_id))


COLLECTOR = SnmpCollector(name, "hardware", Hardware, _read)
