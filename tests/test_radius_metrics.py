"""RADIUS and F-Ticks metrics: values from the store, bounded realm cardinality, clean exposition."""

from __future__ import annotations

import subprocess
import time
from collections import Counter

from prometheus_client.parser import text_string_to_metric_families

from collectors.radius import codec
from collectors.radius.fticks import FTicksEvent
from collectors.radius.listener import Batch
from exporters.prometheus import exposition
from netmon.store import Store
from netmon.store.radius import SessionSettings
from tests.conftest import require_tool
from tests.radius_peers import KEY

REALMS = {"uni.example": 5, "college.example": 3, "poly.example": 2, "med.example": 1, "tiny.example": 1}


def build(path) -> str:
    store = Store(path)
    now = time.time()
    records, n = [], 0
    for realm, count in REALMS.items():
        for _ in range(count):
            n += 1
            records.append(codec.AccountingRecord(
                nas="wlc-city", received=now, status=codec.START, session_id=f"s{n}",
                user_name=f"u{n}@{realm}", calling_station=f"02:00:00:00:00:{n:02x}",
                called_station="00-3A-A0-00-00-01:eduroam",
            ))  # fmt: skip
    for k in range(4):
        records.append(codec.AccountingRecord(
            nas="wlc-city", received=now, status=codec.START, session_id=f"c{k}",
            called_station="00-3A-A0-00-00-02:CityWiFi",
        ))  # fmt: skip
    records.append(codec.AccountingRecord(nas="wlc-city", received=now, status=codec.STOP, session_id="c0"))
    batch = Batch(records, Counter({("unknown", "bad_authenticator"): 2}), {"wlc-city": 1_700_000_000.0})
    store.record_radius(batch, KEY, SessionSettings())
    events = [FTicksEvent(now, "uni.example", "OK", repeat=3), FTicksEvent(now, "uni.example", "FAIL")]
    store.record_fticks(events, KEY, malformed=2)
    store.close()
    return exposition(path, process_metrics=False, top_realms=3)


def test_radius_metric_values(tmp_path):
    families = {f.name: f for f in text_string_to_metric_families(build(tmp_path / "n.db"))}

    def samples(name, label):
        return {s.labels[label]: s.value for s in families[name].samples if not s.name.endswith("_created")}

    assert samples("netmon_eduroam_sessions_active", "realm") == {
        "uni.example": 5.0, "college.example": 3.0, "poly.example": 2.0, "other": 2.0,
    }  # fmt: skip
    assert samples("netmon_radius_sessions_active", "ssid") == {"eduroam": 12.0, "CityWiFi": 3.0}
    packets = {(s.labels["type"], s.labels["result"]): s.value for s in families["netmon_radius_packets"].samples}
    assert packets == {("start", "ok"): 16.0, ("stop", "ok"): 1.0, ("unknown", "bad_authenticator"): 2.0}
    assert samples("netmon_radius_last_packet_timestamp_seconds", "nas") == {"wlc-city": 1_700_000_000.0}
    assert samples("netmon_fticks_events", "result") == {"OK": 3.0, "FAIL": 1.0}
    assert [s.value for s in families["netmon_fticks_malformed_lines"].samples] == [2.0]


def test_radius_exposition_passes_promtool(tmp_path):
    promtool = require_tool("promtool")
    text = build(tmp_path / "n.db")
    r = subprocess.run([promtool, "check", "metrics"], input=text, capture_output=True, text=True, timeout=30)
    assert r.returncode == 0 and r.stdout == "" and r.stderr == "", r.stdout + r.stderr
    assert "@" not in text and "02:00:00" not in text  # no user names or MACs in any label
