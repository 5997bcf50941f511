"""SNMPv2-MIB ``system`` group: sysDescr, sysObjectID, sysUpTime, sysName."""

from __future__ import annotations

from collectors.base import Context, SnmpCollector
from collectors.observations import SystemInfo
from collectors.snmp.api import SnmpError, SnmpSession, oid_str

SYS_DESCR = (1, 3, 6, 1, 2, 1, 1, 1, 0)
SYS_OBJECT_ID = (1, 3, 6, 1, 2, 1, 1, 2, 0)
SYS_UPTIME = (1, 3, 6, 1, 2, 1, 1, 3, 0)
SYS_NAME = (1, 3, 6, 1, 2, 1, 1, 5, 0)

name = "system"


def _text(value) -> str:
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace").replace("\x00", "").strip()
    return "" if value is None else str(value)


async def collect(session: SnmpSession) -> SystemInfo:
    values = await session.get([SYS_DESCR, SYS_OBJECT_ID, SYS_UPTIME, SYS_NAME])
    if all(v is None for v in values.values()):
        raise SnmpError("agent has no system group")
    object_id = values.get(SYS_OBJECT_ID)
    uptime = values.get(SYS_UPTIME)
    return SystemInfo(
        descr=_text(values.get(SYS_DESCR)),
        object_id=oid_str(object_id) if isinstance(object_id, tuple) else "",
        uptime_ticks=uptime if isinstance(uptime, int) else None,
        name=_text(values.get(SYS_NAME)),
    )


async def _read(session: SnmpSession, context: Context) -> SystemInfo:
    return await collect(session)


# The gate: a device that does not answer its system group is not asked for anything else (one timeout, not two).
COLLECTOR = SnmpCollector(name, "poll", SystemInfo, _read, gate=True)
