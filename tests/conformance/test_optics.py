"""netmon's transceiver DOM against LibreNMS's dBm sensors, on the same real-device walks.

For every walk whose ``expected/<name>.json`` lists sensors of class ``dbm``
(LibreNMS's transceiver Rx/Tx power), netmon's optics collector must find
the same number of power readings, each with the same value and the same
thresholds within 0.01 dB, on the port the sensor is named after.

Matching: a LibreNMS row says receive or transmit in its description
("... Receive Power", "Rx Power", "DOM TX Power ..."); its port is the
interface name in that description (or, for the IE-3200's "FS Tx Power 1/1",
the slot/port numbers, which netmon's ifName "Gi1/1" ends with). LibreNMS's
four limits map to netmon's thresholds: sensor_limit = high alarm,
sensor_limit_warn = high warning, sensor_limit_low = low alarm,
sensor_limit_low_warn = low warning.
"""

from __future__ import annotations

import asyncio
import json
import re

import pytest

from collectors import optics, system
from collectors.credentials import SnmpV2cCredentials
from collectors.snmp.api import SnmpTarget
from collectors.snmp.client import SnmpClient
from tests.conformance import EXPECTED, FIXTURES, MISSING_REASON, SNMP_FIXTURES

pytestmark = pytest.mark.integration

if not FIXTURES.is_dir():
    pytest.skip(MISSING_REASON, allow_module_level=True)

LIMITS = {
    "sensor_limit": "high_alarm",
    "sensor_limit_warn": "high_warning",
    "sensor_limit_low": "low_alarm",
    "sensor_limit_low_warn": "low_warning",
}


def librenms_dbm(name: str) -> list[dict]:
    path = EXPECTED / f"{name}.json"
    if not path.is_file():
        return []
    sensors = json.loads(path.read_text()).get("sensors") or {}
    rows = (sensors.get("discovery") or {}).get("sensors") or []
    return [r for r in rows if r["sensor_class"] == "dbm"]


WALKS = sorted(
    p.name.removesuffix(".snmprec")
    for p in SNMP_FIXTURES.glob("*.snmprec")
    if librenms_dbm(p.name.removesuffix(".snmprec"))
)


def kind_of(descr: str) -> str:
    d = descr.lower()
    if re.search(r"\b(rx|receive)\b", d):
        return "rx_power"
    if re.search(r"\b(tx|transmit)\b", d):
        return "tx_power"
    raise AssertionError(f"cannot tell receive from transmit in {descr!r}")


def names_port(descr: str, ifname: str) -> bool:
    d = descr.lower()
    if ifname.lower() in d:
        return True
    numbers = re.sub(r"^[A-Za-z-]+", "", ifname)  # "Gi1/1" -> "1/1"
    return bool(numbers) and re.search(rf"(?<![\d/]){re.escape(numbers)}(?![\d/])", descr) is not None


def poll(port: int, name: str):
    async def go():
        client = SnmpClient()
        try:
            session = await client.session(SnmpTarget("127.0.0.1", port, 5.0, 1), SnmpV2cCredentials("c", name))
            info = await system.collect(session)
            return await optics.collect(session, info.object_id)
        finally:
            client.close()

    return asyncio.run(go())


def test_there_are_walks_with_optics():
    assert {"nxos_n3k-3064pq", "arista_eos_vrf", "junos_qfx5100", "ios_2960x"} <= set(WALKS)


@pytest.mark.parametrize("name", WALKS)
def test_power_readings_match_librenms(name, walk_agent, conformance_report):
    expected = librenms_dbm(name)
    readings = [r for r in poll(walk_agent.port, name) if r.kind in ("rx_power", "tx_power")]
    assert len(readings) == len(expected), f"{name}: {len(readings)} power readings, LibreNMS has {len(expected)}"
    unmatched = list(readings)
    problems = []
    for row in expected:
        kind = kind_of(row["sensor_descr"])
        candidates = [
            r
            for r in unmatched
            if r.kind == kind
            and abs(r.value - row["sensor_current"]) <= 0.01
            and names_port(row["sensor_descr"], r.ifname or "")
            and all(
                row[k] is None or (v in r.thresholds and abs(r.thresholds[v] - row[k]) <= 0.01)
                for k, v in LIMITS.items()
            )
        ]
        if not candidates:
            problems.append(f"no netmon reading for {row['sensor_descr']!r} = {row['sensor_current']}")
            continue
        unmatched.remove(candidates[0])
    assert not problems, f"{name}:\n" + "\n".join(problems)
    conformance_report(f"{name}: {len(expected)} dBm sensors match (value, thresholds, port)")
