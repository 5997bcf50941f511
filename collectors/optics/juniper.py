"""JUNIPER-DOM-MIB jnxDomCurrentTable: one row per interface (indexed by ifIndex).

Power in hundredths of a dBm, bias in microamperes, temperature in Celsius,
each followed by its high/low alarm and warning thresholds in the same unit.
A multi-lane optic (QSFP) also has rows in jnxDomCurrentLaneTable, indexed
(ifIndex, lane from 0): its Rx/Tx power and bias are reported per lane
(lane 1..N here, so that lane 0 keeps meaning "the module"), with the module's
thresholds.
"""

from __future__ import annotations

from collectors.observations import OpticReading
from collectors.optics.entity import Interfaces
from collectors.snmp.api import SnmpSession

CURRENT = (1, 3, 6, 1, 4, 1, 2636, 3, 60, 1, 1, 1, 1)
# kind: (value column, divisor, {threshold kind: column})
SENSORS = {
    "rx_power": (5, 100, {"high_alarm": 9, "low_alarm": 10, "high_warning": 11, "low_warning": 12}),
    "bias": (6, 1_000_000, {"high_alarm": 13, "low_alarm": 14, "high_warning": 15, "low_warning": 16}),
    "tx_power": (7, 100, {"high_alarm": 17, "low_alarm": 18, "high_warning": 19, "low_warning": 20}),
    "temperature": (8, 1, {"high_alarm": 21, "low_alarm": 22, "high_warning": 23, "low_warning": 24}),
}

LANE = (1, 3, 6, 1, 4, 1, 2636, 3, 60, 1, 2, 1, 1)
LANE_SENSORS = {"rx_power": (6, 100), "bias": (7, 1_000_000), "tx_power": (8, 100)}

name = "juniper-dom"


async def read(session: SnmpSession) -> list[OpticReading]:
    columns = sorted({CURRENT + (c,) for _, (v, _, t) in SENSORS.items() for c in (v, *t.values())})
    cols = await session.walk_columns(columns)
    if not any(cols.values()):
        return []
    interfaces = await Interfaces.read(session)
    lanes = await session.walk_columns([LANE + (c,) for c, _ in LANE_SENSORS.values()])
    per_lane: dict[int, dict[int, dict[str, float]]] = {}  # ifIndex -> lane -> kind -> value
    for kind, (col, divisor) in LANE_SENSORS.items():
        for index, raw in lanes[LANE + (col,)].items():
            if len(index) == 2 and isinstance(raw, int):
                per_lane.setdefault(index[0], {}).setdefault(index[1] + 1, {})[kind] = raw / divisor
    multi = {ifindex for ifindex, by_lane in per_lane.items() if len(by_lane) > 1}
    out = []
    for kind, (value_col, divisor, limits) in SENSORS.items():
        for index, raw in sorted(cols[CURRENT + (value_col,)].items()):
            if not isinstance(raw, int) or len(index) != 1:
                continue
            raw_limits = {which: cols[CURRENT + (col,)].get(index) for which, col in limits.items()}
            if raw == 0 and not any(raw_limits.values()):
                continue  # an empty cage: Junos keeps a row of zeros for it
            thresholds = {w: v / divisor for w, v in raw_limits.items() if isinstance(v, int)}
            ifname = interfaces.names.get(index[0])
            if index[0] in multi and kind in LANE_SENSORS:
                for lane, values in sorted(per_lane[index[0]].items()):
                    if kind in values:
                        out.append(
                            OpticReading(
                                ifname,
                                index[0],
                                lane,
                                kind,
                                values[kind],
                                dict(thresholds),
                                f"{ifname or index[0]} lane {lane} {kind}",
                            )
                        )
                continue
            out.append(
                OpticReading(
                    ifname=ifname,
                    ifindex=index[0],
                    lane=0,
                    kind=kind,
                    value=raw / divisor,
                    thresholds=thresholds,
                    sensor=f"{ifname or index[0]} {kind}",
                )
            )
    return out
