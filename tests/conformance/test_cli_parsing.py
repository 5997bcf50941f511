"""CLI parsing against real-device outputs: ntc-templates' recorded ``.raw`` files.

For every recorded output of a command the ``cli`` collector runs (and the
transceiver variants its parsers accept) on cisco_ios, cisco_nxos, arista_eos
and juniper_junos, the raw text goes through the TextFSM path netmiko uses
(``ntc_templates.parse.parse_output``) and then the collector's own parsing
helpers; the observations must agree with the ``parsed_sample`` in the
``.yml`` beside it: the same number of entries, the same ports and names, the
same values within 0.01 (in the unit the device printed). The expectations
are computed here from the ``.yml`` independently of the helpers.

The files are read where they are (``../shared/fixtures/cli``), never copied.
Without that folder the module skips, saying so.
"""

from __future__ import annotations

import ipaddress
import re
from pathlib import Path

import pytest
import yaml

from collectors import cli, cli_parsers
from tests.conformance import fixture_dir

CLI_FIXTURES = fixture_dir("cli")

from ntc_templates.parse import parse_output  # noqa: E402  (only needed when the fixtures are there)

PLATFORMS = ("cisco_ios", "cisco_nxos", "arista_eos", "juniper_junos")
EXTRA = {
    # parsed by the helpers, though the collector runs the "detail" form on these platforms
    ("arista_eos", "show interfaces transceiver"): "optics",
    ("cisco_nxos", "show interface transceiver"): "optics",  # no DOM values in it: no readings
}
SUPPORTED = {
    **{(p, command): kind for p, commands in cli_parsers.COMMANDS.items() for kind, command in commands.items()},
    **EXTRA,
}
TOLERANCE = 0.01


def _cases() -> list[tuple[str, str, str, Path]]:
    cases = []
    for platform in PLATFORMS:
        folder = CLI_FIXTURES / platform
        if not folder.is_dir():
            continue
        for command_dir in sorted(p for p in folder.iterdir() if p.is_dir()):
            command = command_dir.name.replace("_", " ")
            kind = SUPPORTED.get((platform, command))
            if kind is None:
                continue
            for raw in sorted(command_dir.glob("*.raw")):
                if raw.with_suffix(".yml").is_file():
                    cases.append((platform, command, kind, raw))
    return cases


CASES = _cases()


def _id(case) -> str:
    platform, _, _, raw = case
    return f"{platform}/{raw.stem}"


def _expected(raw: Path) -> list[dict]:
    doc = yaml.safe_load(raw.with_suffix(".yml").read_text(encoding="utf-8")) or {}
    return [{str(k).lower(): v for k, v in row.items()} for row in doc.get("parsed_sample") or []]


def _float(value) -> float | None:
    try:
        return float(str(value).strip())
    except (TypeError, ValueError):
        return None


def _s(value) -> str:
    if isinstance(value, list):
        value = value[0] if value else ""
    return "" if value is None else str(value).strip()


def _hexish(text: str) -> str:
    """A MAC in any notation, compared by its digits; anything else unchanged."""
    digits = re.sub(r"[.:-]", "", text).lower()
    return digits if re.fullmatch(r"[0-9a-f]{12}", digits) else text


def _ip_or_empty(text: str) -> str:
    try:
        return str(ipaddress.ip_address(text.strip()))
    except ValueError:
        return ""


def test_fixtures_cover_every_platform_and_kind():
    """Guards against a silently empty parametrisation (moved or renamed fixture folders)."""
    seen = {(platform, kind) for platform, _, kind, _ in CASES}
    for platform in PLATFORMS:
        if (CLI_FIXTURES / platform).is_dir():
            assert any(p == platform for p, _ in seen), f"no fixture parsed for {platform}"
    assert {"system", "hardware", "optics", "lldp", "cdp"} <= {kind for _, kind in seen}
    assert len(CASES) >= 40


@pytest.mark.parametrize("case", CASES, ids=_id)
def test_cli_output_parses_into_observations_that_agree(case, conformance_report):
    platform, command, kind, raw_path = case
    raw = raw_path.read_text(encoding="utf-8")
    expected = _expected(raw_path)
    rows = parse_output(platform=platform, command=command, data=raw)  # what netmiko's use_textfsm does
    assert cli_parsers.parse_rows(platform, command, raw) == [{k.lower(): v for k, v in r.items()} for r in rows]
    observed = cli_parsers.observations(kind, platform, rows)
    # the collector's own judgement of the output: real output is never taken for garbage
    assert cli.interpret(kind, platform, command, raw) == observed

    check = {"system": _check_system, "hardware": _check_hardware, "optics": _check_optics}.get(kind, _check_neighbors)
    compared = check(platform, kind, observed, expected)
    conformance_report(f"cli {platform}/{raw_path.stem}: {compared} {kind} entries agree")


# -- per kind -----------------------------------------------------------------------------------


def _uptime_seconds(row: dict) -> int | None:
    """From the yml alone: IOS gives the parts, NX-OS and the others a phrase."""
    parts = {u: _float(row.get(f"uptime_{u}")) for u in ("years", "weeks", "days", "hours", "minutes")}
    if any(v is not None for v in parts.values()):
        p = {u: int(v or 0) for u, v in parts.items()}
        return ((p["years"] * 365 + p["weeks"] * 7 + p["days"]) * 24 + p["hours"]) * 3600 + p["minutes"] * 60
    unit_seconds = {"year": 365 * 86400, "week": 604800, "day": 86400, "hour": 3600, "minute": 60, "second": 1}
    found = re.findall(r"(\d+)\s+(year|week|day|hour|minute|second)", _s(row.get("uptime")))
    return sum(int(n) * unit_seconds[u] for n, u in found) if found else None


def _check_system(platform, kind, observed, expected) -> int:
    assert expected, "a show version fixture always has one entry"
    row = expected[0]
    assert observed is not None
    assert observed.name == _s(row.get("hostname"))
    assert observed.object_id == ""
    seconds = _uptime_seconds(row)
    assert observed.uptime_ticks == (None if seconds is None else (seconds * 100) % 2**32)
    for key in ("version", "os", "software_image", "platform", "hardware"):
        if _s(row.get(key)):
            assert _s(row.get(key)) in observed.descr, (key, observed.descr)
    return 1


def _placeholder(text: str) -> str:
    return "" if re.fullmatch(r"n/?a|none|unknown|-+", text, re.I) else text


def _check_hardware(platform, kind, observed, expected) -> int:
    rows = [r for r in expected if any(_s(r.get(k)) for k in ("name", "descr", "pid", "sn"))]
    assert len(observed) == len(rows)
    for item, row in zip(observed, rows, strict=True):
        assert item.name == _s(row.get("name"))
        assert item.description == _s(row.get("descr"))
        assert item.model == _placeholder(_s(row.get("pid")))
        assert item.serial == _placeholder(_s(row.get("sn")))
        assert item.hardware_rev == _placeholder(_s(row.get("vid")))
        assert item.index is None
        assert item.klass in {"chassis", "module", "powerSupply", "fan", "transceiver", "stack"}
    return len(rows)


# Columns of each template: kind -> value column, threshold columns (alarm/warn high/low).
_IOS = {
    "temperature": "temperature",
    "voltage": "voltage",
    "bias": "current",
    "tx_power": "tx_pwr",
    "rx_power": "rx_pwr",
}
_ARISTA_PLAIN = {
    "temperature": "temp",
    "voltage": "voltage",
    "bias": "bias_current",
    "tx_power": "tx_power",
    "rx_power": "rx_power",
}
_NXOS = {"temperature": "temperature", "voltage": "voltage", "bias": "amps", "tx_power": "tx", "rx_power": "rx"}
_ARISTA_TYPES = {"Temperature": "temperature", "Voltage": "voltage", "Current": "bias", "Tx Power": "tx_power"}
_ARISTA_TYPES["Rx Power"] = "rx_power"


def _expected_readings(expected: list[dict]) -> list[tuple]:
    """(port, lane, kind, value in the printed unit, {threshold: value}) from the yml rows."""
    out = []
    for row in expected:
        if "tx_pwr" in row:
            for kind, col in _IOS.items():
                if _float(row.get(col)) is not None:
                    out.append((_s(row["interface"]), 0, kind, _float(row[col]), {}))
        elif "tx_value" in row:
            lane = int(_s(row.get("lane")) or 0)
            for kind, prefix in _NXOS.items():
                value = _float(row.get(f"{prefix}_value"))
                if value is None:
                    continue
                limits = {
                    "high_alarm": _float(row.get(f"{prefix}_alarm_high")),
                    "low_alarm": _float(row.get(f"{prefix}_alarm_low")),
                    "high_warning": _float(row.get(f"{prefix}_warn_high")),
                    "low_warning": _float(row.get(f"{prefix}_warn_low")),
                }
                out.append(
                    (_s(row["interface"]), lane, kind, value, {k: v for k, v in limits.items() if v is not None})
                )
        elif "current_value" in row:
            value = _float(row.get("current_value"))
            if value is None:
                continue
            limits = {
                "high_alarm": _float(row.get("high_alarm_threshold")),
                "high_warning": _float(row.get("high_warn_threshold")),
                "low_alarm": _float(row.get("low_alarm_threshold")),
                "low_warning": _float(row.get("low_warn_threshold")),
            }
            kind = _ARISTA_TYPES[_s(row["type"])]
            out.append((_s(row["port"]), 0, kind, value, {k: v for k, v in limits.items() if v is not None}))
        elif "bias_current" in row:
            for kind, col in _ARISTA_PLAIN.items():
                if _float(row.get(col)) is not None:
                    out.append((_s(row["port"]), 0, kind, _float(row[col]), {}))
        # NX-OS plain "show interface transceiver": vendor/part/serial only, no readings
    return out


def _check_optics(platform, kind, observed, expected) -> int:
    want = _expected_readings(expected)
    assert len(observed) == len(want)
    for reading, (port, lane, sensor_kind, value, limits) in zip(observed, want, strict=True):
        scale = 1000 if sensor_kind == "bias" else 1  # amperes in the observation, mA on the device
        assert (reading.ifname, reading.lane, reading.kind) == (port, lane, sensor_kind)
        assert reading.ifindex is None
        assert reading.value * scale == pytest.approx(value, abs=TOLERANCE)
        assert set(reading.thresholds) == set(limits)
        for name, limit in limits.items():
            assert reading.thresholds[name] * scale == pytest.approx(limit, abs=TOLERANCE), name
        assert port in reading.sensor
    return len(want)


def _check_neighbors(platform, kind, observed, expected) -> int:
    assert len(observed) == len(expected)
    for n, row in zip(observed, expected, strict=True):
        assert n.protocol == kind
        assert n.local_port == _s(row.get("local_interface"))
        if kind == "cdp":
            # the Device ID: IOS's template names it neighbor_name, NX-OS's chassis_id
            assert n.remote_name == (_s(row.get("chassis_id")) or _s(row.get("neighbor_name")))
            assert n.remote_port == _s(row.get("neighbor_interface"))
            assert n.remote_chassis_id == ""
            assert n.remote_platform == _s(row.get("platform"))
        else:
            assert n.remote_name == _s(row.get("neighbor_name")).strip('"')
            port = _s(row.get("neighbor_port_id")) or _s(row.get("neighbor_interface"))
            assert _hexish(n.remote_port) == _hexish(port.strip('"'))
            assert _hexish(n.remote_chassis_id) == _hexish(_s(row.get("chassis_id")))
        assert n.remote_address == _ip_or_empty(_s(row.get("mgmt_address")))
        assert n.remote_description == _s(row.get("neighbor_description")).strip('"')
    return len(expected)
