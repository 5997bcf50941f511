"""Smoke test of bench/poll.py: four pollers, one agent, the same columns and varbind counts."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from tests.conftest import ROOT, require_tool

pytestmark = pytest.mark.integration


def test_bench_poll_smoke():
    require_tool("snmpbulkwalk")
    require_tool("prometheus-snmp-exporter")
    proc = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "poll.py"), "--devices", "3", "--ports", "8", "--json"],
        capture_output=True,
        text=True,
        timeout=90,
        cwd=ROOT,
    )
    assert proc.returncode == 0, proc.stderr[-2000:] + proc.stdout[-2000:]
    result = json.loads(proc.stdout)
    pollers = result["pollers"]
    assert set(pollers) == {"netmon", "netmon-pysnmp", "snmpbulkwalk", "snmp_exporter"}
    counts = {name: p["varbinds"] for name, p in pollers.items()}
    assert all(n > 0 for n in counts.values()), counts
    # 3 switches x (8 ports + 2 uplinks + 1 SVI) x 15 columns, and all four pollers agree exactly here
    assert counts == {name: 3 * 11 * 15 for name in counts}, counts
    assert not result["warnings"], result["warnings"]
    assert pollers["netmon"]["second_pass_devices"] == []
    for p in pollers.values():
        assert p["wall_s"] > 0 and p["cpu_s"] >= 0 and p["errors"] == []


def test_bench_radius_smoke():
    """bench/radius.py: `netmon run` and the bare loop both answer every packet; netmon stores every one."""
    proc = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "radius.py"), "--sessions", "200", "--json"],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=ROOT,
    )
    result = json.loads(proc.stdout)
    netmon, bare = result["netmon"], result["bare"]
    assert netmon["answered"] == bare["answered"] == 600 and netmon["lost"] == bare["lost"] == 0
    assert netmon["stored_sessions"] == netmon["stopped_sessions"] == 200 and netmon["stored_ok"] == 600
    assert netmon["rate"] > 0 and bare["rate"] > 0 and result["ratio"] > 0
    # A 600-packet run is too short to judge the rate target: only the speed warning may be there.
    assert all("target" in w for w in result["warnings"]), result["warnings"]
