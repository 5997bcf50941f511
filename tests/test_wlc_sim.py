"""The lab's simulated Wi-Fi controller: a city whose residents come, roam and go."""

from __future__ import annotations

import subprocess

from netmon import lab as lab_mod
from netmon.lab.wlc_agent import REALMS, ControllerAgent, ControllerModel
from tests.conftest import require_tool

MODEL = ControllerModel("wlc-city", ["city-hall", "library", "arena"], aps_per_site=20, people=3000)


def test_population_changes_over_time_but_is_reproducible():
    t0 = 1_800_000_000.0
    now = {c["mac"]: c for c in MODEL.clients(t0)}
    later = {c["mac"]: c for c in MODEL.clients(t0 + 20 * MODEL.slot)}
    assert now == {
        c["mac"]: c for c in ControllerModel("wlc-city", ["city-hall", "library", "arena"], 20, 3000).clients(t0)
    }
    stayed, left, came = now.keys() & later.keys(), now.keys() - later.keys(), later.keys() - now.keys()
    assert left and came and stayed  # people come and go, some stay
    assert 700 < len(now) < 1400  # about a third of 3,000 residents online
    roamed = [m for m in stayed if now[m]["ap"] != later[m]["ap"]]
    assert roamed  # those who stayed moved between APs
    eduroam = [c for c in now.values() if c["wlan"] == 2]
    assert 0.1 < len(eduroam) / len(now) < 0.25
    assert {c["user"].split("@")[1] for c in eduroam} == set(REALMS)
    assert all(c["user"] == "" for c in now.values() if c["wlan"] == 1)


def test_net_snmp_walks_the_simulated_controller():
    """A second, independent SNMP implementation reads the agent: the encoding is not only netmon-compatible."""
    exe = require_tool("snmpbulkwalk")
    port = lab_mod.free_udp_port()
    with ControllerAgent(MODEL, port):
        out = subprocess.run(
            [exe, "-v2c", "-c", "wlc-city", "-On", "-Cr20", f"127.0.0.1:{port}", "1.3.6.1.4.1.14179.2.2.1.1.3"],
            capture_output=True, text=True, timeout=30, check=True,
        ).stdout  # fmt: skip
        wrong = subprocess.run(
            [exe, "-v2c", "-c", "guess", "-t", "0.3", "-r", "0", f"127.0.0.1:{port}", "1.3.6.1.2.1.1"],
            capture_output=True, text=True, timeout=30,
        )  # fmt: skip
    names = [line.split('"')[1] for line in out.splitlines() if '"' in line]
    assert len(names) == 60 and names[0].startswith("ap-")
    assert wrong.returncode != 0  # a wrong community gets no answer
