"""`netmon demo` with a real Prometheus beside it: generated configuration, rules loaded, URLs printed."""

from __future__ import annotations

import json
import signal
import socket
import subprocess
import time
import urllib.parse
import urllib.request

from netmon import lab as lab_mod
from netmon import prometheus_server
from tests.conftest import VENV_BIN, require_tool


def _api(port: int, path: str) -> dict:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/v1/{path}", timeout=5) as resp:
        return json.loads(resp.read().decode())


def test_generated_configuration_passes_promtool(tmp_path):
    promtool = require_tool("promtool")
    config = tmp_path / "prometheus.yml"
    config.write_text(prometheus_server.render_config(["127.0.0.1:9310"], prometheus_server.rule_files(), 60))
    r = subprocess.run([promtool, "check", "config", str(config)], capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stdout + r.stderr
    # promtool follows rule_files: every rule file of exporters/rules is loaded and valid.
    rules = prometheus_server.rule_files()
    assert len(rules) >= 2 and f"SUCCESS: {len(rules)} rule files found" in r.stdout, r.stdout
    assert all(f"Checking {p}" in r.stdout for p in rules), r.stdout
    assert "scrape_interval: 15s" in config.read_text()  # never coarser than 15 s


def test_demo_starts_prometheus_scraping_netmon_with_the_rules(tmp_path):
    require_tool("prometheus")
    port, prom_port = lab_mod.free_tcp_port(), lab_mod.free_tcp_port()
    demo = subprocess.Popen(
        [str(VENV_BIN / "netmon"), "demo", "--dir", str(tmp_path / "lab"), "--sites", "2", "--interval", "2",
         "--listen", f"127.0.0.1:{port}", "--prometheus", f"127.0.0.1:{prom_port}", "--duration", "60"],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    try:
        up: list = []
        deadline = time.monotonic() + 40
        while time.monotonic() < deadline and not up:
            time.sleep(0.5)
            try:
                up = _api(prom_port, "query?query=" + urllib.parse.quote('netmon_device_up{job="netmon"} == 1'))
                up = up["data"]["result"]
            except OSError:
                up = []
        assert {r["metric"]["device"] for r in up} >= {"sw-city-hall", "rtr-city-hall", "wlc-city"}
        groups = _api(prom_port, "rules")["data"]["groups"]
        alerts = {r["name"] for g in groups for r in g["rules"] if r["type"] == "alerting"}
        assert {"NetmonDeviceDown", "NetmonLinkDown", "NetmonOpticRxLowWarning", "NetmonAPDown"} <= alerts
        assert all(r["health"] != "err" for g in groups for r in g["rules"]), groups
    finally:
        demo.send_signal(signal.SIGTERM)
        out, _ = demo.communicate(timeout=30)
    assert demo.returncode == 0, out
    assert f"prometheus: http://127.0.0.1:{prom_port} scraping netmon every 2 s" in out
    assert f"(alerts: http://127.0.0.1:{prom_port}/alerts)" in out
    assert f"Grafana: GF_PATHS_PROVISIONING={prometheus_server.GRAFANA_PROVISIONING} " in out
    assert (prometheus_server.GRAFANA_PROVISIONING / "dashboards" / "netmon.yml").is_file()
    config = (tmp_path / "lab" / "prometheus" / "prometheus.yml").read_text()
    assert f"127.0.0.1:{port}" in config and "netmon-alerts.yml" in config
    # Stopped with the demo: nothing listens on its port any more.
    with socket.socket() as s:
        assert s.connect_ex(("127.0.0.1", prom_port)) != 0


def test_demo_runs_on_when_prometheus_cannot_start(tmp_path):
    binary = require_tool("prometheus")
    server, note = prometheus_server.beside_netmon("off", "127.0.0.1:9310", tmp_path, 15)
    assert server is None and "--prometheus off" in note
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        busy = f"127.0.0.1:{taken.getsockname()[1]}"
        server, note = prometheus_server.beside_netmon(busy, "127.0.0.1:9310", tmp_path, 15, binary=binary)
    assert server is None and note.startswith("prometheus: not started: prometheus exited at start"), note
    assert "address already in use" in note


def test_scrape_target_for_a_wildcard_listen_address(tmp_path):
    binary = require_tool("prometheus")
    port = lab_mod.free_tcp_port()
    server, note = prometheus_server.beside_netmon(f"127.0.0.1:{port}", "0.0.0.0:9310", tmp_path, 30, binary=binary)
    try:
        assert server is not None, note
        assert server.targets == ["127.0.0.1:9310"]
        assert "scrape_interval: 15s" in server.config_path.read_text()
    finally:
        if server:
            server.stop()
