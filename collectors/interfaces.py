"""IF-MIB interfaces: ifTable + ifXTable, 64-bit counters with 32-bit fallback.

Walked declaratively, in the spirit of snmp_exporter modules: the first pass
asks for the columns every modern agent has (ifXTable names, HC counters,
ifHighSpeed, plus the ifTable columns that have no ifXTable twin). Only when
an interface lacks one of them does a second pass walk the older column
(ifDescr for a name, ifSpeed, the 32-bit octet/packet counters).
"""

from __future__ import annotations

from collectors.base import Context, SnmpCollector
from collectors.observations import Interfaces, InterfaceSample
from collectors.snmp.api import OID, SnmpSession

IF_TABLE = (1, 3, 6, 1, 2, 1, 2, 2, 1)
IF_X_TABLE = (1, 3, 6, 1, 2, 1, 31, 1, 1, 1)

# ifTable columns
IF_DESCR = IF_TABLE + (2,)
IF_TYPE = IF_TABLE + (3,)
IF_SPEED = IF_TABLE + (5,)
IF_ADMIN_STATUS = IF_TABLE + (7,)
IF_OPER_STATUS = IF_TABLE + (8,)
IF_IN_OCTETS = IF_TABLE + (10,)
IF_IN_UCAST = IF_TABLE + (11,)
IF_IN_DISCARDS = IF_TABLE + (13,)
IF_IN_ERRORS = IF_TABLE + (14,)
IF_OUT_OCTETS = IF_TABLE + (16,)
IF_OUT_UCAST = IF_TABLE + (17,)
IF_OUT_DISCARDS = IF_TABLE + (19,)
IF_OUT_ERRORS = IF_TABLE + (20,)
# ifXTable columns
IF_NAME = IF_X_TABLE + (1,)
IF_HC_IN_OCTETS = IF_X_TABLE + (6,)
IF_HC_IN_UCAST = IF_X_TABLE + (7,)
IF_HC_OUT_OCTETS = IF_X_TABLE + (10,)
IF_HC_OUT_UCAST = IF_X_TABLE + (11,)
IF_HIGH_SPEED = IF_X_TABLE + (15,)
IF_ALIAS = IF_X_TABLE + (18,)
IF_COUNTER_DISCONTINUITY = IF_X_TABLE + (19,)

name = "interfaces"

FIRST_PASS: tuple[OID, ...] = (
    IF_TYPE,
    IF_ADMIN_STATUS,
    IF_OPER_STATUS,
    IF_IN_DISCARDS,
    IF_IN_ERRORS,
    IF_OUT_DISCARDS,
    IF_OUT_ERRORS,
    IF_NAME,
    IF_ALIAS,
    IF_HIGH_SPEED,
    IF_HC_IN_OCTETS,
    IF_HC_OUT_OCTETS,
    IF_HC_IN_UCAST,
    IF_HC_OUT_UCAST,
    IF_COUNTER_DISCONTINUITY,
)
COUNTERS_32 = (IF_IN_OCTETS, IF_OUT_OCTETS, IF_IN_UCAST, IF_OUT_UCAST)


def _text(value) -> str:
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace").replace("\x00", "").strip()
    return ""


def _int(value) -> int | None:
    return value if isinstance(value, int) else None


def _ifindex(index: OID) -> int | None:
    return index[0] if len(index) == 1 else None


async def collect(session: SnmpSession) -> list[InterfaceSample]:
    cols = await session.walk_columns(FIRST_PASS)
    indexes = sorted({i for column in (IF_TYPE, IF_ADMIN_STATUS, IF_OPER_STATUS, IF_NAME) for i in cols[column]})
    need: list[OID] = []
    if any(not _text(cols[IF_NAME].get(i)) for i in indexes):
        need.append(IF_DESCR)
    # ifHighSpeed 0 means "unknown or below 1 Mb/s": ifSpeed then has the real figure.
    if any(not cols[IF_HIGH_SPEED].get(i) for i in indexes):
        need.append(IF_SPEED)
    if any(cols[IF_HC_IN_OCTETS].get(i) is None for i in indexes):
        need.extend(COUNTERS_32)
    if need:
        cols.update(await session.walk_columns(need))

    samples = []
    for index in indexes:
        ifindex = _ifindex(index)
        if ifindex is None:
            continue
        descr = _text(cols.get(IF_DESCR, {}).get(index))
        ifname = _text(cols[IF_NAME].get(index)) or descr or f"ifIndex{ifindex}"
        high_speed = _int(cols[IF_HIGH_SPEED].get(index))
        if high_speed:
            speed = high_speed * 1_000_000
        else:
            # ifSpeed is only used below ifHighSpeed's resolution (it saturates at 4294967295 above 4 Gb/s).
            speed = _int(cols.get(IF_SPEED, {}).get(index))
            if not speed and high_speed == 0:
                speed = 0
        hc = cols[IF_HC_IN_OCTETS].get(index) is not None
        if hc:
            in_oct, out_oct = cols[IF_HC_IN_OCTETS].get(index), cols[IF_HC_OUT_OCTETS].get(index)
            in_uc, out_uc = cols[IF_HC_IN_UCAST].get(index), cols[IF_HC_OUT_UCAST].get(index)
        else:
            in_oct, out_oct = cols.get(IF_IN_OCTETS, {}).get(index), cols.get(IF_OUT_OCTETS, {}).get(index)
            in_uc, out_uc = cols.get(IF_IN_UCAST, {}).get(index), cols.get(IF_OUT_UCAST, {}).get(index)
        samples.append(
            InterfaceSample(
                ifindex=ifindex,
                name=ifname,
                descr=descr,
                alias=_text(cols[IF_ALIAS].get(index)),
                type=_int(cols[IF_TYPE].get(index)) or 1,
                speed_bps=speed,
                admin_status=_int(cols[IF_ADMIN_STATUS].get(index)) or 3,
                oper_status=_int(cols[IF_OPER_STATUS].get(index)) or 4,
                in_octets=_int(in_oct),
                out_octets=_int(out_oct),
                in_ucast_pkts=_int(in_uc),
                out_ucast_pkts=_int(out_uc),
                in_errors=_int(cols[IF_IN_ERRORS].get(index)),
                out_errors=_int(cols[IF_OUT_ERRORS].get(index)),
                in_discards=_int(cols[IF_IN_DISCARDS].get(index)),
                out_discards=_int(cols[IF_OUT_DISCARDS].get(index)),
                counter_bits=64 if hc else 32,
                discontinuity_ticks=_int(cols[IF_COUNTER_DISCONTINUITY].get(index)),
            )
        )
    return samples


async def _read(session: SnmpSession, context: Context) -> Interfaces:
    return Interfaces(await collect(session))


COLLECTOR = SnmpCollector(name, "poll", Interfaces, _read)
