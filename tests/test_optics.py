"""Optics profiles on synthetic agents: units, lanes, thresholds, ports."""

from __future__ import annotations

import asyncio

import pytest
from hypothesis import given
from hypothesis import strategies as st

from collectors import optics, system
from collectors.credentials import SnmpV2cCredentials
from collectors.optics.entity import scaled, watts_to_dbm
from collectors.snmp.api import SnmpTarget
from collectors.snmp.client import SnmpClient
from netmon import lab as lab_mod

DOM = "1.3.6.1.4.1.2636.3.60.1.1.1.1"
LANE = "1.3.6.1.4.1.2636.3.60.1.2.1.1"


def _junos_qsfp() -> list[str]:
    """A QFX with one 4-lane 40G optic on et-0/0/48 (ifIndex 600) and an empty cage (601)."""
    recs = [
        "1.3.6.1.2.1.1.2.0|6|1.3.6.1.4.1.2636.1.1.1.4.82.5",
        "1.3.6.1.2.1.31.1.1.1.1.600|4|et-0/0/48",
        "1.3.6.1.2.1.31.1.1.1.1.601|4|et-0/0/49",
    ]
    module = {5: -310, 6: 6100, 7: -90, 8: 38, 9: 300, 10: -1400, 11: 200, 12: -1200}
    module |= {13: 10000, 14: 500, 15: 9000, 16: 1000, 17: 400, 18: -900, 19: 300, 20: -800}
    module |= {21: 75, 22: -5, 23: 70, 24: 0}
    for col, value in module.items():
        recs.append(f"{DOM}.{col}.600|2|{value}")
        recs.append(f"{DOM}.{col}.601|2|0")
    for lane, (rx, bias, tx) in enumerate(
        [(-250, 6000, -80), (-260, 6100, -85), (-1310, 6200, -90), (-240, 5900, -95)]
    ):
        recs += [f"{LANE}.6.600.{lane}|2|{rx}", f"{LANE}.7.600.{lane}|2|{bias}", f"{LANE}.8.600.{lane}|2|{tx}"]
    return sorted(recs, key=lambda r: tuple(int(x) for x in r.split("|")[0].split(".")))


@pytest.fixture(scope="module")
def agent(tmp_path_factory):
    data = tmp_path_factory.mktemp("optics-data")
    (data / "qfx.snmprec").write_text("\n".join(_junos_qsfp()) + "\n")
    sim = lab_mod.Simulator(data, lab_mod.free_udp_port(), tmp_path_factory.mktemp("optics"), v3_users=[]).start()
    yield sim.port
    sim.stop()


def test_juniper_multi_lane_optic_reports_each_lane(agent):
    async def go():
        client = SnmpClient()
        try:
            session = await client.session(SnmpTarget("127.0.0.1", agent), SnmpV2cCredentials("c", "qfx"))
            return await optics.collect(session, (await system.collect(session)).object_id)
        finally:
            client.close()

    readings = asyncio.run(go())
    rx = {(r.ifname, r.lane): r.value for r in readings if r.kind == "rx_power"}
    assert rx == {("et-0/0/48", 1): -2.5, ("et-0/0/48", 2): -2.6, ("et-0/0/48", 3): -13.1, ("et-0/0/48", 4): -2.4}
    lane3 = next(r for r in readings if r.kind == "rx_power" and r.lane == 3)
    assert lane3.thresholds == {"high_alarm": 3.0, "low_alarm": -14.0, "high_warning": 2.0, "low_warning": -12.0}
    assert lane3.value < lane3.thresholds["low_warning"]  # the one dirty lane is below its warning
    bias = sorted(r.value for r in readings if r.kind == "bias")
    assert bias == [0.0059, 0.006, 0.0061, 0.0062]
    module = {r.kind: (r.lane, r.value) for r in readings if r.kind == "temperature"}
    assert module == {"temperature": (0, 38.0)}  # module-wide sensors stay at lane 0
    assert all(r.ifname == "et-0/0/48" for r in readings)  # the empty cage reports nothing


@given(value=st.integers(-(10**6), 10**6), scale=st.integers(1, 17), precision=st.integers(0, 9))
def test_scaling_is_exact(value, scale, precision):
    from decimal import Decimal

    expected = Decimal(value) * Decimal(10) ** ((scale - 9) * 3) / Decimal(10) ** precision
    assert scaled(value, scale, precision) == expected


def test_watts_to_dbm():
    from decimal import Decimal

    assert watts_to_dbm(Decimal("0.001")) == pytest.approx(0.0)
    assert watts_to_dbm(Decimal("0.0002210")) == pytest.approx(-6.556, abs=0.001)  # Arista's Ethernet21 Tx
    assert watts_to_dbm(Decimal(0)) is None and watts_to_dbm(Decimal(-1)) is None
