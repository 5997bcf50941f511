"""Smoke tests of the benchmarks: bench/poll.py (four pollers, one agent), bench/wlc.py (one big controller),
bench/report.py (a few days of synthetic usage), bench/radius.py (accounting packets against a bare loop) and
bench/city.py (a small city for one cycle)."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from tests.conftest import ROOT, require_tool

pytestmark = pytest.mark.integration


def test_bench_city_smoke():
    require_tool("prometheus-snmp-exporter")
    cmd = [sys.executable, str(ROOT / "bench" / "city.py"), "--sites", "3", "--ports", "8", "--aps-per-site", "2",
           "--people", "60", "--cycles", "1", "--interval", "5", "--json"]  # fmt: skip
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=120, cwd=ROOT)
    assert proc.returncode == 0, proc.stderr[-2000:] + proc.stdout[-2000:]
    r = json.loads(proc.stdout)
    n = r["netmon"]
    assert r["config"]["sites"] == 3 and r["config"]["aps"] > 0
    assert n["cpu_s_per_cycle"] > 0 and n["rss_mb"] > 0 and n["scrape_series"] > 100
    assert n["gzip_served"] and n["gzip_bytes"] < n["scrape_bytes"]
    assert n["collector_errors"] == {} and n["deadline_misses"] == 0
    assert r["snmp_exporter"]["varbinds_per_cycle"] > 0 and r["snmp_exporter"]["errors"] == 0
    # A 3-site walk can cost snmp_exporter less than one clock tick (10 ms) of CPU: then there is no ratio.
    exporter_cpu = r["snmp_exporter"]["cpu_s_per_cycle"]
    assert (r["ratio_cpu_per_cycle"] > 0) if exporter_cpu > 0 else r["ratio_cpu_per_cycle"] is None


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


def test_bench_wlc_smoke():
    """bench/wlc.py, tiny: both controller kinds polled completely by netmon and by snmpbulkwalk, counts agreeing."""
    require_tool("snmpbulkwalk")
    proc = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "wlc.py"), "--aps", "20", "--clients", "150", "--kind", "both", "--json"],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=ROOT,
    )
    assert proc.returncode == 0, proc.stderr[-2000:] + proc.stdout[-2000:]
    result = json.loads(proc.stdout)
    assert not result["warnings"], result["warnings"]
    assert set(result["kinds"]) == {"aireos", "c9800"}
    for kind, r in result["kinds"].items():
        pollers = r["pollers"]
        assert set(pollers) == {"netmon", "snmpbulkwalk"}
        assert pollers["netmon"]["counts"] == {
            "aps": 20,
            "radios": pollers["netmon"]["counts"]["radios"],
            "wlans": 2,
            "clients": 150,
            "profile": kind,
        }
        assert pollers["netmon"]["counts"]["radios"] >= 40
        assert pollers["netmon"]["varbinds"] == pollers["snmpbulkwalk"]["varbinds"] == r["model"]["rows"] > 150 * 10
        for p in pollers.values():
            assert p["wall_s"] > 0 and p["cpu_s"] >= 0 and p["requests"] > 0
        assert r["ratios"]["netmon"]["wall"] > 0


def test_bench_report_smoke():
    """bench/report.py end to end on three small days: synthesis, floors, aggregation, three renderings."""
    proc = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "report.py"), "--days", "3", "--users-per-day", "300", "--json"],
        capture_output=True,
        text=True,
        timeout=180,
        cwd=ROOT,
    )
    assert proc.returncode == 0, proc.stderr[-2000:] + proc.stdout[-2000:]
    result = json.loads(proc.stdout)
    assert result["aggregated_days"] == 3 and result["sessions"] > 500
    assert result["aggregation_s"] > 0 and result["sessions_per_s"] > 0
    assert result["python_read_all_s"] > 0
    for fmt in ("html", "csv", "pdf"):
        assert result[f"render_{fmt}_s"] > 0 and result[f"{fmt}_bytes"] > 1000
    assert 0 < result["unique_clients"] <= result["sessions"]


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
