"""The command line as an operator uses it: poll tables, exit codes, the demo."""

from __future__ import annotations

import os
import subprocess
import time
import urllib.request
from pathlib import Path

from prometheus_client.parser import text_string_to_metric_families

from exporters.prometheus import exposition
from netmon import config as config_mod
from netmon import lab as lab_mod
from netmon.store import Store
from tests.conftest import VENV_BIN, run_netmon


def test_poll_no_store_takes_the_run_path_ssh_only_controller_included(lab, tmp_path):
    """`netmon poll --no-store` polls as `netmon run` does: the SSH-only controller over SSH, and nothing is written."""
    common = ["--config", str(lab.config_path), "--db", str(tmp_path / "n.db")]
    assert run_netmon(*common, "inventory", "import", str(lab.inventory_path)).returncode == 0
    r = run_netmon(*common, "poll", "--no-store", "--all")
    assert r.returncode == 0, r.stdout + r.stderr
    rows = {line.split()[0]: line.split() for line in r.stdout.splitlines()[2:]}
    assert set(rows) == {d.hostname for d in lab.devices}
    assert all(row[2] == "up" for row in rows.values()), r.stdout
    assert "no SNMP profile" not in r.stdout + r.stderr and rows["wlc-annex"][3] == "wlc-annex"
    store = Store(tmp_path / "n.db")
    try:
        assert store.device_states()[0]["last_poll"] is None and store.collector_states() == []
    finally:
        store.close()


def test_poll_all_and_one(lab, tmp_path):
    common = ["--config", str(lab.config_path), "--db", str(tmp_path / "n.db")]
    assert run_netmon(*common, "inventory", "import", str(lab.inventory_path)).returncode == 0
    r = run_netmon(*common, "poll", "--all")
    assert r.returncode == 0, r.stdout + r.stderr
    lines = r.stdout.splitlines()
    assert lines[0].split()[:3] == ["device", "site", "status"]
    assert sum(line.split()[2] == "up" for line in lines[2:]) == len(lab.devices)
    # every device of the lab, the SSH-only controller too
    assert {line.split()[0] for line in lines[2:] if line.split()[2] == "up"} >= {"wlc-city", "wlc-9800", "wlc-annex"}
    sw = next(d for d in lab.devices if d.v3)  # the SNMPv3 authPriv switch
    r = run_netmon(*common, "poll", sw.hostname)
    assert r.returncode == 0, r.stderr
    assert "Te1/1/1" in r.stdout and "fibre to" in r.stdout
    r = run_netmon(*common, "db", "events")
    assert r.returncode == 0
    # LLDP saw the fibre ring: one netmon_link_up series per inter-site fibre, with its declared length.
    families = {f.name: f for f in text_string_to_metric_families(exposition(tmp_path / "n.db", False))}
    switches = [d.hostname for d in lab.devices if d.role == "switch"]
    links = {(s.labels["a_device"], s.labels["b_device"]): s.value for s in families["netmon_link_up"].samples}
    assert len(links) == len(switches) and set(links.values()) == {1.0}
    assert {h for pair in links for h in pair} == set(switches)
    lengths = [s.value for s in families["netmon_link_length_meters"].samples]
    assert len(lengths) == len(switches) and all(1500 <= v <= 9500 for v in lengths)
    # The first poll also read optics and hardware (their own slower schedules start due).
    r = run_netmon(*common, "inventory", "hardware", "city-hall")
    assert r.returncode == 0, r.stderr
    chassis = [line.split() for line in r.stdout.splitlines() if " chassis " in line]
    assert [c[:2] for c in chassis] == [["city-hall", "sw-city-hall"]]
    assert "C9300-48P" in chassis[0] and any(c.startswith("FOC") for c in chassis[0])
    assert r.stdout.count(" transceiver ") == 2 and "SFP-10G-LR" in r.stdout
    assert run_netmon(*common, "inventory", "hardware", "atlantis").returncode == 2
    r = run_netmon(*common, "inventory", "optics")
    assert r.returncode == 0, r.stderr
    rx = [line.split() for line in r.stdout.splitlines() if " rx_power " in line]
    assert len(rx) == 2 * sum(d.role == "switch" for d in lab.devices)
    assert all(float(row[-1]) > 0 for row in rx)  # every lab link still above its low warning
    r = run_netmon(*common, "poll", "no-such-device")
    assert r.returncode == 2 and "no device 'no-such-device'" in r.stderr


def test_poll_reports_unreachable_device(lab, tmp_path):
    inv = tmp_path / "inv.yml"
    inv.write_text(
        "sites: [{name: s1, kind: library}]\n"
        f"devices: [{{hostname: ghost, address: 127.0.0.1, port: {lab_mod.free_udp_port()}, site: s1, role: switch,"
        " snmp: p, timeout: 0.3, retries: 0}]\n"
    )
    secrets = tmp_path / "s.yml"
    secrets.write_text("snmp: {p: {version: 2c, community: env:GHOST_COMMUNITY}}\n")
    os.chmod(secrets, 0o600)
    common = ["--db", str(tmp_path / "n.db"), "--secrets", str(secrets)]
    env = {"GHOST_COMMUNITY": "ghost-secret-community"}
    assert run_netmon(*common, "inventory", "import", str(inv), env=env).returncode == 0
    r = run_netmon(*common, "poll", "ghost", env=env)
    assert r.returncode == 1
    assert "DOWN" in r.stdout and "system: unreachable" in r.stdout
    assert "ghost-secret-community" not in r.stdout + r.stderr


def test_secrets_file_must_be_private(lab, tmp_path):
    loose = tmp_path / "loose.yml"
    loose.write_text(lab.secrets_path.read_text())
    os.chmod(loose, 0o644)
    r = run_netmon("--db", str(tmp_path / "n.db"), "--secrets", str(loose), "inventory", "validate",
                   str(lab.inventory_path))  # fmt: skip
    assert r.returncode == 2 and "chmod 600" in r.stderr


def test_config_file_env_and_flags(tmp_path):
    cfg_file = tmp_path / "netmon.yml"
    cfg_file.write_text("db: data/n.db\ninterval: 30\nsnmp: {timeout: 1.5}\n")
    cfg = config_mod.load(cfg_file, environ={"NETMON_LISTEN": "127.0.0.1:9999"})
    assert cfg.db == tmp_path / "data/n.db" and cfg.interval == 30 and cfg.snmp.timeout == 1.5
    assert cfg.listen_host_port == ("127.0.0.1", 9999)
    assert config_mod.load(cfg_file, environ={}, interval=10).interval == 10


def _cmdline(proc_dir: Path) -> list[bytes]:
    try:
        return (proc_dir / "cmdline").read_bytes().split(b"\0")
    except OSError:
        return []


def test_demo_runs_and_serves_metrics(tmp_path):
    port = lab_mod.free_tcp_port()
    proc = subprocess.Popen(
        [str(VENV_BIN / "netmon"), "demo", "--dir", str(tmp_path / "lab"), "--sites", "3", "--interval", "5",
         "--aps-per-site", "5", "--people", "400",
         "--listen", f"127.0.0.1:{port}", "--duration", "30", "--prometheus", "off"],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    try:
        body = ""
        want = 'netmon_device_up{device="sw-city-hall",role="switch",site="city-hall"} 1.0'
        annex = 'netmon_wifi_ap_up{ap="apx-city-hall-01",controller="wlc-annex",site="city-hall"} 1.0'
        deadline = time.monotonic() + 25
        while time.monotonic() < deadline and not (want in body and annex in body):
            time.sleep(0.5)
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=2) as resp:
                    body = resp.read().decode()
            except OSError:
                pass
        assert want in body
        assert annex in body  # the SSH-only controller's APs, read over its CLI
        # The simulators serve from a process of their own, not netmon's.
        lab_dir = str((tmp_path / "lab").resolve()).encode()
        servers = [
            p for p in Path("/proc").glob("[0-9]*") if _cmdline(p)[1:5] == [b"-m", b"netmon.lab", b"serve", lab_dir]
        ]
        assert len(servers) == 1 and int(servers[0].name) != proc.pid
        assert f"PPid:\t{proc.pid}\n" in (servers[0] / "status").read_text()  # the demo's child
    finally:
        proc.terminate()
        out, _ = proc.communicate(timeout=20)
    assert proc.returncode == 0, out
    assert f"metrics at http://127.0.0.1:{port}/metrics" in out
    lab = [line for line in out.splitlines() if line.startswith("lab: Wi-Fi controller")]
    assert [line.split()[3] for line in lab] == ["wlc-city", "wlc-9800", "wlc-annex"]
    # --aps-per-site 5: 5 at each of 3 sites on wlc-city, 5 at one of them on wlc-9800, 5 per annex (at most 10)
    assert ": 15 APs" in lab[0] and ": 5 APs" in lab[1]
    assert "(CLI only, no SNMP): 15 APs" in lab[2] and "ssh://127.0.0.1:" in lab[2]
    assert (tmp_path / "lab" / "secrets.yml").stat().st_mode & 0o077 == 0
    # The SNMPv3 keys the lab uses reach neither the database, nor the logs, nor /metrics.
    stored = b"".join(p.read_bytes() for p in (tmp_path / "lab").glob("netmon.db*"))
    for key in (lab_mod.V3_AUTH_KEY, lab_mod.V3_PRIV_KEY):
        assert key.encode() not in stored and key not in out and key not in body


def test_discover_proposes_the_switch_missing_from_the_inventory(lab, tmp_path):
    """The ring's LLDP sees a switch the inventory forgot; discover proposes it, and --apply adds it."""
    import yaml

    doc = yaml.safe_load(lab.inventory_path.read_text())
    forgotten = "sw-cc-old-town"
    doc["devices"] = [d for d in doc["devices"] if d["hostname"] != forgotten]
    doc["links"] = [x for x in doc.get("links", []) if forgotten not in (x["a"], x["b"])]
    inv = tmp_path / "inventory.yml"
    inv.write_text(yaml.safe_dump(doc))
    cfg = tmp_path / "netmon.yml"
    cfg.write_text(f"db: {tmp_path / 'n.db'}\nsecrets: {lab.secrets_path}\nsnmp: {{timeout: 0.3, retries: 0}}\n")
    common = ["--config", str(cfg)]
    assert run_netmon(*common, "inventory", "import", str(inv)).returncode == 0
    r = run_netmon(*common, "inventory", "discover", "sw-fire-northgate", "--depth", "2")
    assert r.returncode == 0, r.stderr
    proposals = [line.split() for line in r.stdout.splitlines() if line.startswith(forgotten)]
    assert proposals == [[forgotten, "127.0.1.3", "fire-northgate", "lab-sw-fire-northgate"]]
    assert "not reachable over SNMP (unreachable)" in r.stderr  # hop 2: its announced address has no agent here
    assert "discover [1/1] sw-fire-northgate" in r.stderr
    r = run_netmon(*common, "inventory", "discover", "sw-fire-northgate", "--depth", "1", "--apply")
    assert r.returncode == 0 and "added 1 devices" in r.stdout
    r = run_netmon(*common, "inventory", "list")
    assert forgotten in r.stdout
    assert run_netmon(*common, "inventory", "discover", "nope").returncode == 2
