"""Grafana dashboards: well-formed for provisioning, and every query returns data from a real Prometheus.

The live test runs `netmon run` against the lab, a real Prometheus on loopback scraping it every
second with the recording rules loaded, then runs every panel's PromQL (template variables set to
values the variables' own queries return from that Prometheus) through the HTTP API.
"""

from __future__ import annotations

import json
import re
import signal
import subprocess
import time
import urllib.parse
import urllib.request
from pathlib import Path

import pytest
import yaml

from netmon import lab as lab_mod
from netmon.prometheus_server import PrometheusServer
from tests.conftest import ROOT, VENV_BIN, require_tool

DASHBOARDS = sorted((ROOT / "grafana" / "dashboards").glob("*.json"))
PROVISIONING = ROOT / "grafana" / "provisioning"
RULE_FILES = sorted((ROOT / "exporters" / "rules").glob("*.yml"))
DATASOURCE = {"type": "prometheus", "uid": "${datasource}"}

# Queries empty by design while nothing is wrong (the lab has every device, link and AP up).
EMPTY_WHEN_ALL_IS_WELL = {
    "netmon-overview/Links down",
    "netmon-overview/Devices down",
    "netmon-wifi/Access points down",
    "netmon-collectors/Collector errors by reason",  # no series until a collector first fails
}
# Values for the variables, which must be among those the variables' own queries return: a switch
# with fibre optics and traffic, at the lab's second site. Other multi-value variables stay at
# "All", Grafana's default for them.
PREFERRED = {"device": "sw-{site1}", "ifname": "Te1/1/1", "site": "{site1}", "controller": "wlc-city"}
# Grafana's built-in interval variables, for a 1 s scrape interval.
BUILTINS = {"$__rate_interval": "15s", "$__interval": "5s", "$__range": "1m"}


def load(path: Path) -> dict:
    return json.loads(path.read_text())


def panels(dashboard: dict):
    for p in dashboard["panels"]:
        yield p
        yield from p.get("panels", [])


def queries(dashboard: dict) -> list[tuple[str, str]]:
    """(panel key, expr) for every target of every panel."""
    return [
        (f"{dashboard['uid']}/{p['title']}", t["expr"])
        for p in panels(dashboard)
        if p["type"] != "row"
        for t in p["targets"]
    ]


# -- structure --------------------------------------------------------------------------------------


def test_five_dashboards_with_unique_uids_and_versions():
    boards = [load(p) for p in DASHBOARDS]
    assert {b["uid"] for b in boards} == {
        "netmon-overview", "netmon-site", "netmon-interface", "netmon-wifi", "netmon-collectors",
    }  # fmt: skip
    for path, b in zip(DASHBOARDS, boards, strict=True):
        assert path.stem == b["uid"] and len(b["uid"]) <= 40
        assert isinstance(b["version"], int) and b["version"] >= 1
        assert b["schemaVersion"] >= 39 and b["title"].startswith("netmon / ")
        assert "id" not in b or b["id"] is None  # an id is Grafana's database key, not ours to set
    assert len({b["title"] for b in boards}) == len(boards)


@pytest.mark.parametrize("path", DASHBOARDS, ids=lambda p: p.stem)
def test_every_panel_queries_the_datasource_variable(path):
    board = load(path)
    variables = {v["name"]: v for v in board["templating"]["list"]}
    ds = variables["datasource"]
    assert ds["type"] == "datasource" and ds["query"] == "prometheus"
    for v in variables.values():
        if v["type"] == "query":
            assert v["datasource"] == DATASOURCE and v["definition"].startswith("label_values("), v["name"]
    ids = [p["id"] for p in panels(board)]
    assert len(ids) == len(set(ids))
    titles = [p["title"] for p in panels(board)]
    assert len(titles) == len(set(titles)), "panel titles name the allowlists' entries: keep them unique"
    for p in panels(board):
        assert {"x", "y", "w", "h"} <= set(p["gridPos"]), p["title"]
        if p["type"] == "row":
            continue
        assert p["datasource"] == DATASOURCE, p["title"]
        assert p["targets"], f"{p['title']}: no query"
        refs = [t["refId"] for t in p["targets"]]
        assert len(refs) == len(set(refs))
        for t in p["targets"]:
            assert t["datasource"] == DATASOURCE and t["expr"].strip(), p["title"]
    # No datasource is named or numbered anywhere: only the variable.
    text = path.read_text()
    assert '"datasourceId"' not in text and "netmon-prometheus" not in text
    for uid in re.findall(r'"datasource":\s*\{[^}]*"uid":\s*"([^"]+)"', text):
        assert uid in ("${datasource}", "-- Grafana --"), uid


def test_allowlists_name_real_panels():
    keys = {key for p in DASHBOARDS for key, _ in queries(load(p))}
    assert keys >= EMPTY_WHEN_ALL_IS_WELL


def test_provisioning_points_grafana_at_the_dashboards():
    providers = yaml.safe_load((PROVISIONING / "dashboards" / "netmon.yml").read_text())
    assert providers["apiVersion"] == 1
    (provider,) = providers["providers"]
    assert provider["type"] == "file"
    # Grafana expands $GF_PATHS_PROVISIONING in provisioning files; set as the README says, it is this folder.
    path = Path(provider["options"]["path"].replace("$GF_PATHS_PROVISIONING", str(PROVISIONING))).resolve()
    assert sorted(path.glob("*.json")) == DASHBOARDS
    datasources = yaml.safe_load((PROVISIONING / "datasources" / "netmon.yml").read_text())
    (ds,) = datasources["datasources"]
    assert ds["type"] == "prometheus" and ds["url"].startswith("http://")


# -- every query against a real Prometheus ----------------------------------------------------------


def _get(url: str) -> dict:
    with urllib.request.urlopen(url, timeout=10) as resp:  # noqa: S310 - loopback only
        return json.loads(resp.read().decode())


class Prom:
    def __init__(self, port: int):
        self.base = f"http://127.0.0.1:{port}/api/v1"

    def query(self, expr: str) -> list:
        body = _get(f"{self.base}/query?query={urllib.parse.quote(expr)}")
        assert body["status"] == "success", (expr, body)
        return body["data"]["result"]

    def label_values(self, label: str, match: str | None) -> list[str]:
        url = f"{self.base}/label/{urllib.parse.quote(label)}/values"
        if match:
            url += f"?match[]={urllib.parse.quote(match)}"
        return _get(url)["data"]


def substitute(expr: str, values: dict[str, str]) -> str:
    for name, value in BUILTINS.items():
        expr = expr.replace(name, value)
    for name in sorted(values, key=len, reverse=True):
        # Grafana escapes regex metacharacters in values it puts into =~ matchers; ours have none.
        assert values[name] == ".*" or not re.search(r"[.*+?()\[\]{}|\\^$]", values[name]), values[name]
        expr = expr.replace("${" + name + "}", values[name]).replace("$" + name, values[name])
    assert "$" not in expr, expr
    return expr


def resolve_variables(prom: Prom, board: dict, preferred: dict[str, str]) -> dict[str, str]:
    """Each query variable in order, through Prometheus's label API, as Grafana resolves label_values()."""
    values: dict[str, str] = {}
    for v in board["templating"]["list"]:
        if v["type"] != "query":
            continue
        m = re.fullmatch(r"label_values\((?:(.+),\s*)?(\w+)\)", v["definition"])
        assert m, v["definition"]
        selector, label = m.group(1), m.group(2)
        found = prom.label_values(label, substitute(selector, values) if selector else None)
        assert found, f"{board['uid']}: variable {v['name']} ({v['definition']}) has no values"
        if v["name"] in preferred or not v.get("includeAll"):
            want = preferred.get(v["name"], found[0])
            assert want in found, (v["name"], want, found)
            values[v["name"]] = want
        else:
            values[v["name"]] = v["allValue"]
    return values


@pytest.fixture(scope="module")
def prometheus_on_lab(lab, tmp_path_factory):
    prometheus = require_tool("prometheus")
    promtool = require_tool("promtool")
    tmp = tmp_path_factory.mktemp("dashboards")
    host, port = "127.0.0.1", lab_mod.free_tcp_port()
    netmon = subprocess.Popen(
        [str(VENV_BIN / "netmon"), "--config", str(lab.config_path), "--db", str(tmp / "n.db"), "run",
         "--listen", f"{host}:{port}", "--duration", "120"],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    prom_port = lab_mod.free_tcp_port()
    prom = PrometheusServer(prometheus, f"127.0.0.1:{prom_port}", [f"{host}:{port}"], tmp / "prometheus", 1, RULE_FILES)
    prom.start()
    check = subprocess.run(
        [promtool, "check", "config", str(prom.config_path)], capture_output=True, text=True, timeout=30
    )
    assert check.returncode == 0, check.stdout + check.stderr
    # The lab controller's NAS: accounting to netmon's listener, and the eduroam proxy's F-Ticks.
    nas = lab_mod.RadiusNas(lab, tick=1.0).start()
    try:
        yield Prom(prom_port)
    finally:
        nas.stop()
        prom.stop()
        netmon.send_signal(signal.SIGTERM)
        netmon.communicate(timeout=10)


def wait_for(prom: Prom, exprs: list[str], timeout: float) -> list[str]:
    """Poll until every expression returns data (bounded); returns those still empty."""
    deadline = time.monotonic() + timeout
    pending = list(exprs)
    while pending and time.monotonic() < deadline:
        try:
            pending = [e for e in pending if not prom.query(e)]
        except OSError:
            pass
        if pending:
            time.sleep(1)
    return pending


def test_every_dashboard_query_returns_data(prometheus_on_lab, lab):
    prom = prometheus_on_lab
    # Rates need two scrapes of advancing counters; recording rules one evaluation after that;
    # optics, LLDP links and the controller's APs arrive with the first polls.
    ready = [
        "netmon:interface_receive_bytes:rate5m > 0",
        "netmon:interface_utilization:ratio5m",
        "netmon:optic_rx_margin_dbm",
        "netmon_link_up",
        "netmon:wifi_ap_clients:sum",
        'rate(netmon_interface_receive_bytes_total{ifname="Te1/1/1"}[15s]) > 0',
    ]
    assert not wait_for(prom, ready, 60)
    site1 = lab.sites[1]["name"]
    preferred = {k: v.format(site1=site1) for k, v in PREFERRED.items()}
    todo: dict[str, str] = {}
    for path in DASHBOARDS:
        board = load(path)
        values = resolve_variables(prom, board, preferred)
        for key, expr in queries(board):
            todo[f"{key}: {expr}"] = substitute(expr, values)
    assert len(todo) >= 60
    empty_by_design = {k for k in todo if k.split(": ", 1)[0] in EMPTY_WHEN_ALL_IS_WELL}
    for key in empty_by_design:
        prom.query(todo[key])  # they parse and run all the same
    still_empty = wait_for(prom, [e for k, e in todo.items() if k not in empty_by_design], 20)
    assert not still_empty, "\n".join(k for k, e in todo.items() if e in still_empty)


def test_builtins_cover_what_the_dashboards_use():
    used = {m for p in DASHBOARDS for _, e in queries(load(p)) for m in re.findall(r"\$__\w+", e)}
    assert used <= set(BUILTINS), used


def test_panels_count_what_the_alerts_alert_on():
    """Tiles that count problems exclude what the alerts exclude: down devices' stale collectors (NetmonDeviceDown's
    business) and down ports' optics (no light by design, left out of netmon:optic_rx_margin_dbm by its rule).
    The expressions themselves are checked against series in exporters/rules/tests/*.yml."""
    stale = margin = 0
    for path in DASHBOARDS:
        for key, expr in queries(load(path)):
            if "3 * netmon_collector_interval_seconds" in expr:
                stale += 1
                assert "and on(device) netmon_device_up == 1" in expr, key
            if "netmon:optic_rx_margin_dbm" in expr:
                margin += 1
    assert stale == 2 and margin >= 3
    rules = yaml.safe_load((ROOT / "exporters" / "rules" / "netmon-recording.yml").read_text())
    (rule,) = [r for g in rules["groups"] for r in g["rules"] if r.get("record") == "netmon:optic_rx_margin_dbm"]
    assert re.search(r"and on\(device, ifname\)\s+netmon_interface_oper_up == 1", rule["expr"])
