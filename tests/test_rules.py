"""Alert and recording rules: promtool checks and unit tests, and the inhibitions in a real Alertmanager."""

from __future__ import annotations

import json
import re
import shutil
import signal
import subprocess
import time
import urllib.request
from datetime import UTC, datetime, timedelta

import yaml

from netmon import lab as lab_mod
from tests.conftest import ROOT, require_tool

RULES = ROOT / "exporters" / "rules"
RULE_FILES = sorted(RULES.glob("*.yml"))
RULE_TESTS = sorted((RULES / "tests").glob("*.yml"))
ALERTMANAGER_CONFIG = ROOT / "exporters" / "alertmanager.yml"
RUNBOOKS = ROOT / "docs" / "runbooks.md"


def alert_rules() -> list[dict]:
    return [
        rule
        for path in RULE_FILES
        for group in yaml.safe_load(path.read_text())["groups"]
        for rule in group["rules"]
        if "alert" in rule
    ]


def rule_test_cases() -> list[dict]:
    """Every alert_rule_test case of every promtool test file."""
    return [
        case
        for path in RULE_TESTS
        for test in yaml.safe_load(path.read_text())["tests"]
        for case in test.get("alert_rule_test", [])
    ]


def test_promtool_check_rules():
    promtool = require_tool("promtool")
    r = subprocess.run([promtool, "check", "rules", *map(str, RULE_FILES)], capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stdout + r.stderr
    assert r.stdout.count("SUCCESS") == len(RULE_FILES)


def test_promtool_test_rules():
    promtool = require_tool("promtool")
    r = subprocess.run([promtool, "test", "rules", *map(str, RULE_TESTS)], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stdout + r.stderr
    assert r.stdout.count("SUCCESS") == len(RULE_TESTS)


def test_the_unit_tests_catch_an_optic_alert_on_a_down_port(tmp_path):
    """The optic tests bite: without the ports-that-are-up clause the rules fail them."""
    promtool = require_tool("promtool")
    rules = tmp_path / "rules"
    shutil.copytree(RULES, rules)
    alerts = rules / "netmon-alerts.yml"
    text = alerts.read_text()
    weakened = re.sub(r"\n +and on\(device, ifname\)\n +netmon_interface_oper_up == 1\n", "\n", text)
    assert weakened.count("NetmonOpticRx") == text.count("NetmonOpticRx") and weakened != text
    alerts.write_text(weakened)
    tests = rules / "tests" / "fibre_optics_interfaces.yml"
    r = subprocess.run([promtool, "test", "rules", str(tests)], capture_output=True, text=True, timeout=60)
    assert r.returncode != 0 and "on sw-b Te1/1/1" in r.stdout + r.stderr, r.stdout + r.stderr


def test_the_unit_tests_tell_last_week_from_yesterday(tmp_path):
    """The client-collapse tests bite: with yesterday as the baseline the rule fails them both ways."""
    promtool = require_tool("promtool")
    rules = tmp_path / "rules"
    shutil.copytree(RULES, rules)
    alerts = rules / "netmon-alerts.yml"
    text = alerts.read_text()
    weakened = text.replace("offset 6d23h30m", "offset 23h30m")
    assert weakened.count("offset 23h30m") == 2 and "6d23h30m" not in weakened
    alerts.write_text(weakened)
    tests = rules / "tests" / "wifi_clients.yml"
    r = subprocess.run([promtool, "test", "rules", str(tests)], capture_output=True, text=True, timeout=60)
    out = r.stdout + r.stderr
    assert r.returncode != 0, out
    exp, _, got = out.partition("got:")
    assert 'controller="wlc-weekly"' in exp and 'controller="wlc-weekly"' not in got, out  # missed
    assert 'controller="wlc-daily"' in got and 'controller="wlc-daily"' not in exp, out  # paged wrongly


def test_every_alert_is_documented_and_tested_both_ways():
    runbooks = RUNBOOKS.read_text()
    headings = re.findall(r"^#+ (.+)$", runbooks, re.M)
    anchors = {re.sub(r"[^a-z0-9 -]", "", h.lower()).replace(" ", "-") for h in headings}
    cases = rule_test_cases()
    names = [r["alert"] for r in alert_rules()]
    assert len(names) == len(set(names)) >= 12
    for rule in alert_rules():
        name = rule["alert"]
        assert rule["labels"]["severity"] in ("critical", "warning", "info"), name
        notes = rule["annotations"]
        assert notes["summary"] and notes["description"], name
        page, _, anchor = notes["runbook_url"].partition("#")
        assert page == "docs/runbooks.md" and anchor in anchors, (name, notes["runbook_url"])
        mine = [c for c in cases if c["alertname"] == name]
        assert any(c["exp_alerts"] for c in mine), f"{name}: no case where it fires"
        assert any(not c["exp_alerts"] for c in mine), f"{name}: no case where it stays silent"


def expected_label_names() -> dict[str, set[str]]:
    """The labels each alert carries, as its promtool tests prove the rules produce them."""
    out: dict[str, set[str]] = {}
    for case in rule_test_cases():
        for alert in case["exp_alerts"]:
            out.setdefault(case["alertname"], set()).update(alert["exp_labels"])
    return out


def test_amtool_check_config():
    amtool = require_tool("amtool")
    r = subprocess.run([amtool, "check-config", str(ALERTMANAGER_CONFIG)], capture_output=True, text=True, timeout=30)
    assert r.returncode == 0 and "SUCCESS" in r.stdout, r.stdout + r.stderr
    assert "7 inhibit rules" in r.stdout
    # Routing by severity: critical pages, warning opens a ticket, info is logged.
    for severity, receiver in (("critical", "noc-pager"), ("warning", "noc-tickets"), ("info", "noc-log")):
        r = subprocess.run(
            [amtool, "config", "routes", "test", f"--config.file={ALERTMANAGER_CONFIG}", f"severity={severity}"],
            capture_output=True, text=True, timeout=30,
        )  # fmt: skip
        assert r.stdout.strip() == receiver, (severity, r.stdout, r.stderr)


def _alert(name: str, **labels: str) -> dict:
    now = datetime.now(UTC)
    return {
        "labels": {"alertname": name, **labels},
        "annotations": {"summary": name},
        "startsAt": now.isoformat(),
        "endsAt": (now + timedelta(hours=1)).isoformat(),
    }


def _link(a_device, a_site, b_device, b_site) -> dict:
    return _alert(
        "NetmonLinkDown", severity="critical",
        a_device=a_device, a_port="Te1/1/2", a_site=a_site, b_device=b_device, b_port="Te1/1/1", b_site=b_site,
    )  # fmt: skip


def _optic(name, device, site, ifname, severity="warning") -> dict:
    return _alert(name, severity=severity, device=device, site=site, ifname=ifname, lane="0")


def _device_down(device, site) -> dict:
    return _alert(
        "NetmonDeviceDown",
        severity="critical",
        device=device,
        site=site,
        role="switch",
        a_device=device,
        b_device=device,
    )


def _ap_down(site, ap) -> dict:
    return _alert("NetmonAPDown", severity="warning", controller="wlc-city", device="wlc-city", site=site, ap=ap)


def _accounting_silent(controller, site) -> dict:
    """A NAS declared under its controller's hostname: the rule gives it the controller's device and site."""
    return _alert("NetmonRadiusAccountingSilent", severity="warning", nas=controller, device=controller, site=site)


# (alert, suppressed?) for four situations at once, on different sites and devices:
# hall is cut off; sw-park does not answer (its site still does); an optic on sw-lake is under its alarm;
# a fibre lake - river is down with both ends up. A controller's accounting falls silent at each.
SCENARIO = [
    (_alert("NetmonSiteDown", severity="critical", site="hall", a_site="hall", b_site="hall"), False),
    (_device_down("sw-hall", "hall"), True),
    (_ap_down("hall", "ap-1"), True),
    (_link("sw-hall", "hall", "sw-park", "park"), True),
    (_link("sw-lake", "lake", "sw-hall", "hall"), True),
    (_optic("NetmonOpticRxLowWarning", "sw-hall", "hall", "Te1/1/1"), True),
    (_device_down("sw-park", "park"), False),
    (_optic("NetmonOpticRxLowAlarm", "sw-park", "park", "Te1/1/2", "critical"), True),
    (_alert("NetmonCollectorStale", severity="warning", device="sw-park", site="park", collector="optics"), True),
    (_alert("NetmonInterfaceErrorsHigh", severity="warning", device="sw-park", site="park", ifname="Gi1/0/3"), True),
    (_link("sw-park", "park", "sw-river", "river"), True),
    (_ap_down("park", "ap-2"), False),
    (_optic("NetmonOpticRxLowAlarm", "sw-lake", "lake", "Te1/1/1", "critical"), False),
    (_optic("NetmonOpticRxLowWarning", "sw-lake", "lake", "Te1/1/1"), True),
    (_optic("NetmonOpticRxLowWarning", "sw-lake", "lake", "Te1/1/2"), False),
    (_link("sw-lake", "lake", "sw-river", "river"), False),
    (_accounting_silent("wlc-hall", "hall"), True),
    (_accounting_silent("sw-park", "park"), True),
    (_accounting_silent("wlc-lake", "lake"), False),
]


def _am(port: int, path: str, body: list | None = None):
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(
        f"http://127.0.0.1:{port}/api/v2/{path}", data=data, headers={"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(req, timeout=5) as resp:  # noqa: S310 - loopback only
        raw = resp.read()
    return json.loads(raw) if raw else None


def test_alertmanager_inhibits_children_of_a_down_parent(tmp_path):
    binary = require_tool("prometheus-alertmanager")
    labels = expected_label_names()
    for alert, _ in SCENARIO:
        name = alert["labels"]["alertname"]
        # The same label names the rules give the alert (so the inhibitions see what production sends).
        assert set(alert["labels"]) - {"alertname"} == labels[name], name
    port = lab_mod.free_tcp_port()
    am = subprocess.Popen(
        [binary, f"--config.file={ALERTMANAGER_CONFIG}", f"--storage.path={tmp_path / 'am'}",
         f"--web.listen-address=127.0.0.1:{port}", "--cluster.listen-address=", "--log.level=warn"],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                _am(port, "status")
                break
            except OSError:
                assert time.monotonic() < deadline and am.poll() is None, "alertmanager did not start"
                time.sleep(0.2)
        _am(port, "alerts", [a for a, _ in SCENARIO])
        got = {}
        deadline = time.monotonic() + 10
        while len(got) < len(SCENARIO) and time.monotonic() < deadline:
            got = {json.dumps(a["labels"], sort_keys=True): a["status"] for a in _am(port, "alerts")}
            time.sleep(0.2)
        assert len(got) == len(SCENARIO)
        for alert, suppressed in SCENARIO:
            status = got[json.dumps(alert["labels"], sort_keys=True)]
            assert (status["state"] == "suppressed") == suppressed, (alert["labels"], status)
            assert bool(status["inhibitedBy"]) == suppressed, (alert["labels"], status)
    finally:
        am.send_signal(signal.SIGTERM)
        _, err = am.communicate(timeout=10)
    assert am.returncode == 0, err


def test_inhibitions_match_labels_both_sides_carry():
    """Alertmanager compares `equal` labels by name: a label missing on either side never inhibits."""
    config = yaml.safe_load(ALERTMANAGER_CONFIG.read_text())
    labels = expected_label_names()

    def alerts(matchers: list[str]) -> set[str]:
        (matcher,) = matchers
        op, pattern = re.fullmatch(r'alertname(=~|=)"(.+)"', matcher).groups()
        return {n for n in labels if (re.fullmatch(pattern, n) if op == "=~" else n == pattern)}

    for rule in config["inhibit_rules"]:
        sources, targets = alerts(rule["source_matchers"]), alerts(rule["target_matchers"])
        assert sources and targets and not sources & targets, rule
        for name in sources | targets:
            assert set(rule["equal"]) <= labels[name], (name, rule)
