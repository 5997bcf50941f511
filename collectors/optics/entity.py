"""What every optics profile shares: the ENTITY-MIB tree, port matching, units.

A transceiver sensor is an entPhysicalEntry somewhere below a port. Its
interface is found, in order of trust, from:

1. entAliasMappingIdentifier on the sensor or one of its ancestors
   (entPhysicalContainedIn, walked upwards) pointing at an ifIndex;
2. an ancestor whose entPhysicalName is an interface's ifName or ifDescr;
3. an interface name inside the sensor's own name or description
   ("DOM TX Power Sensor for Ethernet21", "Gi1/0/52 Receive Power").

Values are scaled exactly with Decimal (EntitySensorDataScale and precision),
and a power reported in watts becomes dBm (10 log10 of milliwatts).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from decimal import Decimal

from collectors.interfaces import IF_DESCR, IF_NAME
from collectors.observations import OpticReading
from collectors.snmp.api import SnmpSession

ENT_PHYSICAL = (1, 3, 6, 1, 2, 1, 47, 1, 1, 1, 1)
ENT_DESCR = ENT_PHYSICAL + (2,)
ENT_CONTAINED_IN = ENT_PHYSICAL + (4,)
ENT_CLASS = ENT_PHYSICAL + (5,)
ENT_NAME = ENT_PHYSICAL + (7,)
ENT_ALIAS_MAPPING = (1, 3, 6, 1, 2, 1, 47, 1, 3, 2, 1, 2)
IF_INDEX_OID = (1, 3, 6, 1, 2, 1, 2, 2, 1, 1)
MAX_DEPTH = 12  # containment is a tree; a loop in a broken agent's table must not hang us

# EntitySensorDataScale (RFC 3433) and CISCO-ENTITY-SENSOR-MIB SensorDataScale share these values.
SCALE_EXPONENT = {n: (n - 9) * 3 for n in range(1, 18)}

_LANE = re.compile(r"\blane\s*(\d+)", re.I)
_FOR_PORT = re.compile(r"\bfor\s+(\S+)\s*$", re.I)
_ABBREVIATIONS = {
    "gi": "GigabitEthernet",
    "te": "TenGigabitEthernet",
    "tw": "TwentyFiveGigE",
    "fo": "FortyGigabitEthernet",
    "hu": "HundredGigE",
    "et": "Ethernet",
    "eth": "Ethernet",
}


def scaled(value: int, scale: int, precision: int) -> Decimal:
    """value x 10^(3 x (scale - 9)) / 10^precision, exactly."""
    return Decimal(value).scaleb(SCALE_EXPONENT.get(scale, 0) - precision)


def watts_to_dbm(watts: Decimal) -> float | None:
    """dBm of a power in watts; None for zero or negative power (no light is not a number in dBm)."""
    if watts <= 0:
        return None
    return 10 * math.log10(float(watts) * 1000)


def text(value) -> str:
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace").replace("\x00", "").strip()
    return "" if value is None else str(value)


def lane_of(*names: str) -> int:
    for n in names:
        m = _LANE.search(n or "")
        if m:
            return int(m.group(1))
    return 0


@dataclass
class Interfaces:
    """ifIndex <-> names, for attaching a sensor to its port."""

    names: dict[int, str] = field(default_factory=dict)  # ifIndex -> ifName (or ifDescr)
    by_name: dict[str, int] = field(default_factory=dict)  # lower-cased ifName, ifDescr, expansions -> ifIndex

    @classmethod
    async def read(cls, session: SnmpSession) -> Interfaces:
        cols = await session.walk_columns([IF_NAME, IF_DESCR])
        self = cls()
        for column in (IF_DESCR, IF_NAME):  # ifName wins for the display name
            for index, value in cols[column].items():
                name = text(value)
                if len(index) != 1 or not name:
                    continue
                self.names[index[0]] = name
                self.by_name.setdefault(name.lower(), index[0])
        return self

    def find(self, name: str) -> int | None:
        key = name.strip().lower()
        if key in self.by_name:
            return self.by_name[key]
        m = re.match(r"([a-z]+)([\d/.:]+)$", key)
        if m and m.group(1) in _ABBREVIATIONS:
            return self.by_name.get((_ABBREVIATIONS[m.group(1)] + m.group(2)).lower())
        return None


@dataclass
class EntityTree:
    descr: dict[int, str] = field(default_factory=dict)
    name: dict[int, str] = field(default_factory=dict)
    klass: dict[int, int] = field(default_factory=dict)
    parent: dict[int, int] = field(default_factory=dict)
    alias: dict[int, int] = field(default_factory=dict)  # entPhysicalIndex -> ifIndex

    @classmethod
    async def read(cls, session: SnmpSession) -> EntityTree:
        cols = await session.walk_columns([ENT_DESCR, ENT_CONTAINED_IN, ENT_CLASS, ENT_NAME])
        self = cls()
        for index, value in cols[ENT_DESCR].items():
            self.descr[index[0]] = text(value)
        for index, value in cols[ENT_NAME].items():
            self.name[index[0]] = text(value)
        for index, value in cols[ENT_CLASS].items():
            if isinstance(value, int):
                self.klass[index[0]] = value
        for index, value in cols[ENT_CONTAINED_IN].items():
            if isinstance(value, int) and value:
                self.parent[index[0]] = value
        aliases = (await session.walk_columns([ENT_ALIAS_MAPPING]))[ENT_ALIAS_MAPPING]
        for index, value in aliases.items():
            # index: entPhysicalIndex, entAliasLogicalIndexOrZero; value: ifIndex's instance OID
            if (
                isinstance(value, tuple)
                and value[: len(IF_INDEX_OID)] == IF_INDEX_OID
                and len(value) > len(IF_INDEX_OID)
            ):
                self.alias.setdefault(index[0], value[-1])
        return self

    def ancestors(self, index: int) -> list[int]:
        """The entity itself, then its containers upwards."""
        out, seen = [index], {index}
        while len(out) < MAX_DEPTH and out[-1] in self.parent:
            up = self.parent[out[-1]]
            if up in seen:
                break
            out.append(up)
            seen.add(up)
        return out

    def label(self, index: int) -> str:
        return self.name.get(index) or self.descr.get(index) or str(index)


def port_of(index: int, tree: EntityTree, interfaces: Interfaces, *names: str) -> int | None:
    """The ifIndex a sensor measures, or None when it is not on a port."""
    chain = tree.ancestors(index) if index in tree.descr or index in tree.parent else [index]
    for entity in chain:
        if entity in tree.alias and tree.alias[entity] in interfaces.names:
            return tree.alias[entity]
    for entity in chain:
        for candidate in (tree.name.get(entity, ""), tree.descr.get(entity, "")):
            found = interfaces.find(candidate) if candidate else None
            if found is not None:
                return found
    for candidate in (*names, *(tree.descr.get(e, "") for e in chain)):
        m = _FOR_PORT.search(candidate or "")
        if m and (found := interfaces.find(m.group(1))) is not None:
            return found
        first = (candidate or "").split(" ", 1)[0]
        if first and (found := interfaces.find(first)) is not None:
            return found
    return None


def classify(kind_hint: str, *names: str) -> str | None:
    """rx_power / tx_power for a power sensor, from its name; None when it cannot tell."""
    if kind_hint != "power":
        return kind_hint
    joined = " ".join(names).lower()
    if re.search(r"\b(rx|receive|input)\b", joined) or "rx power" in joined or "receive" in joined:
        return "rx_power"
    if re.search(r"\b(tx|transmit|output)\b", joined) or "tx power" in joined or "transmit" in joined:
        return "tx_power"
    return None


# EntitySensorDataType (RFC 3433), the same numbers in CISCO-ENTITY-SENSOR-MIB.
SENSOR_TYPES = {3: "voltage", 4: "voltage", 5: "bias", 6: "power", 8: "temperature", 14: "power"}
WATTS, DBM = 6, 14


@dataclass(frozen=True)
class RawSensor:
    """One sensor as an entity-sensor table gives it, before units and ports."""

    type: int
    scale: int
    precision: int
    value: int


def convert(raw: RawSensor, number: int) -> float | None:
    """A value (or threshold) of this sensor in base units; power always in dBm."""
    v = scaled(number, raw.scale, raw.precision)
    if raw.type == WATTS:
        return watts_to_dbm(v)
    return float(v)


def readings(
    sensors: dict[int, RawSensor],
    thresholds: dict[int, dict[str, int]],
    tree: EntityTree,
    interfaces: Interfaces,
) -> list[OpticReading]:
    """Transceiver readings from entity sensors: those on a port, of a kind we know, in base units."""
    out = []
    for index, raw in sorted(sensors.items()):
        hint = SENSOR_TYPES.get(raw.type)
        if hint is None:
            continue
        names = [tree.descr.get(index, ""), tree.name.get(index, "")]
        ifindex = port_of(index, tree, interfaces, *names)
        if ifindex is None:
            continue  # a chassis, PSU or CPU sensor: not an optic
        kind = classify(hint, *names)
        if kind is None:
            continue
        value = convert(raw, raw.value)
        if value is None:
            continue  # no light: 0 mW has no dBm; the port's oper status tells the story
        limits = {}
        for which, number in thresholds.get(index, {}).items():
            converted = convert(raw, number)
            if converted is not None:
                limits[which] = converted
        chain_names = [tree.label(e) for e in tree.ancestors(index)]
        out.append(
            OpticReading(
                ifname=interfaces.names.get(ifindex),
                ifindex=ifindex,
                lane=lane_of(*names, *chain_names),
                kind=kind,
                value=value,
                thresholds=limits,
                sensor=tree.label(index),
            )
        )
    return out
