"""The exporter: names from the design, valid exposition (promtool), and a real Prometheus scraping `netmon run`."""

from __future__ import annotations

import json
import signal
import subprocess
import time
import urllib.parse
import urllib.request

import pytest
from prometheus_client.parser import text_string_to_metric_families

from collectors.observations import CollectorRun, Neighbor, OpticReading
from exporters.prometheus import exposition as render_exposition
from netmon import lab as lab_mod
from netmon.config import Config
from netmon.prometheus_server import PrometheusServer
from tests.conftest import VENV_BIN, require_tool
from tests.test_store import OK, iface, make_store, sysinfo

EXPECTED = {
    "netmon_site_info",
    "netmon_site_up",
    "netmon_device_up",
    "netmon_device_uptime_seconds",
    "netmon_device_info",
    "netmon_interface_info",
    "netmon_interface_oper_up",
    "netmon_interface_admin_up",
    "netmon_interface_speed_bytes",
    "netmon_interface_receive_bytes",
    "netmon_interface_transmit_bytes",
    "netmon_interface_receive_packets",
    "netmon_interface_transmit_packets",
    "netmon_interface_receive_errors",
    "netmon_interface_transmit_errors",
    "netmon_interface_receive_discards",
    "netmon_interface_transmit_discards",
    "netmon_collector_duration_seconds",
    "netmon_collector_errors",
    "netmon_last_success_timestamp_seconds",
    "netmon_collector_last_run_timestamp_seconds",
    "netmon_collector_interval_seconds",
    "netmon_snmp_dropped_packets",
    "netmon_optic_rx_power_dbm",
    "netmon_optic_tx_power_dbm",
    "netmon_optic_temperature_celsius",
    "netmon_optic_bias_amperes",
    "netmon_optic_voltage_volts",
    "netmon_optic_threshold_dbm",
    "netmon_optic_threshold_celsius",
    "netmon_optic_threshold_amperes",
    "netmon_optic_threshold_volts",
    "netmon_link_up",
    "netmon_link_length_meters",
    "netmon_wifi_ap_up",
    "netmon_wifi_ap_clients",
    "netmon_wifi_clients",
    "netmon_wifi_ssid_clients",
    "netmon_wifi_radio_channel",
    "netmon_wifi_radio_utilization_ratio",
    "netmon_radius_packets",
    "netmon_radius_last_packet_timestamp_seconds",
    "netmon_radius_sessions_active",
    "netmon_eduroam_sessions_active",
    "netmon_fticks_events",
    "netmon_fticks_malformed_lines",
    "netmon_fticks_dropped_datagrams",
}


@pytest.fixture
def exposition(tmp_path):
    store, dev = make_store(tmp_path / "n.db")
    store.record_poll(dev, 0.0, sysinfo(1000), [iface(1, octets=100), iface(2, oper=2), iface(3, name="Gi1/0/1")], OK)
    ifs = [iface(1, octets=700), iface(2, oper=2), iface(3, name="Gi1/0/1")]
    store.record_poll(dev, 60.0, sysinfo(7000), ifs, OK, dropped={"malformed": 2, "wrong_source": 1})
    optics = [
        OpticReading("Gi1/0/1", 1, 0, "rx_power", -7.5, {"low_alarm": -20.0, "low_warning": -18.0}, "Rx"),
        OpticReading("Gi1/0/1", 1, 0, "tx_power", -2.1, {"high_alarm": 1.0}, "Tx"),
        OpticReading("Gi1/0/1", 1, 0, "temperature", 35.5, {"high_alarm": 75.0}, "Temp"),
        OpticReading("Gi1/0/1", 1, 0, "bias", 0.0061, {}, "Bias"),
        OpticReading("Gi1/0/1", 1, 0, "voltage", 3.29, {"low_alarm": 2.97}, "Vcc"),
    ]
    runs = [*OK, CollectorRun("optics", 0.1), CollectorRun("cdp", 0.1), CollectorRun("lldp", 0.2, "timeout")]
    store.record_poll(dev, 120.0, sysinfo(13000), ifs, runs, dropped={"malformed": 1}, optics=optics)
    cfg = Config(interval=30, optics_interval=300, topology_interval=0)
    return render_exposition(tmp_path / "n.db", process_metrics=False, config=cfg)


def test_collector_intervals_follow_the_configuration(exposition):
    families = {f.name: f for f in text_string_to_metric_families(exposition)}
    every = {s.labels["collector"]: s.value for s in families["netmon_collector_interval_seconds"].samples}
    # cdp is switched off (topology_interval 0): no interval, so it is never judged stale.
    assert every == {"system": 30.0, "interfaces": 30.0, "optics": 300.0}


def test_a_collector_that_never_succeeded_still_shows_its_runs(exposition):
    """NetmonCollectorStale needs to see a collector that has run and never succeeded (no last success)."""
    families = {f.name: f for f in text_string_to_metric_families(exposition)}
    ran = {s.labels["collector"]: s.value for s in families["netmon_collector_last_run_timestamp_seconds"].samples}
    ok = {s.labels["collector"] for s in families["netmon_last_success_timestamp_seconds"].samples}
    assert ran["lldp"] == 120.0 and "lldp" not in ok
    assert ran["optics"] == 120.0 and "optics" in ok


def test_a_fibre_uplink_to_a_device_outside_the_inventory_has_a_link_series(tmp_path):
    """An optic port whose LLDP neighbour netmon does not poll (a provider's router): its loss can alert."""
    store, dev = make_store(tmp_path / "n.db")
    optics = [OpticReading("Gi1/0/1", 1, 0, "rx_power", -7.5, {"low_warning": -18.0}, "Rx")]
    neighbors = [
        Neighbor("lldp", "Gi1/0/1", "isp-edge-1", "xe-0/0/1"),  # fibre: exported with the neighbour's name
        Neighbor("lldp", "Gi1/0/2", "desk-phone", "port 1"),  # copper neighbour outside the inventory: not a link
    ]

    def links():
        text = render_exposition(tmp_path / "n.db", process_metrics=False)
        families = {f.name: f for f in text_string_to_metric_families(text)}
        return [(s.labels, s.value) for s in families["netmon_link_up"].samples]

    store.record_poll(dev, 0.0, sysinfo(1000), [iface(1), iface(2)], [*OK, CollectorRun("optics", 0.1)],
                      optics=optics, neighbors=neighbors)  # fmt: skip
    uplink = {
        "a_device": "sw1",
        "a_port": "Gi1/0/1",
        "a_site": "hall",
        "b_device": "isp-edge-1",
        "b_port": "xe-0/0/1",
        "b_site": "",
    }
    assert links() == [(uplink, 1.0)]  # b_site empty: the far end is outside the inventory
    store.record_poll(dev, 60.0, sysinfo(7000), [iface(1, oper=2), iface(2)], OK, neighbors=neighbors)
    assert links() == [(uplink, 0.0)]
    store.close()


def test_a_slow_collector_is_never_due_more_often_than_the_poll_it_rides_on():
    cfg = Config(interval=60, optics_interval=30, cli_interval=900, hardware_interval=0)
    assert cfg.collector_interval("optics", device_interval=120) == 120
    assert cfg.collector_interval("optics") == 60
    assert cfg.collector_interval("interfaces", device_interval=15) == 15
    assert cfg.collector_interval("cli") == 900 and cfg.collector_interval("cli.inventory") == 900
    assert cfg.collector_interval("hardware") is None


def test_metric_names_and_values(exposition):
    families = {f.name: f for f in text_string_to_metric_families(exposition)}
    assert set(families) == EXPECTED
    rx = {s.labels["ifname"]: s.value for s in families["netmon_interface_receive_bytes"].samples}
    # Two interfaces named Gi1/0/1 stay apart instead of producing duplicate series.
    assert rx == {"Gi1/0/1#1": 600.0, "Gi1/0/2": 0.0, "Gi1/0/1#3": 0.0}
    assert families["netmon_interface_receive_bytes"].samples[0].name == "netmon_interface_receive_bytes_total"
    up = [s for s in families["netmon_device_up"].samples]
    assert [(s.labels, s.value) for s in up] == [({"device": "sw1", "site": "hall", "role": "switch"}, 1.0)]
    site = families["netmon_site_info"].samples
    assert [(s.labels, s.value) for s in site] == [
        ({"site": "hall", "kind": "city-hall", "latitude": "", "longitude": ""}, 1.0)
    ]
    assert [(s.labels, s.value) for s in families["netmon_site_up"].samples] == [({"site": "hall"}, 1.0)]
    speed = families["netmon_interface_speed_bytes"].samples[0]
    assert speed.value == 125_000_000
    assert families["netmon_device_uptime_seconds"].samples[0].value == 130.0
    dropped = {
        s.labels["reason"]: s.value
        for s in families["netmon_snmp_dropped_packets"].samples
        if s.name.endswith("_total")
    }
    assert dropped == {"malformed": 3.0, "wrong_source": 1.0}
    rx = families["netmon_optic_rx_power_dbm"].samples
    assert [(s.labels, s.value) for s in rx] == [
        ({"device": "sw1", "site": "hall", "ifname": "Gi1/0/1", "lane": "0"}, -7.5)
    ]
    power_limits = {s.labels["kind"]: s.value for s in families["netmon_optic_threshold_dbm"].samples}
    assert power_limits == {"rx_low_alarm": -20.0, "rx_low_warning": -18.0, "tx_high_alarm": 1.0}
    assert [s.value for s in families["netmon_optic_threshold_volts"].samples] == [2.97]


def test_promtool_check_metrics_is_clean(exposition):
    promtool = require_tool("promtool")
    r = subprocess.run([promtool, "check", "metrics"], input=exposition, capture_output=True, text=True, timeout=30)
    assert r.returncode == 0 and r.stdout == "" and r.stderr == "", r.stdout + r.stderr


def _get(url: str, timeout: float = 5.0) -> str:
    with urllib.request.urlopen(url, timeout=timeout) as resp:  # noqa: S310 - loopback only
        return resp.read().decode()


def _query(port: int, expr: str) -> list:
    body = json.loads(_get(f"http://127.0.0.1:{port}/api/v1/query?query={urllib.parse.quote(expr)}"))
    assert body["status"] == "success", body
    return body["data"]["result"]


def test_real_prometheus_scrapes_netmon_run(lab, tmp_path):
    prometheus = require_tool("prometheus")
    promtool = require_tool("promtool")
    host, port = "127.0.0.1", lab_mod.free_tcp_port()
    started = time.time()
    netmon = subprocess.Popen(
        [str(VENV_BIN / "netmon"), "--config", str(lab.config_path), "--db", str(tmp_path / "n.db"), "run",
         "--listen", f"{host}:{port}", "--duration", "60"],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    prom_port = lab_mod.free_tcp_port()
    prom = PrometheusServer(prometheus, f"127.0.0.1:{prom_port}", [f"{host}:{port}"], tmp_path / "prom", 1, [])
    prom.start()
    check = subprocess.run(
        [promtool, "check", "config", str(prom.config_path)], capture_output=True, text=True, timeout=30
    )
    assert check.returncode == 0, check.stdout + check.stderr
    try:
        # promtool lints the live exposition of `netmon run` too.
        deadline = time.monotonic() + 30
        body = ""
        while time.monotonic() < deadline and "netmon_interface_receive_bytes_total" not in body:
            time.sleep(0.5)
            try:
                body = _get(f"http://{host}:{port}/metrics")
            except OSError:
                continue
        lint = subprocess.run([promtool, "check", "metrics"], input=body, capture_output=True, text=True, timeout=30)
        assert lint.returncode == 0 and not lint.stdout.strip(), lint.stdout

        expr = 'rate(netmon_interface_receive_bytes_total{ifname="Te1/1/1"}[10s]) > 0'
        result: list = []
        deadline = time.monotonic() + 40
        while time.monotonic() < deadline:
            try:
                result = _query(prom_port, expr)
            except OSError:
                result = []
            if len(result) == 4:  # one fibre uplink per lab switch
                break
            time.sleep(1)
        assert len(result) == 4, result
        # Transceiver DOM of the lab's fibre uplinks, and the headroom to the low warning, per port.
        rx = _query(prom_port, "netmon_optic_rx_power_dbm")
        assert len(rx) == 8, rx  # two uplink optics per lab switch
        headroom = _query(
            prom_port,
            'netmon_optic_rx_power_dbm - on(device, ifname, lane) netmon_optic_threshold_dbm{kind="rx_low_warning"}',
        )
        assert len(headroom) == 8 and all(float(r["value"][1]) > 0 for r in headroom), headroom
        # The lab's Wi-Fi controllers: every AP placed at its site, residents counted per SSID. wlc-city
        # (AireOS) has 10 APs at every site, wlc-9800 10 more at every other site, and wlc-annex (read over
        # SSH only) 10 at each of the first three sites, less those down (its CLI lists only joined APs).
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and not _query(prom_port, 'netmon_wifi_ap_up{controller="wlc-annex"}'):
            time.sleep(1)
        aps = _query(prom_port, "count by (site) (netmon_wifi_ap_up)")
        expected = dict.fromkeys((s["name"] for s in lab.sites), 0)
        for model in lab.wlc_models():
            ssh_only = not lab.wlc_port_of(model.hostname)
            for n, (_, name, _) in enumerate(model.aps()):
                if not (ssh_only and model.ap_down(n)):
                    expected[next(s for s in model.sites if name.startswith(f"{model.ap_prefix}-{s}-"))] += 1
        assert {r["metric"]["site"]: int(r["value"][1]) for r in aps} == expected
        assert expected[lab.sites[1]["name"]] >= 29 and expected[lab.sites[3]["name"]] == 20
        annex = _query(prom_port, 'count(netmon_wifi_ap_up{controller="wlc-annex"} == 1)')
        assert int(annex[0]["value"][1]) >= 25
        eduroam = _query(prom_port, 'netmon_wifi_ssid_clients{ssid="eduroam"}')
        assert sorted(r["metric"]["controller"] for r in eduroam) == ["wlc-9800", "wlc-city"]
        assert all(float(r["value"][1]) > 0 for r in eduroam)
        # Sites on the map: coordinates from the inventory, and the share of each site's devices that answer.
        sites = _query(prom_port, "netmon_site_up * on(site) group_left(latitude, longitude) netmon_site_info")
        coords = {r["metric"]["site"]: (float(r["metric"]["latitude"]), float(r["metric"]["longitude"])) for r in sites}
        assert coords == {s["name"]: (s["lat"], s["lon"]) for s in lab.sites}
        assert all(r["value"][1] == "1" for r in sites), sites
        up = _query(prom_port, "netmon_device_up")
        assert {r["metric"]["device"]: r["value"][1] for r in up} == {d.hostname: "1" for d in lab.devices}
        targets = json.loads(_get(f"http://127.0.0.1:{prom_port}/api/v1/targets"))["data"]["activeTargets"]
        assert [t["health"] for t in targets] == ["up"]
    finally:
        prom.stop()
        netmon.send_signal(signal.SIGTERM)
        out, _ = netmon.communicate(timeout=15)
    assert netmon.returncode == 0, out
    assert "failed" not in out and "Traceback" not in out, out  # SIGTERM mid-cycle: the polls in flight finish
    # Residents' data reaches neither the database, nor the logs, nor /metrics (issue 4's privacy check):
    # every client MAC and user name either simulated controller could have shown during the run.
    seen = {}
    for model in lab.wlc_models():
        for t in range(int(started) - 60, int(time.time()) + 60, int(model.slot)):
            for c in model.clients(float(t)):
                seen[bytes(c["mac"]).hex()] = c["user"]
    assert [m.hostname for m in lab.wlc_models()] == ["wlc-city", "wlc-9800", "wlc-annex"] and len(seen) > 100
    stored = b"".join(p.read_bytes() for p in tmp_path.glob("n.db*")).lower()
    visible = (out + body).lower()
    for mac_hex, user in seen.items():
        colons = ":".join(mac_hex[i : i + 2] for i in range(0, 12, 2))
        for form in (mac_hex, colons):
            assert form.encode() not in stored and form not in visible
        if user:
            assert user.encode() not in stored and user not in visible


def test_metrics_reference_lists_exactly_what_is_exposed(exposition):
    """docs/metrics.md names every family the exporter exposes and nothing else, with its type and label names."""
    import re

    from tests.conftest import ROOT

    doc = (ROOT / "docs" / "metrics.md").read_text()
    rows = re.findall(r"^\| `(netmon_[a-z_]+)` \|([^|]*)\|([^|]*)\|([^|]*)\|", doc, flags=re.M)
    documented = {
        name: (kind.strip(), {x.strip() for x in labels.split(",")} - {"", "none", "—"})
        for name, kind, _unit, labels in rows
    }
    exposed = {}
    for family in text_string_to_metric_families(exposition):
        labels = {label for sample in family.samples for label in sample.labels}
        exposed[family.name + "_total" if family.type == "counter" else family.name] = (family.type, labels)
    assert set(documented) == set(exposed)
    for name, (kind, labels) in exposed.items():
        assert documented[name][0] == kind, (name, documented[name][0], kind)
        if labels:  # a family without samples in this store shows no labels to compare
            assert documented[name][1] == labels, (name, sorted(documented[name][1]), sorted(labels))
    with_samples = sum(1 for _, labels in exposed.values() if labels)
    assert with_samples >= 20  # the comparison of label names covers most families, not a vacuous few
