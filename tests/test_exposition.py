"""The exposition at city size: which per-port series a device exports, one snapshot per scrape, gzip."""

from __future__ import annotations

import gzip
import sqlite3
import urllib.request

import pytest
import yaml
from prometheus_client.parser import text_string_to_metric_families

from collectors.observations import OpticReading
from exporters.prometheus import StoreCollector, exposition, serve
from netmon import config as config_mod
from netmon.config import Config, ConfigError
from netmon.lab import free_tcp_port
from tests.test_store import OK, iface, make_store, sysinfo

PER_PORT = {
    "netmon_interface_info",
    "netmon_interface_oper_up",
    "netmon_interface_admin_up",
    "netmon_interface_speed_bytes",
    "netmon_interface_receive_bytes_total",
    "netmon_interface_transmit_bytes_total",
}
DETAIL = {
    "netmon_interface_receive_packets_total",
    "netmon_interface_transmit_packets_total",
    "netmon_interface_receive_errors_total",
    "netmon_interface_transmit_errors_total",
    "netmon_interface_receive_discards_total",
    "netmon_interface_transmit_discards_total",
}


def _ports_by_family(text: str) -> dict[str, set[str]]:
    out: dict[str, set[str]] = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name.startswith("netmon_interface_"):
                out.setdefault(sample.name, set()).add(sample.labels["ifname"])
    return out


@pytest.fixture
def switch(tmp_path):
    """sw1 (a switch): Gi1/0/1 a quiet access port, Gi1/0/2 one that counted errors, Te1/1/1 with a transceiver."""
    store, dev = make_store(tmp_path / "n.db")
    ports = [iface(1), iface(2, errors=0), iface(3, name="Te1/1/1")]
    store.record_poll(dev, 0.0, sysinfo(1000), ports, OK)
    ports = [iface(1, octets=500), iface(2, errors=7), iface(3, name="Te1/1/1", octets=900)]
    optic = [OpticReading("Te1/1/1", 3, 0, "rx_power", -7.5, {}, "Rx")]
    store.record_poll(dev, 60.0, sysinfo(7000), ports, OK, optics=optic)
    store.close()
    return tmp_path / "n.db"


def test_switches_export_detail_counters_only_on_uplinks_and_ports_with_errors_by_default(switch):
    ports = _ports_by_family(exposition(switch, process_metrics=False, config=Config()))
    for name in PER_PORT:
        assert ports[name] == {"Gi1/0/1", "Gi1/0/2", "Te1/1/1"}, name
    for name in DETAIL:
        # all six where there was an error, so the error ratio (errors over packets) still has its packets
        assert ports[name] == {"Gi1/0/2", "Te1/1/1"}, name


@pytest.mark.parametrize(
    ("setting", "detail", "per_port"),
    [
        ("full", {"Gi1/0/1", "Gi1/0/2", "Te1/1/1"}, {"Gi1/0/1", "Gi1/0/2", "Te1/1/1"}),
        ("none", None, None),
        ({"switch": "full"}, {"Gi1/0/1", "Gi1/0/2", "Te1/1/1"}, {"Gi1/0/1", "Gi1/0/2", "Te1/1/1"}),
        ({"sw1": "uplinks", "switch": "none"}, {"Gi1/0/2", "Te1/1/1"}, {"Gi1/0/1", "Gi1/0/2", "Te1/1/1"}),
        ({"default": "none"}, None, None),
    ],
)
def test_interface_metrics_by_device_role_or_default(switch, tmp_path, setting, detail, per_port):
    path = tmp_path / "netmon.yml"
    path.write_text(yaml.safe_dump({"interface_metrics": setting}))
    cfg = config_mod.load(path, environ={})
    ports = _ports_by_family(exposition(switch, process_metrics=False, config=cfg))
    for name in PER_PORT:
        assert ports.get(name) == per_port, name
    for name in DETAIL:
        assert ports.get(name) == detail, name


@pytest.mark.parametrize(
    ("setting", "message"),
    [
        ("some", "'some' is not one of full, uplinks, none"),
        ({"switch": "all"}, "'switch': 'all' is not one of full, uplinks, none"),
        ([], "interface_metrics must be one of"),
    ],
)
def test_a_bad_interface_metrics_setting_names_the_file(tmp_path, setting, message):
    path = tmp_path / "netmon.yml"
    path.write_text(yaml.safe_dump({"interface_metrics": setting}))
    with pytest.raises(ConfigError, match=f"{path}: .*{message}".replace("(", r"\(")):
        config_mod.load(path, environ={})


def test_a_scrape_is_one_snapshot_even_when_a_poll_commits_in_the_middle(switch):
    """The families are read one after another; a poll committed between two of them must not show."""
    scrape = StoreCollector(switch, Config()).collect()
    first = next(scrape)  # netmon_site_info: the scrape's read transaction has begun
    assert first.name == "netmon_site_info"
    other = sqlite3.connect(switch, isolation_level=None)
    other.execute("UPDATE device_state SET up = 0")  # the device goes down, committed, mid-scrape
    other.execute("UPDATE interfaces SET oper_status = 2")
    other.close()
    text = "".join(f.text() for f in scrape)
    families = {f.name: f for f in text_string_to_metric_families(text)}
    assert [s.value for s in families["netmon_site_up"].samples] == [1.0]
    assert [s.value for s in families["netmon_device_up"].samples] == [1.0]  # the same snapshot as site_up
    assert {s.value for s in families["netmon_interface_oper_up"].samples} == {1.0}
    # and the next scrape sees the change
    after = {f.name: f for f in text_string_to_metric_families(exposition(switch, process_metrics=False))}
    assert [s.value for s in after["netmon_device_up"].samples] == [0.0]


def test_gzip_is_served_when_asked_and_is_the_same_text(switch):
    port = free_tcp_port()
    server, _ = serve(switch, "127.0.0.1", port, Config())
    try:
        url = f"http://127.0.0.1:{port}/metrics"
        with urllib.request.urlopen(url, timeout=10) as r:
            plain = r.read()
            assert r.headers["Content-Type"] == "text/plain; version=0.0.4; charset=utf-8"
            assert r.headers.get("Content-Encoding") is None
        bodies = []
        for _ in range(2):
            request = urllib.request.Request(url, headers={"Accept-Encoding": "gzip"})
            with urllib.request.urlopen(request, timeout=10) as r:  # noqa: S310 - loopback
                assert r.headers["Content-Encoding"] == "gzip"
                bodies.append(r.read())
        unpacked = gzip.decompress(bodies[0]).decode()
        # the same store text (process metrics move between scrapes: compare the store's part)
        store_part = plain.decode().split("# HELP process_")[0]
        assert unpacked.startswith(store_part) and len(bodies[0]) < len(plain) / 3
        assert "netmon_device_up" in store_part
    finally:
        server.shutdown()


def test_a_devices_port_lines_are_rendered_again_after_each_poll_and_only_then(switch):
    from netmon.store import Store

    collector = StoreCollector(switch, Config())
    first = collector.text()
    assert collector.text() == first  # nothing polled in between: the kept lines, the same text
    kept = dict(collector._ports)
    store = Store(switch)
    dev = store.devices()[0]
    store.record_poll(
        dev, 120.0, sysinfo(13000), [iface(1, octets=800), iface(2, errors=7), iface(3, name="Te1/1/1")], OK
    )
    store.close()
    after = collector.text()
    assert collector._ports["sw1"][0] != kept["sw1"][0]  # a new poll: a new version
    rx = {s.labels["ifname"]: s.value for f in text_string_to_metric_families(after) for s in f.samples
          if s.name == "netmon_interface_receive_bytes_total"}  # fmt: skip
    assert rx["Gi1/0/1"] == 800  # 500 -> 800 counted
    assert "Te1/1/1" in rx and "Gi1/0/3" not in rx  # Te1/1/1 kept its name
