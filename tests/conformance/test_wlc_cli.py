"""Wireless controller CLI against real-device outputs: ntc-templates' recorded ``.raw`` files.

``cli/cisco_wlc_ssh`` (AireOS ``show ap summary`` and ``show wlan summary``,
and a Catalyst 9800 AP summary recorded under the same platform) and
``cli/aruba_os`` (``show ap database`` and ``show ap database long``); the 9800
summary also through netmon's own IOS-XE template: the raw
text goes through the TextFSM path netmon's SSH controller collector takes
(:func:`collectors.wlc.cli.parse_rows`) and then its own helpers; the access
points must agree with the ``parsed_sample`` in the ``.yml`` beside each file:
the same APs in the same order, the same names, MACs (in any notation), models,
addresses, locations, serials, status and uptime. The expectations are computed
here from the ``.yml`` alone.

The files are read where they are (``../shared/fixtures/cli``), never copied.
Without that folder the module skips, saying so.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from collectors import cli_parsers
from collectors.wlc import cli as wlc_cli
from tests.conformance import fixture_dir

CLI_FIXTURES = fixture_dir("cli")

AP_CASES = sorted(
    [
        ("cisco_wlc_ssh", "show ap summary", p)
        for p in (CLI_FIXTURES / "cisco_wlc_ssh" / "show_ap_summary").glob("*.raw")
    ]
    # netmon's own 9800 template (collectors/templates) on the 9800 output recorded under cisco_wlc_ssh
    + [
        ("cisco_ios", "show ap summary", p)
        for p in (CLI_FIXTURES / "cisco_wlc_ssh" / "show_ap_summary").glob("*C9800*.raw")
    ]
    + [("aruba_os", "show ap database", p) for p in (CLI_FIXTURES / "aruba_os" / "show_ap_database").glob("*.raw")]
    + [
        ("aruba_os", "show ap database long", p)
        for p in (CLI_FIXTURES / "aruba_os" / "show_ap_database_long").glob("*.raw")
    ],
    key=lambda c: str(c[2]),
)
WLAN_CASES = sorted((CLI_FIXTURES / "cisco_wlc_ssh" / "show_wlan_sum").glob("*.raw"))


def _expected(raw: Path) -> list[dict]:
    doc = yaml.safe_load(raw.with_suffix(".yml").read_text(encoding="utf-8")) or {}
    return [{str(k).lower(): ("" if v is None else str(v)) for k, v in row.items()} for row in doc["parsed_sample"]]


def _digits(mac: str) -> str:
    digits = re.sub(r"[.:-]", "", mac).lower()
    return digits if re.fullmatch(r"[0-9a-f]{12}", digits) else ""


def _aruba_expected(row: dict) -> tuple:
    words = row["status"].split()
    uptime = None
    if words and words[0] == "Up" and len(words) > 1:
        uptime = 0
        for part in words[1].split(":"):
            value, unit = int(part[:-1]), part[-1]
            uptime += value * {"d": 86400, "h": 3600, "m": 60, "s": 1}[unit]
    status = "up" if words[:1] == ["Up"] else "down" if words[:1] == ["Down"] else "unknown"
    serial = row.get("serial", "")
    return (
        row["ap_name"],
        _digits(row.get("mac_address", "")),
        row["ap_model"],
        row["ip_address"],
        "" if serial == "N/A" else serial,
        status,
        uptime,
    )


def _cisco_expected(row: dict) -> tuple:
    # The key is the base radio MAC where the summary prints it (9800). AireOS's summary alone gives the Ethernet
    # MAC: the collector joins the radio lists (show advanced 802.11a|b summary) on the AP name for the radio
    # MAC, which no fixture here has; aps_from_rows without them falls back to the Ethernet MAC, as checked here.
    mac = _digits(row["radio_mac"]) or _digits(row["mac_address"])
    state = row.get("state", "")
    return (row["ap_name"], mac, row["ap_model"], row["ip_address"], row["location"].strip(), state)


def test_the_fixtures_are_there():
    """Guards against a silently empty parametrisation (moved or renamed fixture folders)."""
    assert {(p, c) for p, c, _ in AP_CASES} == {
        ("cisco_wlc_ssh", "show ap summary"),
        ("cisco_ios", "show ap summary"),
        ("aruba_os", "show ap database"),
        ("aruba_os", "show ap database long"),
    }
    assert WLAN_CASES


@pytest.mark.parametrize("case", AP_CASES, ids=lambda c: f"{c[0]}:{c[2].stem}")
def test_ap_summaries_parse_into_access_points_that_agree(case, conformance_report):
    platform, command, raw_path = case
    expected = _expected(raw_path)
    rows = cli_parsers.parse_rows(platform, command, raw_path.read_text(encoding="utf-8"))
    assert len(rows) == len(expected) > 0
    if platform == "aruba_os":
        aps = wlc_cli.aruba_aps_from_rows(rows)
        got = [(a.name, a.mac.replace(":", ""), a.model, a.ip, a.serial, a.status, a.uptime_seconds) for a in aps]
        assert got == [_aruba_expected(row) for row in expected]
    else:
        aps, clients = wlc_cli.aps_from_rows(rows)
        got = [(a.name, a.mac.replace(":", ""), a.model, a.ip, a.location, a.status) for a in aps]
        want = [_cisco_expected(row) for row in expected]
        assert [g[:5] for g in got] == [w[:5] for w in want]
        # listed means joined; a 9800 says "Registered"
        assert all(g[5] == "up" and w[5] in ("", "Registered") for g, w in zip(got, want, strict=True))
        assert clients == {a.mac: int(row["clients"]) for a, row in zip(aps, expected, strict=True) if row["clients"]}
    conformance_report(f"cli {platform}/{raw_path.stem}: {len(aps)} access points agree")


@pytest.mark.parametrize("raw_path", WLAN_CASES, ids=lambda p: p.stem)
def test_aireos_wlan_summaries_parse_into_wlans_that_agree(raw_path, conformance_report):
    expected = _expected(raw_path)
    rows = cli_parsers.parse_rows("cisco_wlc_ssh", "show wlan summary", raw_path.read_text(encoding="utf-8"))
    wlans = wlc_cli.wlans_from_rows(rows)
    assert [(w.wlan_id, w.ssid, w.clients) for w in wlans] == [(int(r["wlanid"]), r["ssid"], None) for r in expected]
    conformance_report(f"cli cisco_wlc_ssh/{raw_path.stem}: {len(wlans)} WLANs agree")


def test_aireos_sysinfo_gives_the_controller_its_system_identity():
    folder = CLI_FIXTURES / "cisco_wlc_ssh" / "show_sysinfo"
    for raw_path in sorted(folder.glob("*.raw")):
        row = _expected(raw_path)[0]
        raw = raw_path.read_text(encoding="utf-8")
        system = wlc_cli.system_from_sysinfo(cli_parsers.parse_rows("cisco_wlc_ssh", "show sysinfo", raw), raw)
        assert system.name == row["system_name"] and row["product_version"] in system.descr
        d, h, m, s = (int(x) for x in re.findall(r"\d+", row["system_up_time"]))
        assert system.uptime_ticks == ((d * 24 + h) * 60 + m) * 6000 + s * 100
