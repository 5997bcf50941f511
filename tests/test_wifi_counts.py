"""Wi-Fi client counts written only when they change: the store stays small, every reader sees each poll."""

from __future__ import annotations

import sqlite3
from datetime import datetime
from zoneinfo import ZoneInfo

from hypothesis import given, settings
from hypothesis import strategies as st

from netmon.store import Store
from netmon.store.migrations import MIGRATIONS
from netmon.store.usage import _sample_peaks
from netmon.store.wifi import FULL_EVERY, poll_counts, record_counts
from tests.test_wifi import APS, client, poll, setup

T0 = datetime(2026, 5, 12, 8, tzinfo=ZoneInfo("UTC")).timestamp()


def count_rows(store) -> int:
    return store.conn.execute("SELECT count(*) FROM wifi_counts").fetchone()[0]


def test_unchanged_polls_do_not_grow_the_samples_and_usage_sees_every_poll(tmp_path):
    store, wlc, site_of, _ = setup(tmp_path)
    clients = [client(f"a4:83:e7:00:00:{i:02x}", APS[i % 2].mac) for i in range(5)]
    n = 50  # 50 minutes of polls, the same 5 clients on 2 APs
    for k in range(n):
        poll(store, wlc, site_of, T0 + 60 * k, *clients)
    # then one AP gets a sixth client at one poll only
    poll(store, wlc, site_of, T0 + 60 * n, *clients, client("f0:18:98:aa:bb:cc", APS[0].mac))
    poll(store, wlc, site_of, T0 + 60 * (n + 1), *clients)
    # per poll, 2 rows (AP x SSID): once, then only the two changes
    assert count_rows(store) == 2 + 1 + 1
    assert store.conn.execute("SELECT count(*) FROM wifi_polls").fetchone()[0] == n + 2
    # what every poll wrote before, built by hand: AP 1 had 3 clients (4 at poll n), AP 2 had 2
    per_poll = {T0 + 60 * k: {(APS[0].mac, "CityWiFi"): 3, (APS[1].mac, "CityWiFi"): 2} for k in range(n + 2)}
    per_poll[T0 + 60 * n][(APS[0].mac, "CityWiFi")] = 4
    read = {p.ts: p.counts for p in poll_counts(store.conn, T0, T0 + 86400)}
    assert read == per_poll
    # a window starting mid-way still sees the counts carried from before it
    assert {p.ts: p.counts for p in poll_counts(store.conn, T0 + 600, T0 + 660)} == {T0 + 600: per_poll[T0 + 600]}
    assert _sample_peaks(store.conn, T0, T0 + 86400) == {APS[0].mac: (4, T0 + 60 * n), APS[1].mac: (2, T0)}
    latest = {(s["ap_mac"], s["ssid"]): s["clients"] for s in store.latest_wifi_samples()}
    assert latest == {(APS[0].mac, "CityWiFi"): 3, (APS[1].mac, "CityWiFi"): 2}


def test_a_count_that_goes_away_reads_as_zero_and_latest_follows(tmp_path):
    store, wlc, site_of, _ = setup(tmp_path)
    poll(store, wlc, site_of, T0, client("a4:83:e7:00:00:01", APS[0].mac), client("a4:83:e7:00:00:02", APS[1].mac))
    poll(store, wlc, site_of, T0 + 60, client("a4:83:e7:00:00:01", APS[0].mac))
    poll(store, wlc, site_of, T0 + 120)
    assert [p.counts for p in poll_counts(store.conn, T0, T0 + 180)] == [
        {(APS[0].mac, "CityWiFi"): 1, (APS[1].mac, "CityWiFi"): 1},
        {(APS[0].mac, "CityWiFi"): 1},
        {},
    ]
    assert store.latest_wifi_samples() == []


def test_retention_keeps_the_counts_held_across_the_cutoff(tmp_path):
    store, wlc, site_of, _ = setup(tmp_path)
    clients = [client("a4:83:e7:00:00:01", APS[0].mac), client("a4:83:e7:00:00:02", APS[0].mac)]
    day = 86400.0
    for k in range(0, 3 * 24):  # 3 days of hourly polls + 1: nothing changes after the first
        poll(store, wlc, site_of, T0 + 3600 * k + 1, *clients)
    now = T0 + 3 * day
    store.apply_retention(1, ZoneInfo("UTC"), now=now)
    kept = list(poll_counts(store.conn, 0, now))
    assert kept and all(p.counts == {(APS[0].mac, "CityWiFi"): 2} for p in kept)
    assert min(p.ts for p in kept) >= datetime(2026, 5, 14, tzinfo=ZoneInfo("UTC")).timestamp()
    assert store.latest_wifi_samples()[0]["clients"] == 2


def test_migration_8_turns_per_poll_rows_into_full_polls(tmp_path):
    path = tmp_path / "old.db"
    conn = sqlite3.connect(path)
    from netmon.store.db import statements

    conn.execute("CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, applied_at REAL NOT NULL)")
    for version, script in enumerate(MIGRATIONS[:7], start=1):
        for s in statements(script):
            conn.execute(s)
        conn.execute("INSERT INTO schema_migrations VALUES (?, 0)", (version,))
    conn.execute("INSERT INTO sites (id, name, kind) VALUES (1, 'library', 'library')")
    conn.execute("INSERT INTO devices (id, hostname, address, site_id, role) VALUES (1, 'wlc-1', '::1', 1, 'wlc')")
    old = [(T0, 1, "", "", 0), (T0, 1, APS[0].mac, "CityWiFi", 3), (T0, 1, APS[0].mac, "eduroam", 1),
           (T0 + 60, 1, "", "", 0), (T0 + 60, 1, APS[0].mac, "CityWiFi", 2)]  # fmt: skip
    conn.executemany("INSERT INTO wifi_samples VALUES (?, ?, ?, ?, ?)", old)
    conn.commit()
    conn.close()
    store = Store(path)
    assert [p.counts for p in poll_counts(store.conn, 0, T0 + 3600)] == [
        {(APS[0].mac, "CityWiFi"): 3, (APS[0].mac, "eduroam"): 1},
        {(APS[0].mac, "CityWiFi"): 2},
    ]
    assert [(s["ap_mac"], s["ssid"], s["clients"]) for s in store.latest_wifi_samples()] == [
        (APS[0].mac, "CityWiFi", 2)
    ]
    poll(store, store.devices()[0], lambda ap: 1, T0 + 120, client("a4:83:e7:00:00:01", APS[0].mac))
    assert [p.counts for p in poll_counts(store.conn, T0 + 100, T0 + 200)] == [{(APS[0].mac, "CityWiFi"): 1}]


keys = st.sampled_from([(ap.mac, ssid) for ap in APS for ssid in ("CityWiFi", "eduroam")] + [("", "CityWiFi")])
series = st.lists(st.dictionaries(keys, st.integers(0, 40), max_size=5), min_size=1, max_size=40)


@settings(max_examples=40, deadline=None)
@given(series=series, step=st.sampled_from([20.0, 60.0, 700.0]), lo=st.integers(0, 45))
def test_change_only_rows_read_back_as_the_per_poll_series(tmp_path_factory, series, step, lo):
    store = Store(tmp_path_factory.mktemp("p") / "n.db")
    try:
        with store.transaction() as c:
            c.execute("INSERT INTO sites (id, name, kind) VALUES (1, 's', 's')")
            c.execute("INSERT INTO devices (id, hostname, address, site_id, role) VALUES (1, 'w', '::1', 1, 'wlc')")
            for k, counts in enumerate(series):
                record_counts(c, 1, T0 + step * k, counts)
        expected = {T0 + step * k: {key: n for key, n in counts.items() if n} for k, counts in enumerate(series)}
        window = {ts: v for ts, v in expected.items() if ts >= T0 + step * lo}
        assert {p.ts: p.counts for p in poll_counts(store.conn, T0 + step * lo, T0 + FULL_EVERY * 100)} == window
        peaks: dict[str, tuple[int, float]] = {}
        for ts, counts in sorted(window.items()):
            per_ap: dict[str, int] = {}
            for (mac, _), n in counts.items():
                if mac:
                    per_ap[mac] = per_ap.get(mac, 0) + n
            for mac, n in per_ap.items():
                if mac not in peaks or n > peaks[mac][0]:
                    peaks[mac] = (n, ts)
        assert _sample_peaks(store.conn, T0 + step * lo, T0 + FULL_EVERY * 100) == peaks
    finally:
        store.close()
